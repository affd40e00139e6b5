"""Score raw rows with a checkpoint alone: no config, no training files, no cache.

Every lit-ctr checkpoint carries the model's class, its primitive hyper-parameters,
and the schema, file format and vocabulary it was trained with
(:meth:`~lit_ctr.models.base.CTRModule.on_save_checkpoint`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from lit_ctr.data.encoding import EncodedArrays, encode, prepare
from lit_ctr.data.errors import DataError
from lit_ctr.data.readers import RawTable, expand_paths, read_table
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary
from lit_ctr.models.base import CHECKPOINT_KEY, CTRModule

Rows = str | Path | pl.DataFrame | list[dict[str, Any]]


def load_model(checkpoint_path: str | Path) -> CTRModule:
    """The model of a lit-ctr checkpoint, in eval mode on the CPU."""
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    state = checkpoint.get(CHECKPOINT_KEY)
    if not state or "model_class" not in state:
        raise DataError("not a lit-ctr checkpoint (no schema and vocabulary inside)", file=str(checkpoint_path))
    module_name, _, class_name = state["model_class"].rpartition(".")
    model_class = getattr(importlib.import_module(module_name), class_name)
    model = model_class.load_from_checkpoint(checkpoint_path, map_location="cpu", weights_only=True)
    model.eval()
    return model


def encode_rows(preprocessing: dict[str, Any], rows: Rows) -> EncodedArrays:
    """Encode raw rows (label optional) with a checkpoint's schema and vocabulary.

    ``rows`` is a file path or glob (read with the training file format), a polars
    frame, or a list of dicts; values unseen in training map to the OOV id.
    """
    schema = Schema.from_dict(preprocessing["schema"])
    vocabulary = Vocabulary.from_dict(preprocessing["vocabulary"])
    file_format = FileFormat(**preprocessing["file_format"])
    tables = [_table(rows, schema)] if not isinstance(rows, (str, Path)) else [
        read_table(p, schema, file_format, require_label=False) for p in expand_paths(rows)
    ]
    frames = [prepare(t, schema, require_label=False) for t in tables]
    return encode(frames, schema, vocabulary)


def _table(rows: pl.DataFrame | list[dict[str, Any]], schema: Schema) -> RawTable:
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows, infer_schema_length=None)
    names = [f.name for f in schema.fields]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"the rows lack schema column(s) {missing}; they have {frame.columns}", file="<rows>")
    keep = ([schema.label] if schema.label in frame.columns else []) + names
    frame = frame.select(pl.col(c).cast(pl.String) for c in keep)
    return RawTable("<rows>", frame, None)


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
