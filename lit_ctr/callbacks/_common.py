"""Small helpers the callbacks share."""

from __future__ import annotations

import os
from typing import Any

import torch
from lightning.pytorch import Trainer


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
    if trainer.fast_dev_run:
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


def run_directory(trainer: Trainer) -> str:
    """The run's own folder: where a CSV/TensorBoard logger writes, or, for other loggers
    (W&B), ``save_dir/<name>/<version>`` — the folder ModelCheckpoint puts
    ``checkpoints/`` in. Without a logger: ``default_root_dir``."""
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
