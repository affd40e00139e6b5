"""Training progress: a bar with samples per second on a terminal, a line every so often
in a log file.

A redrawn bar is written once per step; on a terminal each redraw replaces the last, but
in a log file (CI, ``nohup``, ``> fit.log``) every redraw stays, and a fit wrote 165-365 KB
of them. When the output is not a terminal, the bar is replaced by one line every
``log_interval`` seconds and one line per finished epoch with its metrics.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from lightning.pytorch.trainer.states import TrainerFn

from lit_ctr.callbacks._common import batch_size


class SamplesPerSecondProgressBar(TQDMProgressBar):
    """Lightning's TQDM bar with ``samples/s`` in the training bar's postfix, or, when
    standard output is not a terminal, progress lines::

        epoch 3: batch 1200/5000 (24%), 0:01:10 elapsed, 0:03:42 left, train/loss=0.452, samples/s=12,345
        epoch 3 done in 0:04:52: train/loss=0.448, val/auc=0.7812, val/logloss=0.4521, samples/s=12,301

    The rate is measured over the batches between two refreshes (rows counted from batch
    shapes, no device synchronisation) and left out of validation time. The ``lit-ctr``
    command uses this bar unless ``trainer.enable_progress_bar`` is false or the config
    names another progress bar; name it in ``trainer.callbacks`` to set its arguments
    (``--trainer.callbacks+=lit_ctr.callbacks.SamplesPerSecondProgressBar
    --trainer.callbacks.log_interval 10``).

    Args:
        refresh_rate: refresh the bar every this many batches.
        process_position: the bar's line, for several bars at once.
        leave: keep the finished epoch's bar on screen.
        log_interval: seconds between two progress lines when writing lines.
        lines: ``true`` writes lines, ``false`` draws the bar; default: lines when
            standard output is not a terminal.
    """

    def __init__(
        self,
        refresh_rate: int = 1,
        process_position: int = 0,
        leave: bool = False,
        log_interval: float = 30.0,
        lines: bool | None = None,
    ) -> None:
        if not log_interval >= 0:
            raise ValueError(f"SamplesPerSecondProgressBar.log_interval: expected seconds >= 0, got {log_interval!r}")
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self.samples_per_second: float | None = None
        self.log_interval = float(log_interval)
        self.lines = _not_a_terminal() if lines is None else bool(lines)
        self._window_start = time.perf_counter()
        self._window_samples = 0
        self._stage_start = time.perf_counter()
        self._last_line = time.perf_counter()

    # --- the bars: hidden when writing lines (they still count batches) ---------------

    def init_sanity_tqdm(self) -> Tqdm:
        return _hidden() if self.lines else super().init_sanity_tqdm()

    def init_train_tqdm(self) -> Tqdm:
        return _hidden() if self.lines else super().init_train_tqdm()

    def init_validation_tqdm(self) -> Tqdm:
        return _hidden() if self.lines else super().init_validation_tqdm()

    def init_test_tqdm(self) -> Tqdm:
        return _hidden() if self.lines else super().init_test_tqdm()

    def init_predict_tqdm(self) -> Tqdm:
        return _hidden() if self.lines else super().init_predict_tqdm()

    # --- samples per second ------------------------------------------------------------

    def _restart_window(self) -> None:
        self._window_start = time.perf_counter()
        self._window_samples = 0

    def on_train_epoch_start(self, trainer: Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        self._restart_window()
        self._start_stage()

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
        if self.lines and self._line_due():
            metrics = _format_metrics(self.get_metrics(trainer, pl_module))
            self._write_progress(f"epoch {trainer.current_epoch}", batch_idx + 1, self.total_train_batches, metrics)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self.lines and self.is_enabled:
            took = _clock(time.perf_counter() - self._stage_start)
            metrics = _format_metrics(self.get_metrics(trainer, pl_module))
            self._write(f"epoch {trainer.current_epoch} done in {took}" + (f": {metrics}" if metrics else ""))

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self._restart_window()

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        if self.samples_per_second is not None:
            items["samples/s"] = f"{self.samples_per_second:,.0f}"
        return items

    # --- lines for evaluation and prediction (training's come above) --------------------

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_start(trainer, pl_module)
        if trainer.state.fn == TrainerFn.VALIDATING:  # lit-ctr validate, not a fit's validation
            self._start_stage()

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        if self.lines and trainer.state.fn == TrainerFn.VALIDATING and self._line_due():
            self._write_progress("validate", batch_idx + 1, self.total_val_batches_current_dataloader)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_test_start(trainer, pl_module)
        self._start_stage()

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        super().on_test_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        if self.lines and self._line_due():
            self._write_progress("test", batch_idx + 1, self.total_test_batches_current_dataloader)

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_predict_start(trainer, pl_module)
        self._start_stage()

    def on_predict_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        super().on_predict_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        if self.lines and self._line_due():
            self._write_progress("predict", batch_idx + 1, self.total_predict_batches_current_dataloader)

    # --- writing -------------------------------------------------------------------------

    def _start_stage(self) -> None:
        self._stage_start = self._last_line = time.perf_counter()

    def _line_due(self) -> bool:
        return self.is_enabled and time.perf_counter() - self._last_line >= self.log_interval

    def _write_progress(self, what: str, done: int, total: float | int, metrics: str = "") -> None:
        elapsed = time.perf_counter() - self._stage_start
        parts = [f"batch {done}"]
        if isinstance(total, int) or (isinstance(total, float) and total != float("inf")):
            total = int(total)
            parts = [f"batch {done}/{total} ({100 * done / max(total, 1):.0f}%)", f"{_clock(elapsed)} elapsed"]
            if 0 < done < total:
                parts.append(f"{_clock(elapsed / done * (total - done))} left")
        else:
            parts.append(f"{_clock(elapsed)} elapsed")
        self._write(f"{what}: {', '.join(parts)}" + (f", {metrics}" if metrics else ""))

    def _write(self, line: str) -> None:
        self._last_line = time.perf_counter()
        print(line, file=sys.stdout, flush=True)


def _not_a_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return not (callable(isatty) and isatty())


def _hidden() -> Tqdm:
    """A bar that counts but draws nothing."""
    return Tqdm(disable=True)


def _format_metrics(metrics: dict[str, Any]) -> str:
    items = []
    for key, value in metrics.items():
        if key == "v_num":
            continue
        items.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return ", ".join(items)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
