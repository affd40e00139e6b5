"""What a lit-ctr checkpoint holds, read without running anything the file names.

Layout (format 2):

- ``checkpoint["lit_ctr"] = {"format_version": 2, "model_class": "DeepFM"}``, written by
  the model (:class:`~lit_ctr.models.base.CTRModule`): the class by its short name for
  lit-ctr's own models, ``"package.module.Class"`` for a user's subclass;
- the data module's ``state_dict()``, which Lightning stores under the data module's
  class name: ``{"preprocessing": {"schema", "file_format", "vocabulary", ...}}``;
- Lightning's own ``state_dict`` and ``hyper_parameters``.

Format 1 (earlier releases) kept ``{"schema", "file_format", "vocabulary",
"model_class"}`` flat under ``checkpoint["lit_ctr"]``; it is still read.

Nothing here imports a module a checkpoint names: :func:`resolve_model_class` finds
lit-ctr's own classes by name and takes a user's class only from the caller, and
:func:`load_model` is the one place a checkpoint becomes a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lit_ctr.errors import CheckpointError

CHECKPOINT_KEY = "lit_ctr"
FORMAT_VERSION = 2


@dataclass
class CheckpointContents:
    """The parts of a checkpoint lit-ctr reads.

    Attributes:
        path: the file read.
        raw: the whole checkpoint dict (tensors on the CPU).
        model_class: the model's class as written (short name or dotted path).
        hyper_parameters: the model's saved hyper-parameters.
        preprocessing: ``{"schema", "file_format", "vocabulary", ...}`` as plain data, or
            None when the model was trained without a lit-ctr data module.
    """

    path: Path
    raw: dict[str, Any]
    model_class: str | None
    hyper_parameters: dict[str, Any]
    preprocessing: dict[str, Any] | None


def find_preprocessing(checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The preprocessing state inside a loaded checkpoint dict (format 1 or 2), or None."""
    legacy = checkpoint.get(CHECKPOINT_KEY)
    if isinstance(legacy, dict) and "vocabulary" in legacy and "schema" in legacy:
        return {k: v for k, v in legacy.items() if k != "model_class"}
    for value in checkpoint.values():
        if isinstance(value, dict):
            state = value.get("preprocessing")
            if isinstance(state, dict) and "vocabulary" in state and "schema" in state:
                return state
    return None


def _check_container(path: Path) -> None:
    """A torch checkpoint is a zip archive (or, from torch < 1.6, a pickle): say so when it is neither."""
    import zipfile

    with open(path, "rb") as handle:
        head = handle.read(64)
    if zipfile.is_zipfile(path) or head[:1] == b"\x80":
        return
    if not head:
        raise CheckpointError("is an empty file, expected a checkpoint (.ckpt)", file=str(path))
    if head.startswith(b"PK"):
        raise CheckpointError("is truncated or damaged: its zip archive has no end (copy it again)", file=str(path))
    start = head[:24].decode("utf-8", "replace")
    raise CheckpointError(
        f"is not a checkpoint (it starts with {start!r}); expected a .ckpt from lit-ctr fit", file=str(path)
    )


