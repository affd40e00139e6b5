"""The one place that imports torchrec, so a missing extra is one clear error."""

from __future__ import annotations

import importlib
from types import ModuleType

from lit_ctr.errors import ConfigError

INSTALL = 'pip install -e ".[torchrec]" && pip install --no-deps torchrec==1.8.0'


def require_torchrec(key: str = "model.embedding") -> ModuleType:
    """``torchrec``, or a :class:`ConfigError` naming ``key`` and the install command.

    torchrec is installed with ``--no-deps`` because its wheel requires the CUDA
    ``fbgemm-gpu`` (whose library shadows the CPU build) and an old torchmetrics pin.
    """
    try:
        return importlib.import_module("torchrec")
    except (ImportError, OSError) as error:  # OSError: an fbgemm library that fails to load
        raise ConfigError(
            f"{key}: 'sharded' needs torchrec, which is not installed ({error}); install it with: {INSTALL}"
        ) from None
