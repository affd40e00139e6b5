"""``--ckpt_path`` on the command line: where ``last`` is, which model it holds, and its
hyper-parameters, read through :mod:`lit_ctr.checkpoint` (nothing the file names is imported).

* ``--ckpt_path last`` is the newest ``last.ckpt`` of the run's logger folder
  (``<save_dir>/<name>/version_*/checkpoints/``); a fit resumes into that same version
  folder. With none there the command stops: a resume never trains from scratch.
* The checkpoint's model class must be the configured one (``--model``): ``lit-ctr test
  --model DeepFM --ckpt_path fm.ckpt`` is refused, naming both.
* The model's hyper-parameters come from the checkpoint, so a config with another
  ``embed_dim`` still loads it; one line says which values the checkpoint replaced.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from jsonargparse import Namespace

from lit_ctr.checkpoint import model_class_name, read_checkpoint, resolve_model_class
from lit_ctr.errors import CheckpointError, ConfigError

log = logging.getLogger("lit_ctr")

LINKED = {"field_dims", "num_numeric", "multi_fields"}  # set from the data at instantiation, not from the config


def _get(namespace: Any, key: str, default: Any = None) -> Any:
    try:
        value = namespace.get(key, default) if namespace is not None else default
    except (AttributeError, KeyError, TypeError):
        return default
    return default if value is None else value


def checkpoint_folders(config: Namespace) -> tuple[list[Path], Namespace | None, str]:
    """Folders that may hold the run's ``last.ckpt``, newest version last, the logger's
    ``init_args`` (to pin its version) and a description for the error message."""
    dirpath = _get(config, "checkpoint.dirpath")
    if dirpath:
        return [Path(dirpath)], None, str(dirpath)
    trainer = _get(config, "trainer")
    root = Path(_get(trainer, "default_root_dir", ".") or ".")
    logger = _get(trainer, "logger", None)
    if isinstance(logger, list):
        logger = logger[0] if logger else False
    if logger is False:
        return [root / "checkpoints"], None, str(root / "checkpoints")
    init_args = _get(logger, "init_args") if isinstance(logger, Namespace) else None
    save_dir = Path(_get(init_args, "save_dir", root) or root)
    name = _get(init_args, "name", "lightning_logs")
    base = save_dir / name if name else save_dir
    version = _get(init_args, "version")
    if version is not None:
        folder = base / (f"version_{version}" if isinstance(version, int) else str(version))
        return [folder / "checkpoints"], None, str(folder / "checkpoints")
    versions = sorted(
        (p for p in base.glob("version_*") if re.fullmatch(r"version_\d+", p.name)), key=lambda p: int(p.name[8:])
    )
    return [v / "checkpoints" for v in versions], init_args, f"{base}/version_*/checkpoints"


def find_last(config: Namespace) -> tuple[Path, Namespace | None]:
    """The newest ``last*.ckpt`` of the run, and the logger ``init_args`` whose version to pin."""
    folders, init_args, where = checkpoint_folders(config)
    found = [p for folder in folders for p in folder.glob("last*.ckpt") if p.is_file()]
    if not found:
        raise ConfigError(
            f"--ckpt_path last: no last.ckpt under {where} (nothing to resume; give a checkpoint file, "
            "or drop --ckpt_path to start a new run)"
        )
    return max(found, key=lambda p: p.stat().st_mtime_ns), init_args


def pin_logger_version(init_args: Namespace | None, checkpoint: Path) -> None:
    """Make the logger write into the version folder the resumed checkpoint is in."""
    folder = checkpoint.parent.parent
    if init_args is None or not re.fullmatch(r"version_\d+", folder.name):
        return
    init_args["version"] = int(folder.name[8:])
    metrics = folder / "metrics.csv"
    if metrics.is_file():  # CSVLogger deletes an existing metrics.csv: keep the first part of the run
        n = 1
        while (folder / f"metrics.before-resume-{n}.csv").exists():
            n += 1
        metrics.rename(folder / f"metrics.before-resume-{n}.csv")
        log.info("lit-ctr: kept the metrics logged before the resume as %s", folder / f"metrics.before-resume-{n}.csv")


def apply_checkpoint(config: Namespace, subcommand: str) -> None:
    """Resolve ``--ckpt_path`` in ``config[subcommand]`` and take the model's class check and
    hyper-parameters from it (what LightningCLI's ``_parse_ckpt_path`` does, done safely)."""
    sub = config[subcommand]
    ckpt_path = sub.get("ckpt_path")
    if not ckpt_path:
        return
    if ckpt_path == "last":
        path, init_args = find_last(sub)
        if subcommand == "fit":
            pin_logger_version(init_args, path)
        log.info("lit-ctr: --ckpt_path last is %s", path)
        sub["ckpt_path"] = ckpt_path = str(path)
    elif ckpt_path in ("best", "hpc", "registry") or str(ckpt_path).startswith("registry:"):
        return  # Lightning's own names, resolved by the Trainer
    contents = read_checkpoint(ckpt_path)
    model = sub.get("model")
    configured = _get(model, "class_path")
    _check_model_class(model_class_name(contents), configured, ckpt_path)
    _take_hyper_parameters(model, contents.hyper_parameters, ckpt_path)


def _check_model_class(named: str | None, configured: str | None, ckpt_path: str) -> None:
    if configured is None:
        return
    short = configured.rpartition(".")[2]
    if named is None:
        return  # a checkpoint of another program's model: Lightning's state-dict check decides
    try:
        held = resolve_model_class(named, file=ckpt_path)
    except CheckpointError:
        # A class of the user's own: fine when the config names that very class (the user chose it).
        if named in (configured, short):
            return
        raise CheckpointError(
            f"holds a model of class {named!r}, but the config names {configured!r} (--model); lit-ctr does not "
            f"import what a checkpoint names: give --model {named} if you trust it",
            file=ckpt_path,
        ) from None
    if held.__name__ != short or not (configured.startswith("lit_ctr.models") or "." not in configured):
        raise CheckpointError(
            f"holds a {held.__name__} model, but the config names {short} (--model {configured}); "
            f"use --model {held.__name__}, or a checkpoint of a {short}",
            file=ckpt_path,
        )


def _take_hyper_parameters(model: Any, saved: dict[str, Any], ckpt_path: str) -> None:
    init_args = _get(model, "init_args")
    if init_args is None:
        return
    replaced = []
    for key, value in saved.items():
        if key.startswith("_") or key in LINKED or key not in init_args:
            continue
        current = init_args[key]
        if isinstance(current, Namespace):
            continue  # optimizers and schedules are not saved as hyper-parameters
        if _plain(current) != _plain(value):
            replaced.append(f"{key} {value!r} (config: {current!r})")
        init_args[key] = value
    if replaced:
        log.info("lit-ctr: the model's hyper-parameters come from %s: %s", ckpt_path, ", ".join(replaced))


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
