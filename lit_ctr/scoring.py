"""Score raw rows with a checkpoint alone: no config, no training files, no cache.

Every lit-ctr checkpoint carries the model's class, its primitive hyper-parameters,
and the schema, file format and vocabulary it was trained with
(:meth:`~lit_ctr.models.base.CTRModule.on_save_checkpoint`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import torch

from lit_ctr.checkpoint import find_preprocessing
from lit_ctr.data.errors import DataError
from lit_ctr.data.rows import Rows, encode_rows
from lit_ctr.models.base import CHECKPOINT_KEY, CTRModule

__all__ = ["Rows", "encode_rows", "load_model", "score"]


def load_model(checkpoint_path: str | Path) -> CTRModule:
    """The model of a lit-ctr checkpoint, in eval mode on the CPU."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    state = checkpoint.get(CHECKPOINT_KEY)
    preprocessing = find_preprocessing(checkpoint)
    if not state or "model_class" not in state or preprocessing is None:
        raise DataError("not a lit-ctr checkpoint (no schema and vocabulary inside)", file=str(checkpoint_path))
    module_name, _, class_name = state["model_class"].rpartition(".")
    # Format 2 names lit-ctr's own models by their short name.
    model_class = getattr(importlib.import_module(module_name or "lit_ctr.models"), class_name)
    model = model_class.load_from_checkpoint(checkpoint_path, map_location="cpu", weights_only=True)
    model.preprocessing = preprocessing
    model.eval()
    return model


@torch.no_grad()
def score(checkpoint_path: str | Path, rows: Rows, batch_size: int = 65_536) -> np.ndarray:
    """Click probabilities ``[rows]`` of raw rows, in input order."""
    model = load_model(checkpoint_path)
    arrays = encode_rows(model.preprocessing, rows)
    ids = torch.from_numpy(np.asarray(arrays.ids))
    numeric = torch.from_numpy(np.asarray(arrays.numeric))
    out = [
        torch.sigmoid(model(ids[i : i + batch_size], numeric[i : i + batch_size]).float())
        for i in range(0, len(arrays), batch_size)
    ]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)
