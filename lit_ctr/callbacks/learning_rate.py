"""The learning rate under ``train/``, once per logging interval."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from torch.optim import Optimizer

from lit_ctr.callbacks._common import log_metrics, should_log


class LearningRateLogger(Callback):
    """Logs every optimizer's learning rate as ``train/lr`` when Lightning logs ``train/loss``.

    One optimizer with one parameter group logs ``train/lr``; several optimizers (sparse
    tables + the rest) log ``train/lr/<OptimizerClass>`` (``…/<OptimizerClass>-<i>`` when a
    class repeats), and several parameter groups add ``/pg<j>``. Unlike Lightning's
    ``LearningRateMonitor`` (``lr-Adam``), the names group with the other training curves,
    and a run without a logger is no error.

    Args:
        prefix: the metric name's prefix.
    """

    def __init__(self, prefix: str = "train/lr") -> None:
        self.prefix = prefix

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if should_log(trainer) and trainer.optimizers:
            log_metrics(trainer, learning_rates(trainer.optimizers, self.prefix))


def learning_rates(optimizers: list[Optimizer], prefix: str = "train/lr") -> dict[str, float]:
    """``{name: lr}`` for every parameter group of every optimizer."""
    single = len(optimizers) == 1
    classes = Counter(type(o).__name__ for o in optimizers)
    seen: Counter[str] = Counter()
    out = {}
    for optimizer in optimizers:
        cls = type(optimizer).__name__
        seen[cls] += 1
        name = prefix if single else f"{prefix}/{cls}" + (f"-{seen[cls] - 1}" if classes[cls] > 1 else "")
        groups = optimizer.param_groups
        for j, group in enumerate(groups):
            out[name if len(groups) == 1 else f"{name}/pg{j + 1}"] = float(group["lr"])
    return out
