"""Checkpoints a crash cannot spoil: written atomically, and ``last.ckpt`` kept at the latest epoch.

* :class:`AtomicCheckpointIO`: a crash leaves the previous file or the new one, never half of one.
* :class:`BestAndLastCheckpoint`: ``best.ckpt`` by the monitored metric, and ``last.ckpt``
  rewritten at the end of every epoch, so ``--ckpt_path last`` loses at most the epoch
  that was running. An epoch whose monitored value is NaN (``val/auc`` of a validation
  split with one class) is not ranked.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from pathlib import Path
from typing import Any

import torch
from fsspec.implementations.local import LocalFileSystem
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.fabric.utilities.types import _PATH
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_warn


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file in the checkpoint's own directory, ``fsync``,
    then ``os.replace`` onto the target (and ``fsync`` the directory).

    A process killed at any moment leaves either the complete previous checkpoint or
    the complete new one under the target name (``last.ckpt``, ``best.ckpt``), so
    ``--ckpt_path last`` always resumes from a whole file. What a kill can leave behind
    is a hidden ``.lit-ctr-<random>.tmp`` file: it never matches a checkpoint name (the
    temporary name holds no ``last`` and does not end in ``.ckpt``), so nothing loads it,
    and it is safe to delete. Lightning's own writer goes through fsspec, which writes
    into the system temporary directory (a copy, not a rename, when that is another
    file system) and does not fsync.

    Remote paths (``s3://``, ...) are left to :class:`TorchCheckpointIO`.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        if not isinstance(get_filesystem(path), LocalFileSystem):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options")
        target = Path(str(path).removeprefix("file://"))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".lit-ctr-{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "xb") as handle:  # "x": ours alone; created with the usual umask
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class BestAndLastCheckpoint(ModelCheckpoint):
    """:class:`~lightning.pytorch.callbacks.ModelCheckpoint` whose ``save_last=True``
    writes ``last.ckpt`` at the end of every epoch it checkpoints, whether or not the
    monitored metric improved.

    Since Lightning 2.6, ``last.ckpt`` is only written at steps where a top-k checkpoint
    is written: with ``monitor`` and ``save_top_k=1`` it is a copy of the best
    checkpoint, and ``--ckpt_path last`` after a crash would train every epoch since the
    best one again. Same arguments as ``ModelCheckpoint`` (``save_last="link"`` keeps
    Lightning's behaviour).

    A NaN monitored value is undefined, not bad: ModelCheckpoint would rank it as the worst
    score, and with nothing ranked yet keep it as ``best.ckpt``. Here such an epoch is
    skipped (a one-line warning says so); ``last.ckpt`` is still written. When every
    epoch's value is NaN, no ``best.ckpt`` exists.
    """

    # _should_save_on_train_epoch_end, _should_skip_saving_checkpoint, _every_n_epochs,
    # _last_global_step_saved, _save_last_checkpoint and _monitor_candidates are
    # ModelCheckpoint's own (Lightning 2.6): it has no public hook to skip ranking one
    # epoch or to write last.ckpt alone, so this subclass uses them.
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        due = self._last_due(trainer, at_train_epoch_end=True)
        if not (self._should_save_on_train_epoch_end(trainer) and self._undefined(trainer)):
            super().on_train_epoch_end(trainer, pl_module)
        if due:
            self._save_last_if_missed(trainer)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        due = self._last_due(trainer, at_train_epoch_end=False)
        if self._should_save_on_train_epoch_end(trainer) or not self._undefined(trainer):
            super().on_validation_end(trainer, pl_module)
        if due:
            self._save_last_if_missed(trainer)

    def _undefined(self, trainer: Trainer) -> bool:
        """Whether the monitored value of this epoch is NaN (then it is not ranked)."""
        value = trainer.callback_metrics.get(self.monitor) if self.monitor else None
        if value is None or trainer.sanity_checking or not math.isnan(float(value)):
            return False
        rank_zero_warn(
            f"{self.monitor} is undefined (NaN) at epoch {trainer.current_epoch}: this epoch is not a candidate"
            f" for the best checkpoint",
        )
        return True

    def _last_due(self, trainer: Trainer, at_train_epoch_end: bool) -> bool:
        """Whether this hook is where ModelCheckpoint considers saving this epoch."""
        return (
            self.save_last is True
            and not self._should_skip_saving_checkpoint(trainer)
            and self._should_save_on_train_epoch_end(trainer) == at_train_epoch_end
            and self._every_n_epochs >= 1
            and (trainer.current_epoch + 1) % self._every_n_epochs == 0
        )

    def _save_last_if_missed(self, trainer: Trainer) -> None:
        if self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
