"""Score raw rows with an exported artifact: ``load_predictor(path).predict(rows)``.

An artifact written by ``lit-ctr export`` (:mod:`lit_ctr.export`) holds the network and
its preprocessing (schema, file format, vocabulary) in one file:

- TorchScript (``.pt``): the traced network, loadable with ``torch.jit.load``, plus the
  preprocessing as the extra file ``lit_ctr.json``;
- ONNX (``.onnx``): the network, plus the same JSON in the model's metadata under
  ``lit_ctr`` (run with onnxruntime).

Both networks take ``ids [batch, categorical fields]`` (global ids, the dtype in the
metadata) and ``numeric [batch, numeric fields]`` (float32) and return click
probabilities ``[batch]``. Encoding raw rows uses :mod:`lit_ctr.data.rows`, never the
model classes. A lit-ctr checkpoint (``.ckpt``) is accepted too; it needs the model's
class to be importable.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lit_ctr.data.errors import DataError
from lit_ctr.data.rows import Rows, encode_rows
from lit_ctr.data.schema import Schema

METADATA_NAME = "lit_ctr.json"
"""Name of the TorchScript extra file, and of the ONNX metadata key (without ``.json``)."""
ONNX_METADATA_KEY = "lit_ctr"
FORMAT_VERSION = 1


class Predictor:
    """Click probabilities of raw rows, from an exported model and its preprocessing.

    Args:
        network: ``(ids, numeric) -> probabilities`` on numpy arrays.
        metadata: what the artifact stores: ``preprocessing`` (schema, file format,
            vocabulary), ``model_class``, ``hyper_parameters``, ``inputs``.
        kind: ``torchscript``, ``onnx`` or ``checkpoint``.
    """

    def __init__(
        self, network: Callable[[np.ndarray, np.ndarray], np.ndarray], metadata: dict[str, Any], kind: str
    ) -> None:
        self.network = network
        self.metadata = metadata
        self.kind = kind

    @property
    def preprocessing(self) -> dict[str, Any]:
        """Schema, file format and vocabulary as plain data."""
        return self.metadata["preprocessing"]

    @property
    def schema(self) -> Schema:
        """The fields the rows must have (the label is optional)."""
        return Schema.from_dict(self.preprocessing["schema"])

    def predict(self, rows: Rows, batch_size: int = 65_536, file_format: dict[str, Any] | None = None) -> np.ndarray:
        """Click probabilities ``[rows]`` (float32), in input order.

        Args:
            rows: a CSV/TSV/Parquet/libFM path or glob, a polars or pandas frame, or a
                list of dicts. Unseen values get the field's out-of-vocabulary id,
                missing ones its missing-value id.
            batch_size: rows per forward pass.
            file_format: how to read a path (a :class:`~lit_ctr.data.schema.FileFormat`
                as a dict, e.g. ``{"kind": "csv"}`` for a CSV with a header); default:
                the format of the training files.
        """
        arrays = encode_rows(self.preprocessing, rows, file_format)
        ids, numeric = np.asarray(arrays.ids), np.asarray(arrays.numeric, dtype=np.float32)
        out = [
            np.asarray(self.network(ids[i : i + batch_size], numeric[i : i + batch_size]), dtype=np.float32).reshape(-1)
            for i in range(0, len(arrays), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def __repr__(self) -> str:
        return f"Predictor({self.metadata.get('model_class', '?')}, {self.kind})"


def load_predictor(path: str | Path) -> Predictor:
    """Load an artifact of ``lit-ctr export`` (TorchScript or ONNX), or a lit-ctr checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", file=str(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            scripted = any(name.endswith(f"extra/{METADATA_NAME}") for name in archive.namelist())
        return _load_torchscript(path) if scripted else _load_checkpoint(path)
    return _load_onnx(path)


def _check(metadata: dict[str, Any], path: Path) -> dict[str, Any]:
    if metadata.get("format") != "lit-ctr" or "preprocessing" not in metadata:
        raise DataError("not a lit-ctr export (no preprocessing inside)", file=str(path))
    if int(metadata.get("format_version", 0)) > FORMAT_VERSION:
        raise DataError(
            f"written by a newer lit-ctr (format {metadata['format_version']}); this one reads up to {FORMAT_VERSION}",
            file=str(path),
        )
    return metadata


def _load_torchscript(path: Path) -> Predictor:
    import torch

    extra = {METADATA_NAME: ""}
    module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    module.eval()
    metadata = _check(json.loads(extra[METADATA_NAME]), path)

    def network(ids: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(
                torch.from_numpy(np.ascontiguousarray(ids)), torch.from_numpy(np.ascontiguousarray(numeric))
            ).numpy()

    return Predictor(network, metadata, "torchscript")


def _load_onnx(path: Path) -> Predictor:
    try:
        import onnxruntime
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError("scoring an ONNX export needs onnxruntime: pip install 'lit-ctr[onnx]'") from error
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise DataError(f"not a TorchScript or ONNX file ({error})", file=str(path)) from error
    text = session.get_modelmeta().custom_metadata_map.get(ONNX_METADATA_KEY)
    if text is None:
        raise DataError("not a lit-ctr export (no preprocessing inside)", file=str(path))
    metadata = _check(json.loads(text), path)
    wanted = {i.name for i in session.get_inputs()}  # an unused input (no numeric fields) may be absent

    def network(ids: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        feed = {k: v for k, v in (("ids", ids), ("numeric", numeric)) if k in wanted}
        return session.run(None, feed)[0]

    return Predictor(network, metadata, "onnx")


def _load_checkpoint(path: Path) -> Predictor:
    import torch

    from lit_ctr.scoring import load_model  # needs the model classes

    model = load_model(path)

    def network(ids: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.sigmoid(model(torch.from_numpy(ids), torch.from_numpy(numeric)).float()).numpy()

    metadata = {"preprocessing": model.preprocessing, "model_class": type(model).__name__}
    return Predictor(network, metadata, "checkpoint")
