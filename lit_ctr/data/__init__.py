"""Data, by stage: schema → readers → checks → vocabulary → encoding → cache → batching,
run by the pipeline and driven by the DataModule.

The DataModules are imported on first use (module ``__getattr__``): they import
Lightning (seconds), which scoring an exported model with :func:`lit_ctr.load_predictor`
must not need. ``from lit_ctr.data import CTRDataModule`` works as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lit_ctr.data.errors import DataError, SchemaError
from lit_ctr.data.schema import Field, FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary

if TYPE_CHECKING:
    from lit_ctr.data.datamodule import CTRDataModule
    from lit_ctr.synthetic.datamodule import SyntheticCTRDataModule

_LAZY = {
    "CTRDataModule": "lit_ctr.data.datamodule",
    "SyntheticCTRDataModule": "lit_ctr.synthetic.datamodule",
}

__all__ = [
    "CTRDataModule",
    "DataError",
    "Field",
    "FileFormat",
    "Schema",
    "SchemaError",
    "SyntheticCTRDataModule",
    "Vocabulary",
    "fit_vocabulary",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'lit_ctr.data' has no attribute {name!r}")
