"""Former home of the synthetic data generator, now :mod:`lit_ctr.synthetic`; these names
stay importable from here for existing scripts."""

from lit_ctr.synthetic import (
    DEFAULT_SPLITS,
    MANIFEST_NAME,
    PlantedTruth,
    SyntheticSpec,
    bayes_optimal_auc,
    criteo_like_cardinalities,
    generate_chunks,
    generate_frame,
    write_synthetic,
)

__all__ = [
    "DEFAULT_SPLITS",
    "MANIFEST_NAME",
    "PlantedTruth",
    "SyntheticSpec",
    "bayes_optimal_auc",
    "criteo_like_cardinalities",
    "generate_chunks",
    "generate_frame",
    "write_synthetic",
]
