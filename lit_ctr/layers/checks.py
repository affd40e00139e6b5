"""Checks of the hyper-parameters users type, raising one located :class:`ConfigError`."""

from __future__ import annotations

from collections.abc import Sequence

from lit_ctr.errors import ConfigError


def check_int_at_least(key: str, value: object, minimum: int) -> int:
    """``value`` as an int, or ``ConfigError("model.<key>: expected an integer >= minimum, got value")``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"model.{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def check_widths(key: str, widths: Sequence[object]) -> list[int]:
    """Layer widths: a list of integers >= 1."""
    values = list(widths)
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in values):
        raise ConfigError(f"model.{key}: expected a list of integers >= 1, got {values!r}")
    return [w for w in values if isinstance(w, int)]


def check_non_negative(key: str, value: float) -> float:
    """A weight such as an L2 coefficient: a number >= 0."""
    if not value >= 0:  # also refuses NaN
        raise ConfigError(f"model.{key}: expected a number >= 0, got {value!r}")
    return float(value)


def check_probability(key: str, value: float) -> float:
    """A dropout rate: a number in [0, 1)."""
    if not 0 <= value < 1:
        raise ConfigError(f"model.{key}: expected a number in [0, 1), got {value!r}")
    return float(value)
