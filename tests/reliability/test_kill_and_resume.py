"""A fit killed with SIGKILL resumes with ``--ckpt_path last`` and loses only the unfinished epoch."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
import torch
from conftest import EPOCHS, STEPS_PER_EPOCH, run_dir, validation_metrics
from crash_helpers import run_lit_ctr
from lit_ctr.cli import main


def callback(class_path: str, **init_args: object) -> str:
    return "--trainer.callbacks+=" + json.dumps({"class_path": class_path, "init_args": init_args})


def kill_then_resume(config, kill_epoch: int, kill_batch: int) -> list[tuple[int, int]]:
    """Run a fit that SIGKILLs itself at (epoch, batch), resume it in-process, and return
    the (epoch, batch) of every training batch of the resumed run."""
    batches = config.parent / "resumed_batches.txt"
    killed = run_lit_ctr(
        "fit", "--config", str(config), callback("crash_helpers.KillAt", epoch=kill_epoch, batch=kill_batch)
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (run_dir(config) / "checkpoints" / "last.ckpt").is_file()
    main(
        [
            "fit",
            "--config",
            str(config),
            "--ckpt_path",
            "last",
            callback("crash_helpers.RecordBatches", path=str(batches)),
        ]
    )
    return [tuple(map(int, line.split())) for line in batches.read_text().splitlines()]


# The kills fall in the last epoch, after a finished epoch (1) that did not improve on the
# best checkpoint (epoch 0, see conftest): resuming from the best would train epoch 1 again.
KILL_EPOCH = EPOCHS - 1


def test_fit_killed_mid_epoch_resumes_from_last_and_redoes_no_finished_epoch(fit_config):
    config = fit_config()
    resumed = kill_then_resume(config, kill_epoch=KILL_EPOCH, kill_batch=STEPS_PER_EPOCH // 2)
    # Only the unfinished epoch is trained again, from its first batch, to the end.
    assert resumed == [(KILL_EPOCH, b) for b in range(STEPS_PER_EPOCH)]
    last = torch.load(run_dir(config) / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == EPOCHS * STEPS_PER_EPOCH


def test_fit_killed_at_an_epoch_boundary_resumes_to_the_metrics_of_an_uninterrupted_run(fit_config, reference_run):
    config = fit_config()
    resumed = kill_then_resume(config, kill_epoch=KILL_EPOCH, kill_batch=0)
    assert resumed[0] == (KILL_EPOCH, 0)
    expected = validation_metrics(reference_run).filter(epoch=EPOCHS - 1)
    got = validation_metrics(config).filter(epoch=EPOCHS - 1)
    for name in ("val/auc", "val/logloss"):
        assert got[name].item() == pytest.approx(expected[name].item(), abs=1e-6), name
    reference = torch.load(run_dir(reference_run) / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    weights = torch.load(run_dir(config) / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    for name, value in reference.items():
        np.testing.assert_allclose(weights[name].numpy(), value.numpy(), atol=1e-6, err_msg=name)
