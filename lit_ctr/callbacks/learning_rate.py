"""The learning rate under ``train/``, once per logging interval."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from torch.optim import Optimizer


class LearningRateLogger(LearningRateMonitor):
    """Lightning's :class:`~lightning.pytorch.callbacks.LearningRateMonitor` at every logging
    step, with the learning rates named as lit-ctr's other training curves.

    One optimizer with one parameter group logs ``train/lr``; several optimizers (sparse
    tables + the rest) log ``train/lr/<OptimizerClass>`` (``…/<OptimizerClass>-<i>`` when a
    class repeats), and several parameter groups add ``/pg<j>`` (Lightning's names are
    ``lr-Adam``, ...). A run without a logger is no error here: nothing is logged.

    Args:
        prefix: the metric name's prefix.
    """

    def __init__(self, prefix: str = "train/lr") -> None:
        super().__init__(logging_interval="step")
        self.prefix = prefix

    def on_train_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.loggers:  # LearningRateMonitor refuses a trainer without loggers
            super().on_train_start(trainer, *args, **kwargs)

    def on_train_batch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer.loggers:
            super().on_train_batch_start(trainer, *args, **kwargs)

    def _extract_stats(self, trainer: Trainer, interval: str) -> dict[str, float]:
        # Lightning 2.6 builds LearningRateMonitor's names in private methods and has no
        # public naming option; _extract_stats, which returns the {name: value} it logs, is
        # the one place to give them lit-ctr's names.
        return learning_rates(trainer.optimizers, self.prefix) if trainer.optimizers else {}


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