def read_checkpoint(path: str | Path) -> CheckpointContents:
    """Load a checkpoint safely (``weights_only``) and pick out lit-ctr's parts.

    Raises:
        CheckpointError: the file is missing, a folder, truncated or not a torch checkpoint.
    """
    import torch

    path = Path(path)
    if path.is_dir():
        raise CheckpointError("is a directory, expected a checkpoint file (.ckpt)", file=str(path))
    if not path.is_file():
        raise CheckpointError("no such checkpoint file", file=str(path))
    _check_container(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises pickle, zip and runtime errors alike
        if "Weights only load failed" in str(error):
            reason = "holds Python objects beyond tensors and plain data; lit-ctr loads checkpoints with weights_only"
        else:
            reason = f"damaged or not a checkpoint ({type(error).__name__}: {str(error).splitlines()[0][:160]})"
        raise CheckpointError(reason, file=str(path)) from None
    if not isinstance(raw, dict) or "state_dict" not in raw:
        raise CheckpointError("not a Lightning checkpoint (no state_dict inside)", file=str(path))
    found = raw.get(CHECKPOINT_KEY)
    entry: dict[str, Any] = found if isinstance(found, dict) else {}
    return CheckpointContents(
        path=path,
        raw=raw,
        model_class=entry.get("model_class"),
        hyper_parameters=dict(raw.get("hyper_parameters") or {}),
        preprocessing=find_preprocessing(raw),
    )


def model_class_name(contents: CheckpointContents) -> str | None:
    """The model class a checkpoint names: lit-ctr's entry, else the Lightning CLI's
    ``_class_path`` hyper-parameter (``None`` when it names none)."""
    return contents.model_class or contents.hyper_parameters.get("_class_path")


def model_entry(model: Any) -> dict[str, Any]:
    """The model's part of a checkpoint (format 2): its class, by short name when it is one
    of lit-ctr's own models, by dotted path otherwise."""
    cls = type(model)
    own = _own_models().get(cls.__name__) is cls
    return {
        "format_version": FORMAT_VERSION,
        "model_class": cls.__qualname__ if own else f"{cls.__module__}.{cls.__qualname__}",
    }


def _own_models() -> dict[str, type]:
    import lit_ctr.models

    found = {name: getattr(lit_ctr.models, name) for name in lit_ctr.models.__all__}
    return {name: cls for name, cls in found.items() if isinstance(cls, type) and name != "CTRModule"}


def resolve_model_class(name: str | None, model_class: type | str | None = None, *, file: str | None = None) -> type:
    """The class to build a checkpoint's model with, never imported because the file says so.

    Args:
        name: the class the checkpoint names: a short name (``"DeepFM"``) or a dotted path
            into ``lit_ctr.models`` (``"lit_ctr.models.deepfm.DeepFM"``, format 1).
        model_class: the class the caller names (a class, or a dotted path the caller typed):
            it is used as given, so a user's own subclass loads only when the user names it.
        file: the checkpoint, for the error message.

    Raises:
        CheckpointError: ``name`` is not one of lit-ctr's models and no ``model_class`` is given.
    """
    if model_class is not None:
        if isinstance(model_class, str):
            return _import_named_by_user(model_class, file)
        return model_class
    own = _own_models()
    if isinstance(name, str) and name:
        module, _, short = name.rpartition(".")
        cls = own.get(short)
        # A dotted name counts only when it is where lit-ctr's class really lives; nothing is imported.
        if cls is not None and module in ("", "lit_ctr.models", cls.__module__):
            return cls
    named = f"the model class {name!r}" if name else "no model class"
    raise CheckpointError(
        f"names {named}, which is not one of lit-ctr's models ({', '.join(sorted(own))}); lit-ctr does not import "
        "code a checkpoint names. If you trust the file, name the class yourself: load_predictor(path, model_class=...), "
        "score(..., model_class=...), lit-ctr export --model <package.Class>, or --model <package.Class> on the command line",
        file=file,
    )


def _import_named_by_user(dotted: str, file: str | None) -> type:
    import importlib

    own = _own_models()
    if dotted in own:
        return own[dotted]
    module, _, short = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), short) if module else None
    except (ImportError, AttributeError) as error:
        raise CheckpointError(f"model class {dotted!r}: cannot import it ({error})", file=file) from None
    if not isinstance(cls, type):
        raise CheckpointError(f"model class {dotted!r}: expected a class, like lit_ctr.models.DeepFM", file=file)
    return cls


def load_model(path: str | Path, model_class: type | str | None = None) -> Any:
    """The model of a lit-ctr checkpoint, in eval mode on the CPU, with ``.preprocessing`` set.

    Args:
        path: a checkpoint written by ``lit-ctr fit`` (``best.ckpt``, ``last.ckpt``).
        model_class: the model's class, needed only for a class that is not lit-ctr's own
            (see :func:`resolve_model_class`).

    Raises:
        CheckpointError: the file is missing, unreadable, not lit-ctr's, names a class
            lit-ctr will not import, or holds weights that do not fit the class.
    """
    contents = read_checkpoint(path)
    if contents.preprocessing is None:
        raise CheckpointError("not a lit-ctr checkpoint (no schema and vocabulary inside)", file=str(path))
    cls = resolve_model_class(model_class_name(contents), model_class, file=str(path))
    hyper_parameters = {k: v for k, v in contents.hyper_parameters.items() if not k.startswith("_")}
    if hyper_parameters.get("embedding") == "sharded":  # saved whole (lit_ctr.sharding): scored by the dense layers
        hyper_parameters["embedding"] = "dense"
    try:
        model = cls(**hyper_parameters)
        model.on_load_checkpoint(contents.raw)
        model.load_state_dict(contents.raw["state_dict"])
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = " ".join(lines[:2])[:240] if lines else type(error).__name__
        raise CheckpointError(f"its model does not load as {cls.__name__} ({reason})", file=str(path)) from None
    model.preprocessing = contents.preprocessing
    model.eval()
    return model
