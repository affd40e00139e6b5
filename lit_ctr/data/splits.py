"""Split fractions: the one check for the DataModule's ``split_fractions`` and the
synthetic data's ``splits``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from lit_ctr.data.errors import DataError

DEFAULT_SPLIT_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)
"""How one ``path`` is cut into train/valid/test when ``split_fractions`` is not given."""


def check_fractions(fractions: Mapping[str, object], key: str, *, empty_ok: bool) -> dict[str, float]:
    """Named split fractions as floats, or a :class:`DataError` naming ``key``.

    Each fraction must be finite and ``>= 0`` (``> 0`` unless ``empty_ok``), and together
    they must sum to 1 within 1e-6.
    """
    if not fractions:
        raise DataError(f"{key}: expected at least one split")
    checked = {}
    for name, value in fractions.items():
        try:
            fraction = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            fraction = math.nan
        if not math.isfinite(fraction) or fraction < 0 or (fraction == 0 and not empty_ok):
            bound = ">= 0" if empty_ok else "> 0"
            raise DataError(f"{key}[{name!r}]: expected a fraction {bound}, got {value!r}")
        checked[name] = fraction
    total = math.fsum(checked.values())
    if abs(total - 1.0) > 1e-6:
        raise DataError(f"{key}: the fractions must sum to 1 (within 1e-6), got {total!r}")
    return checked
