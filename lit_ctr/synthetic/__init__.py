"""Synthetic Criteo-shaped data with a planted FM: the generator, its files, and the
DataModule that reads them through the ordinary pipeline."""

import lit_ctr.data  # noqa: F401 - first: the data package imports SyntheticCTRDataModule from here
from lit_ctr.synthetic.datamodule import SyntheticCTRDataModule
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
