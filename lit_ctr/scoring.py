"""Score raw rows with a checkpoint alone: ``score(path, rows)``, kept as a short alias of
:func:`lit_ctr.load_predictor` (``load_predictor(path).predict(rows)``), which takes
checkpoints and exported artifacts alike.

Every lit-ctr checkpoint carries the model's class, its primitive hyper-parameters,
and the schema, file format and vocabulary it was trained with (:mod:`lit_ctr.checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lit_ctr.checkpoint import load_model
from lit_ctr.data.rows import Rows, encode_rows
from lit_ctr.predictor import load_predictor

__all__ = ["Rows", "encode_rows", "load_model", "score"]


def score(
    checkpoint_path: str | Path, rows: Rows, batch_size: int = 65_536, model_class: type | str | None = None
) -> np.ndarray:
    """Click probabilities ``[rows]`` of raw rows, in input order:
    ``load_predictor(checkpoint_path, model_class).predict(rows, batch_size)``."""
    return load_predictor(checkpoint_path, model_class=model_class).predict(rows, batch_size=batch_size)
