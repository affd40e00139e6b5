"""``lit-ctr export``: a checkpoint → one self-contained artifact for serving.

The artifact holds the network and everything needed to encode raw rows (the schema,
file format and vocabulary the model was trained with), so
:func:`lit_ctr.load_predictor` scores raw rows from it without the model classes,
Lightning or any config::

    lit-ctr export --ckpt_path runs/frappe-deepfm/version_0/checkpoints/best.ckpt \\
        --format torchscript --output deepfm.pt

    from lit_ctr import load_predictor
    probabilities = load_predictor("deepfm.pt").predict("new_rows.csv")

TorchScript artifacts need only ``torch``; ONNX artifacts need ``onnx`` to write and
``onnxruntime`` to score (``pip install 'lit-ctr[onnx]'``).
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

import lit_ctr
from lit_ctr.checkpoint import load_model
from lit_ctr.data.schema import Schema
from lit_ctr.data.vocabulary import PAD_ID, Vocabulary
from lit_ctr.errors import ConfigError
from lit_ctr.predictor import FORMAT_VERSION, METADATA_NAME, ONNX_METADATA_KEY, load_predictor

log = logging.getLogger("lit_ctr")

SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx"}


class _Probabilities(nn.Module):
    """The exported graph: ``(ids, numeric) -> sigmoid(model(ids, numeric))``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return torch.sigmoid(self.model(ids, numeric).float())


def export(
    ckpt_path: str,
    format: Literal["torchscript", "onnx"] = "torchscript",
    output: str | None = None,
    model: str | None = None,
) -> Path:
    """Write a checkpoint's model, vocabulary and preprocessing into one file.

    Args:
        ckpt_path: a lit-ctr checkpoint (``best.ckpt``, ``last.ckpt``).
        format: ``torchscript`` (``torch.jit.load``-able, the preprocessing as the extra
            file ``lit_ctr.json``) or ``onnx`` (the preprocessing in the model's metadata
            under ``lit_ctr``; needs the ``onnx`` package).
        output: the file to write (default: the checkpoint's path with ``.pt``/``.onnx``).
        model: the model's class as ``package.module.Class``, for a checkpoint of a class
            that is not one of lit-ctr's models (a checkpoint never chooses the code that runs).

    Returns:
        The path written. The export is checked before it returns: the artifact's
        probabilities on a few rows must match the model's within 1e-5.
    """
    if format not in SUFFIXES:
        raise ConfigError(f"format: expected one of {sorted(SUFFIXES)}, got {format!r}")
    loaded: Any = load_model(ckpt_path, model)
    target = Path(output) if output else Path(ckpt_path).with_suffix(SUFFIXES[format])
    if target.is_dir():
        raise ConfigError(f"output: {target} is a directory; expected the file to write (e.g. model{SUFFIXES[format]})")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"output: cannot create the folder of {target} ({error.strerror})") from None
    metadata = _metadata(loaded, format)
    graph = _Probabilities(loaded).eval()
    example = _example_inputs(loaded.preprocessing, int(loaded.hparams.get("num_numeric", 0)), rows=4)
    # A LightningModule's `trainer` property raises outside a Trainer; tracing reads every
    # attribute, so mark it as being scripted (what LightningModule.to_torchscript does).
    loaded._jit_is_scripting = True
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*is deprecated.*", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*is deprecated.*", category=FutureWarning)
            if format == "torchscript":
                _write_torchscript(graph, example, metadata, target)
            else:
                _write_onnx(graph, example, metadata, target)
    finally:
        loaded._jit_is_scripting = False
    _verify(graph, target, loaded.preprocessing, int(loaded.hparams.get("num_numeric", 0)))
    log.info("lit-ctr: wrote %s (%s, %s)", target, format, metadata["model_class"])
    return target


def _metadata(model: Any, format: str) -> dict[str, Any]:
    preprocessing = {k: v for k, v in model.preprocessing.items() if k != "model_class"}
    own = type(model).__module__.startswith("lit_ctr.models")
    model_class = type(model).__name__ if own else f"{type(model).__module__}.{type(model).__qualname__}"
    vocabulary = Vocabulary.from_dict(preprocessing["vocabulary"])
    id_dtype = "int32" if vocabulary.total_size < 2**31 else "int64"
    return {
        "format": "lit-ctr",
        "format_version": FORMAT_VERSION,
        "artifact": format,
        "lit_ctr_version": lit_ctr.__version__,
        "torch_version": torch.__version__,
        "model_class": model_class,
        "hyper_parameters": json.loads(json.dumps(dict(model.hparams), default=str)),
        "preprocessing": preprocessing,
        "inputs": {
            "ids": {"dtype": id_dtype, "shape": ["batch", Schema.from_dict(preprocessing["schema"]).id_columns]},
            "numeric": {"dtype": "float32", "shape": ["batch", _float_columns(preprocessing, model.hparams)]},
        },
        "output": {"name": "probability", "shape": ["batch"]},
    }


