"""Checkpoints are written atomically, and last.ckpt follows every epoch."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import EPOCHS, STEPS_PER_EPOCH, run_dir
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.plugins.precision import DoublePrecision
from lit_ctr.cli import build_cli

from lit_ctr.callbacks import AtomicCheckpointIO


def test_atomic_checkpoint_io_writes_a_file_that_loads_with_weights_only(tmp_path):
    path = tmp_path / "deep" / "dir" / "a.ckpt"
    AtomicCheckpointIO().save_checkpoint({"w": torch.arange(3.0), "epoch": 1}, path)
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["w"], torch.arange(3.0)) and loaded["epoch"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["a.ckpt"]


def test_failed_save_keeps_the_previous_checkpoint_and_no_temporary_file(tmp_path):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"w": torch.zeros(2)}, path)
    with pytest.raises(Exception):  # a lambda cannot be pickled: torch.save fails midway
        io.save_checkpoint({"w": torch.ones(2), "bad": lambda: 0}, path)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.zeros(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time, torch
    from lit_ctr.callbacks import AtomicCheckpointIO
    path = sys.argv[1]
    io = AtomicCheckpointIO()
    io.save_checkpoint({"w": torch.zeros(1000)}, path)
    def stall(fd):  # the new checkpoint is fully written but not yet renamed
        print("writing", flush=True)
        time.sleep(60)
    os.fsync = stall
    io.save_checkpoint({"w": torch.ones(1000)}, path)
    """
)


def test_process_killed_while_writing_keeps_the_previous_checkpoint_whole(tmp_path):
    path = tmp_path / "last.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.zeros(1000))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "last.ckpt"]
    # What a kill leaves is hidden and never taken for a checkpoint (no "last", no .ckpt).
    assert len(leftovers) == 1 and leftovers[0].startswith(".") and "last" not in leftovers[0]
    assert not leftovers[0].endswith(".ckpt")


def test_cli_writes_checkpoints_with_atomic_checkpoint_io(fit_config):
    cli = build_cli(["--config", str(fit_config())], run=False)
    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def test_configured_checkpoint_io_plugin_replaces_the_atomic_default(fit_config):
    args = ["--config", str(fit_config()), "--trainer.plugins", "lightning.pytorch.plugins.io.TorchCheckpointIO"]
    cli = build_cli(args, run=False)
    assert type(cli.trainer.strategy.checkpoint_io) is TorchCheckpointIO


def test_other_configured_plugins_keep_the_atomic_checkpoint_io(fit_config):
    args = ["--config", str(fit_config()), "--trainer.plugins", "lightning.pytorch.plugins.precision.DoublePrecision"]
    cli = build_cli(args, run=False)
    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)
    assert isinstance(cli.trainer.strategy.precision_plugin, DoublePrecision)


def test_last_checkpoint_is_written_every_epoch_even_when_the_best_does_not_change(reference_run):
    checkpoints = run_dir(reference_run) / "checkpoints"
    assert torch.load(checkpoints / "best.ckpt", weights_only=True)["global_step"] == STEPS_PER_EPOCH
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == EPOCHS * STEPS_PER_EPOCH
