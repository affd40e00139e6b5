"""lit-ctr: CTR prediction with the factorization-machine family on PyTorch Lightning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_predictor"]

if TYPE_CHECKING:
    from lit_ctr.predictor import load_predictor


def __getattr__(name: str) -> Any:
    # Lazy, so `import lit_ctr` stays light: the predictor pulls in polars and numpy.
    if name == "load_predictor":
        from lit_ctr.predictor import load_predictor

        return load_predictor
    raise AttributeError(f"module 'lit_ctr' has no attribute {name!r}")