def _float_columns(preprocessing: dict[str, Any], hparams: Any) -> int:
    """Columns of the ``numeric`` input: the numeric fields, then the value weights of the
    weighted multi fields."""
    weights = Schema.from_dict(preprocessing["schema"]).weight_columns if "schema" in preprocessing else 0
    return int(hparams.get("num_numeric", 0)) + weights


def _example_inputs(preprocessing: dict[str, Any], num_numeric: int, rows: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Valid global ids (every field's OOV, missing and kept ids; multi-valued fields with
    lists of every length from empty to ``max_len``, padded) and random numeric values,
    followed by the value weights of weighted multi fields (in [0, 2) on values, 0 on padding)."""
    vocabulary = Vocabulary.from_dict(preprocessing["vocabulary"])
    multi = Schema.from_dict(preprocessing["schema"]).multi if "schema" in preprocessing else []
    single = len(vocabulary.fields) - len(multi)
    rng = np.random.default_rng(seed)
    fields = list(zip(vocabulary.sizes, vocabulary.offsets))
    columns = [offset + rng.integers(0, size, rows) for size, offset in fields[:single]]
    weights = []
    for f, (size, offset) in zip(multi, fields[single:]):
        width = int(f.max_len or 0)
        lengths = np.arange(rows) % (width + 1)  # 0 (an empty list) .. max_len
        values = offset + rng.integers(0, size, (rows, width))
        present = np.arange(width) < lengths[:, None]
        columns += list(np.where(present, values, PAD_ID).T)
        if f.value_weights:
            weights.append(np.where(present, rng.uniform(0.0, 2.0, (rows, width)), 0.0))
    dtype = np.int32 if vocabulary.total_size < 2**31 else np.int64
    ids = np.stack(columns, 1).astype(dtype) if columns else np.zeros((rows, 0), dtype)
    numeric = np.concatenate([rng.normal(size=(rows, num_numeric)), *weights], axis=1).astype(np.float32)
    return torch.from_numpy(ids), torch.from_numpy(numeric)


def _write_torchscript(
    graph: nn.Module, example: tuple[Tensor, Tensor], metadata: dict[str, Any], target: Path
) -> None:
    traced = torch.jit.trace(graph, example, check_trace=False)
    traced.save(str(target), _extra_files={METADATA_NAME: json.dumps(metadata)})


def _write_onnx(graph: nn.Module, example: tuple[Tensor, Tensor], metadata: dict[str, Any], target: Path) -> None:
    try:
        import onnx
    except ImportError as error:
        raise ImportError("ONNX export needs the onnx package: pip install 'lit-ctr[onnx]'") from error
    torch.onnx.export(
        graph,
        example,
        str(target),
        input_names=["ids", "numeric"],
        output_names=["probability"],
        dynamic_axes={"ids": {0: "batch"}, "numeric": {0: "batch"}, "probability": {0: "batch"}},
        dynamo=False,  # the TorchScript-based exporter: no onnxscript needed, dynamic batch axis
    )
    proto = onnx.load(str(target))
    entry = proto.metadata_props.add()
    entry.key, entry.value = ONNX_METADATA_KEY, json.dumps(metadata)
    onnx.save(proto, str(target))


def _verify(graph: nn.Module, target: Path, preprocessing: dict[str, Any], num_numeric: int) -> None:
    """The artifact must give the model's probabilities on rows of another batch size."""
    ids, numeric = _example_inputs(preprocessing, num_numeric, rows=7, seed=1)
    with torch.no_grad():
        expected = graph(ids, numeric).numpy()
    try:
        predictor = load_predictor(target)
    except ImportError:  # an ONNX file without onnxruntime installed: written, not checked
        log.warning("lit-ctr: onnxruntime is not installed; %s was not checked", target)
        return
    try:
        got = np.asarray(predictor.network(ids.numpy(), numeric.numpy())).reshape(-1)
    except Exception as error:  # a trace that baked in the example's batch size fails here
        target.unlink(missing_ok=True)
        raise RuntimeError(
            f"the exported model fails on a batch of another size ({error}); nothing written. A forward that "
            "reads the batch size with len(x) traces it as a constant: use x.shape[0]"
        ) from error
    difference = float(np.max(np.abs(got - expected))) if len(got) == len(expected) else float("inf")
    if not difference < 1e-5:
        target.unlink(missing_ok=True)
        raise RuntimeError(
            f"the exported model differs from the checkpoint's (max abs difference {difference:.3g}); nothing written"
        )


def main(args: list[str] | None = None) -> Path:
    """``lit-ctr export --ckpt_path X [--format torchscript|onnx] [--output FILE] [--model package.Class]``."""
    from jsonargparse import CLI

    from lit_ctr.cli.errors import OneLineErrorParser

    return CLI(export, args=args, as_positional=False, prog="lit-ctr export", parser_class=OneLineErrorParser)
