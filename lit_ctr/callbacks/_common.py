"""Small helpers the callbacks share."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn

EVALUATION = (TrainerFn.VALIDATING, TrainerFn.TESTING, TrainerFn.PREDICTING)


def batch_size(batch: Any) -> int:
    """Rows in a batch (a dict of tensors, a tensor, or a sequence whose first item is one)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, dict):
        for key in ("label", "ids", "numeric"):
            if isinstance(batch.get(key), torch.Tensor):
                return int(batch[key].shape[0])
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size(batch[0])
    return 0


def sends_to_loggers(trainer: Trainer) -> bool:
    """Whether Lightning sends this training step's ``self.log`` values to the loggers.

    Lightning 2.6 decides this in the private ``LoggerConnector.should_update_logs``:
    ``(_batches_that_stepped + 1) % log_every_n_steps == 0`` or ``should_stop``. There is no
    public way to ask, and re-deriving it from ``trainer.global_step`` goes wrong under
    manual optimization with two optimizers (sparse tables), where ``global_step`` counts
    both optimizers' steps. So it is asked here, in this one place; a Lightning without
    the connector counts every step as sent.
    """
    if getattr(trainer, "fast_dev_run", False):
        return True
    connector = getattr(trainer, "_logger_connector", None)
    return bool(getattr(connector, "should_update_logs", True))


def should_log(trainer: Trainer) -> bool:
    """Whether this training batch is one Lightning sends to the loggers (``log_every_n_steps``)."""
    return bool(trainer.loggers) and sends_to_loggers(trainer)


def logging_step(trainer: Trainer) -> int:
    """The step Lightning logs this batch's ``self.log`` values at.

    Lightning 2.6 keeps it in the private ``fit_loop.epoch_loop._batches_that_stepped`` (it
    differs from ``trainer.global_step`` under manual optimization with two optimizers);
    values sent at another step would not line up with ``train/loss``.
    """
    return trainer.fit_loop.epoch_loop._batches_that_stepped


def log_metrics(trainer: Trainer, metrics: dict[str, float]) -> None:
    """Send ``metrics`` to every logger at the current logging step."""
    step = logging_step(trainer)
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=step)


def checkpoint_run_folder(ckpt_path: str | os.PathLike | None) -> Path | None:
    """The folder of the fit that wrote ``ckpt_path``: ``runs/x/version_0`` for
    ``runs/x/version_0/checkpoints/best.ckpt`` (a checkpoint in a ``checkpoints`` folder,
    where ModelCheckpoint puts them); None for a checkpoint elsewhere."""
    if not ckpt_path:
        return None
    path = Path(ckpt_path)
    return path.parent.parent if path.parent.name == "checkpoints" else None


def run_directory(trainer: Trainer) -> str:
    """The run's own folder. Validating, testing or predicting with a fit's checkpoint:
    that fit's run folder (:func:`checkpoint_run_folder`), so plots and predictions land
    beside its checkpoints. Otherwise where a CSV/TensorBoard logger writes, or, for other
    loggers (W&B), ``save_dir/<name>/<version>`` — the folder ModelCheckpoint puts
    ``checkpoints/`` in. Without a logger: ``default_root_dir``."""
    if trainer.state.fn in EVALUATION:
        run = checkpoint_run_folder(trainer.ckpt_path)
        if run is not None:
            return str(run)
    if not trainer.loggers:
        return trainer.default_root_dir
    logger = trainer.loggers[0]
    log_dir = getattr(logger, "log_dir", None)
    if isinstance(log_dir, str) and log_dir:
        return log_dir
    save_dir = logger.save_dir or trainer.default_root_dir
    version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
    return os.path.join(save_dir, str(logger.name), version)


def wandb_loggers(trainer: Trainer) -> list[Any]:
    """The trainer's loggers that are W&B loggers (none when W&B is not configured)."""
    try:
        from lightning.pytorch.loggers import WandbLogger
    except ImportError:  # pragma: no cover - lightning always has it
        return []
    return [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]


def log_evaluation_into_its_run(config: Any, subcommand: str | None) -> None:
    """``lit-ctr validate|test|predict --ckpt_path <run>/checkpoints/x.ckpt``: a CSV or
    TensorBoard logger that would start a new ``version_N`` beside ``<run>`` (its
    ``save_dir/name`` is ``<run>``'s parent and it names no version) writes into
    ``<run>/<subcommand>`` instead: no empty new version folder, and the fit's own
    ``metrics.csv`` is left alone (a CSVLogger starts the ``metrics.csv`` of the folder it
    writes in afresh). A logger that names its version writes there, as asked.

    ``config`` is the parsed CLI config (a jsonargparse Namespace)."""
    if subcommand not in ("validate", "test", "predict"):
        return
    section = config[subcommand]
    run = checkpoint_run_folder(section.get("ckpt_path"))
    trainer = section.get("trainer")
    if run is None or trainer is None:
        return
    loggers = trainer.get("logger")
    for logger in loggers if isinstance(loggers, list) else [loggers]:
        if not hasattr(logger, "get") or logger.get("init_args") is None:
            continue
        if str(logger.get("class_path", "")).rsplit(".", 1)[-1] not in ("CSVLogger", "TensorBoardLogger"):
            continue
        init = logger["init_args"]
        save_dir, name, version = init.get("save_dir"), init.get("name"), init.get("version")
        if save_dir is None or Path(save_dir, name or "").resolve() != run.parent.resolve():
            continue
        if version is None:  # a version the user names is where the logger writes
            init["version"] = f"{run.name}/{subcommand}"


def keep_checkpoint_dirpath(trainer: Trainer, ckpt_path: str | os.PathLike | None) -> None:
    """Evaluating a fit's checkpoint: give the trainer's ModelCheckpoint the folder the
    checkpoint was written from (as the checkpoint stores it), so that restoring its state
    does not warn "The dirpath has changed" — nothing is saved in evaluation anyway."""
    callback = trainer.checkpoint_callback
    if not isinstance(callback, ModelCheckpoint) or checkpoint_run_folder(ckpt_path) is None:
        return
    try:  # memory-mapped: the tensors are not read
        state = torch.load(str(ckpt_path), map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # noqa: BLE001 - unreadable here: Lightning's own load reports it
        return
    saved = (state.get("callbacks") or {}).get(callback.state_key)
    dirpath = saved.get("dirpath") if isinstance(saved, dict) else None
    if isinstance(dirpath, str):
        callback.dirpath = dirpath  # kept as is by ModelCheckpoint.setup, which runs before the restore
