"""Score raw rows with an exported artifact: ``load_predictor(path).predict(rows)``.

An artifact written by ``lit-ctr export`` (:mod:`lit_ctr.export`) holds the network and
its preprocessing (schema, file format, vocabulary) in one file:

- TorchScript (``.pt``): the traced network, loadable with ``torch.jit.load``, plus the
  preprocessing as the extra file ``lit_ctr.json``;
- ONNX (``.onnx``): the network, plus the same JSON in the model's metadata under
  ``lit_ctr`` (run with onnxruntime).

Both networks take ``ids [batch, id columns]`` (global ids, the dtype in the metadata:
one column per categorical field, then ``max_len`` columns per multi-valued field, padded
with -1) and ``numeric [batch, numeric fields + W]`` (float32, already scaled; then the
``W`` value weights of weighted multi-valued fields, aligned with their id columns) and return
click probabilities ``[batch]``. Encoding raw rows uses :mod:`lit_ctr.data.rows`, never the
model classes. A lit-ctr checkpoint (``.ckpt``) is accepted too: it is read through
:func:`lit_ctr.checkpoint.load_model`, which builds lit-ctr's own model classes only (a
class of your own is used when you name it: ``load_predictor(path, model_class=MyFM)``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lit_ctr.data.rows import Rows, encode_rows
from lit_ctr.data.schema import Schema
from lit_ctr.errors import CheckpointError, ConfigError

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
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
        arrays = encode_rows(self.preprocessing, rows, file_format)
        ids, numeric = np.asarray(arrays.ids), np.asarray(arrays.numeric, dtype=np.float32)
        out = [
            np.asarray(self.network(ids[i : i + batch_size], numeric[i : i + batch_size]), dtype=np.float32).reshape(-1)
            for i in range(0, len(arrays), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def __repr__(self) -> str:
        return f"Predictor({self.metadata.get('model_class', '?')}, {self.kind})"


def load_predictor(path: str | Path, model_class: type | str | None = None) -> Predictor:
    """Load an artifact of ``lit-ctr export`` (TorchScript or ONNX), or a lit-ctr checkpoint.

    Args:
        path: a ``.pt`` or ``.onnx`` file of ``lit-ctr export``, or a ``.ckpt`` of ``lit-ctr fit``.
        model_class: for a checkpoint of a model class that is not lit-ctr's own: that class
            (or its dotted path). A checkpoint never chooses the code that runs.

    Raises:
        CheckpointError: the file is missing, a folder, damaged, or not lit-ctr's.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError("is a directory, expected a checkpoint (.ckpt) or an export (.pt, .onnx)", file=str(path))
    if not path.is_file():
        raise CheckpointError("no such file", file=str(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(name.endswith(f"extra/{METADATA_NAME}") for name in names):
            return _load_torchscript(path)
        if any(name.endswith("/constants.pkl") for name in names):  # TorchScript, but not lit-ctr's export
            raise CheckpointError(
                "is a TorchScript file without lit-ctr's preprocessing inside (not written by lit-ctr export)",
                file=str(path),
            )
        return _load_checkpoint(path, model_class)
    if path.suffix != ".onnx":  # a damaged checkpoint, or another program's file: read_checkpoint says which
        return _load_checkpoint(path, model_class)
    return _load_onnx(path)


def _check(metadata: dict[str, Any], path: Path) -> dict[str, Any]:
    if not isinstance(metadata, dict) or metadata.get("format") != "lit-ctr" or "preprocessing" not in metadata:
        raise CheckpointError("not a lit-ctr export (no preprocessing inside)", file=str(path))
    if int(metadata.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"written by a newer lit-ctr (format {metadata['format_version']}); this one reads up to {FORMAT_VERSION}",
            file=str(path),
        )
    return metadata


def _load_torchscript(path: Path) -> Predictor:
    import torch

    extra = {METADATA_NAME: ""}
    try:
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
        metadata = json.loads(extra[METADATA_NAME])
    except Exception as error:  # noqa: BLE001 - torch.jit and json raise their own types
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise CheckpointError(f"damaged TorchScript export ({reason})", file=str(path)) from None
    module.eval()
    metadata = _check(metadata, path)

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
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own exception types
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise CheckpointError(f"not a TorchScript or ONNX file ({reason})", file=str(path)) from None
    text = session.get_modelmeta().custom_metadata_map.get(ONNX_METADATA_KEY)
    if text is None:
        raise CheckpointError("not a lit-ctr export (no preprocessing inside)", file=str(path))
    try:
        metadata = json.loads(text)
    except ValueError:
        raise CheckpointError("damaged ONNX export (its lit_ctr metadata is not JSON)", file=str(path)) from None
    metadata = _check(metadata, path)
    wanted = {i.name for i in session.get_inputs()}  # an unused input (no numeric fields) may be absent

    def network(ids: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        feed = {k: v for k, v in (("ids", ids), ("numeric", numeric)) if k in wanted}
        return session.run(None, feed)[0]

    return Predictor(network, metadata, "onnx")


def _load_checkpoint(path: Path, model_class: type | str | None) -> Predictor:
    import torch

    from lit_ctr.checkpoint import load_model  # needs torch and the model classes

    model = load_model(path, model_class)

    def network(ids: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.sigmoid(model(torch.from_numpy(ids), torch.from_numpy(numeric)).float()).numpy()

    metadata = {
        "preprocessing": model.preprocessing,
        "model_class": type(model).__name__,
        "hyper_parameters": dict(model.hparams),
    }
    return Predictor(network, metadata, "checkpoint")
