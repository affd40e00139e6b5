"""Training throughput: ``train/samples_per_sec`` once per logging interval."""

from __future__ import annotations

import time
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from lit_ctr.callbacks._common import batch_size, log_metrics, should_log


class SamplesPerSecondMonitor(Callback):
    """Logs training samples per second, averaged over each logging interval.

    It counts the rows of every training batch (a shape, never a device value) and reads
    the wall clock when Lightning sends the step's metrics to the loggers
    (``trainer.log_every_n_steps``): no device synchronisation per step, so on a GPU a
    reading may lag by the few steps still queued, which averages out over an interval.
    Time spent in validation is left out. With several processes the rate is this
    process's rate times the world size (every rank gets the same batch size).

    Logged as ``train/samples_per_sec``, next to ``train/loss``. (Lightning's own
    :class:`~lightning.pytorch.callbacks.ThroughputMonitor` measures batches, samples and
    FLOPs per second under ``throughput/``; this one was called ``ThroughputMonitor`` up to
    lit-ctr 0.1 and was renamed so that ``--trainer.callbacks+=ThroughputMonitor`` names Lightning's.)

    Args:
        name: the metric's name.
    """

    def __init__(self, name: str = "train/samples_per_sec") -> None:
        self.name = name
        self.last_rate: float | None = None
        self._reset()

    def _reset(self, now: float | None = None) -> None:
        self._start = time.perf_counter() if now is None else now
        self._samples = 0
        self._paused = 0.0
        self._pause_start: float | None = None

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._reset()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._samples += batch_size(batch)
        if not should_log(trainer):
            return
        now = time.perf_counter()
        elapsed = now - self._start - self._paused
        if elapsed > 0 and self._samples:
            self.last_rate = self._samples * trainer.world_size / elapsed
            log_metrics(trainer, {self.name: self.last_rate})
        self._reset(now)

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._pause_start = time.perf_counter()

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._pause_start is not None:
            self._paused += time.perf_counter() - self._pause_start
            self._pause_start = None
