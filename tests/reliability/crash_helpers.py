"""Test-only callbacks and models, importable by a ``lit-ctr`` subprocess (by class path,
with this folder on PYTHONPATH) and by the tests themselves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import torch
from lightning.pytorch import Callback
from lightning.pytorch.cli import OptimizerCallable
from torch import Tensor

from lit_ctr.models import FM

HERE = Path(__file__).resolve().parent


class KillAt(Callback):
    """SIGKILLs its own process when training batch ``batch`` of epoch ``epoch`` starts
    (batch 0 is the epoch boundary: the previous epoch and its checkpoints are done)."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch = epoch
        self.batch = batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:  # noqa: ANN001
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            os.kill(os.getpid(), signal.SIGKILL)


class RecordBatches(Callback):
    """Appends ``<epoch> <batch>`` to ``path`` after every training batch."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:  # noqa: ANN001
        with open(self.path, "a") as handle:
            handle.write(f"{trainer.current_epoch} {batch_idx}\n")


class PoisonWeightsAt(Callback):
    """Sets one weight to NaN after training batch ``batch`` of epoch ``epoch``, with no
    NaN loss before it: only the checkpoint guard can keep this model off disk."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch = epoch
        self.batch = batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:  # noqa: ANN001
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            with torch.no_grad():
                next(pl_module.parameters()).view(-1)[0] = float("nan")


class BadLossFM(FM):
    """FM whose training loss is ``bad_value`` (NaN or inf) at training step ``bad_step``
    (in process ``bad_rank`` only, when given)."""

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        optimizer: OptimizerCallable = torch.optim.Adam,
        bad_step: int = 5,
        bad_value: float = float("nan"),
        bad_rank: int | None = None,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, optimizer=optimizer)
        self.bad_step = bad_step
        self.bad_value = bad_value
        self.bad_rank = bad_rank  # under DDP: only this process's loss goes bad (None: all)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = super().training_step(batch, batch_idx)
        here = self.bad_rank is None or self.bad_rank == self.global_rank
        return loss + self.bad_value if self.global_step == self.bad_step and here else loss


def run_lit_ctr(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m lit_ctr *args`` in a subprocess that can import this module."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "lit_ctr", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


class SignalAt(Callback):
    """Sends ``signal_name`` (``SIGTERM``, ``SIGINT``) to its own process when training batch
    ``batch`` of epoch ``epoch`` starts, as a scheduler or Ctrl+C would."""

    def __init__(self, epoch: int, batch: int, signal_name: str = "SIGTERM") -> None:
        self.epoch = epoch
        self.batch = batch
        self.signal_name = signal_name

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:  # noqa: ANN001
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            os.kill(os.getpid(), getattr(signal, self.signal_name))


class CheckedFM(FM):
    """FM that checks its ``embed_dim`` the way lit-ctr's models do (a ConfigError naming the
    key), and raises a plain ValueError for ``embed_dim`` 13, as a user's own model might."""

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        optimizer: OptimizerCallable = torch.optim.Adam,
    ) -> None:
        from lit_ctr.errors import ConfigError

        if embed_dim < 1:
            raise ConfigError(f"model.embed_dim: expected an integer >= 1, got {embed_dim}")
        if embed_dim == 13:
            raise ValueError("unlucky embed_dim 13")
        super().__init__(field_dims, num_numeric, embed_dim, optimizer=optimizer)


def run_console(*args: str, cwd: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The installed ``lit-ctr`` console script with ``args``, able to import this module."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    env.pop("LIT_CTR_TRACEBACK", None)
    script = Path(sys.executable).with_name("lit-ctr")
    return subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)


def error_lines(stderr: str) -> list[str]:
    """The ``lit-ctr: error:`` lines of a command's stderr."""
    return [line for line in stderr.splitlines() if line.startswith("lit-ctr: error:")]
