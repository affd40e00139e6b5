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


def should_log(trainer: Trainer) -> bool:
    """Whether this training batch is one Lightning sends to the loggers (``log_every_n_steps``)."""
    return bool(trainer.loggers) and trainer._logger_connector.should_update_logs


def logging_step(trainer: Trainer) -> int:
    """The step Lightning logs this batch's ``self.log`` values at."""
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
