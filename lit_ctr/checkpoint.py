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
lit-ctr's own classes by name and takes a user's class only from the caller.
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
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises pickle, zip and runtime errors alike
        raise CheckpointError(f"not a readable checkpoint ({type(error).__name__}: {error})", file=str(path)) from None
    if not isinstance(raw, dict) or "state_dict" not in raw:
        raise CheckpointError("not a Lightning checkpoint (no state_dict inside)", file=str(path))
    entry = raw.get(CHECKPOINT_KEY) if isinstance(raw.get(CHECKPOINT_KEY), dict) else {}
    return CheckpointContents(
        path=path,
        raw=raw,
        model_class=entry.get("model_class"),
        hyper_parameters=dict(raw.get("hyper_parameters") or {}),
        preprocessing=find_preprocessing(raw),
    )
