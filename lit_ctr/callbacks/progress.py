"""A progress bar that shows training samples per second."""

from __future__ import annotations

import time
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar

from lit_ctr.callbacks._common import batch_size


class SamplesPerSecondProgressBar(TQDMProgressBar):
    """Lightning's TQDM bar with ``samples/s`` in the training bar's postfix.

    The rate is measured over the batches between two refreshes of the bar (rows counted
    from batch shapes, no device synchronisation) and left out of validation time. The
    ``lit-ctr`` command uses it unless ``trainer.enable_progress_bar`` is false or the
    config names another progress bar.

    Args:
        refresh_rate: refresh the bar every this many batches.
        process_position: the bar's line, for several bars at once.
        leave: keep the finished epoch's bar on screen.
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self.samples_per_second: float | None = None
        self._window_start = time.perf_counter()
        self._window_samples = 0

    def _restart_window(self) -> None:
        self._window_start = time.perf_counter()
        self._window_samples = 0

    def on_train_epoch_start(self, trainer: Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self._restart_window()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._window_samples += batch_size(batch)
        bar = self.train_progress_bar
        if bar is not None and self._should_update(batch_idx + 1, bar.total):
            elapsed = time.perf_counter() - self._window_start
            if elapsed > 0 and self._window_samples:
                self.samples_per_second = self._window_samples * trainer.world_size / elapsed
            self._restart_window()
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._restart_window()

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        if self.samples_per_second is not None:
            items["samples/s"] = f"{self.samples_per_second:,.0f}"
        return items
