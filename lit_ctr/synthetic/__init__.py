"""Synthetic Criteo-shaped data with a planted FM: the generator, its files, and the
DataModule that reads them through the ordinary pipeline (imported on first use: it
imports Lightning, which generating files does not need)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lit_ctr.synthetic.files import MANIFEST_NAME, write_synthetic
from lit_ctr.synthetic.generator import (
    DEFAULT_SPLITS,
    PlantedTruth,
    SyntheticSpec,
    bayes_optimal_auc,
    criteo_like_cardinalities,
    generate_chunks,
    generate_frame,
)

if TYPE_CHECKING:
    from lit_ctr.synthetic.datamodule import SyntheticCTRDataModule

__all__ = [
    "DEFAULT_SPLITS",
    "MANIFEST_NAME",
    "PlantedTruth",
    "SyntheticCTRDataModule",
    "SyntheticSpec",
    "bayes_optimal_auc",
    "criteo_like_cardinalities",
    "generate_chunks",
    "generate_frame",
    "write_synthetic",
]


def __getattr__(name: str) -> Any:
    if name == "SyntheticCTRDataModule":
        value = importlib.import_module("lit_ctr.synthetic.datamodule").SyntheticCTRDataModule
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lit_ctr.synthetic' has no attribute {name!r}")
