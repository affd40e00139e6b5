"""A NaN or infinite loss stops training naming the step; no checkpoint holds NaN weights."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import STEPS_PER_EPOCH, run_dir, write_fit_config
from crash_helpers import run_lit_ctr
from lit_ctr.cli import main

from lit_ctr.callbacks import FiniteLossGuard, NonFiniteLossError, NonFiniteWeightsError

BAD_STEP = STEPS_PER_EPOCH + 6  # epoch 1, batch 6


def bad_loss_args(bad_value: str, *extra: str) -> list[str]:
    return [
        "--model", "crash_helpers.BadLossFM",
        "--model.init_args.embed_dim", "4",
        "--model.init_args.bad_step", str(BAD_STEP),
        "--model.init_args.bad_value", bad_value,
        *extra,
    ]  # fmt: skip


def checkpoint_weights_are_finite(path) -> bool:
    state = torch.load(path, weights_only=True)["state_dict"]
    return all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())


@pytest.fixture(scope="module")
def nan_loss_run(tmp_path_factory, synthetic_files, shared_cache):
    """A fit whose loss turns NaN at BAD_STEP: its config and the error it raised."""
    config = write_fit_config(tmp_path_factory.mktemp("nan"), synthetic_files, shared_cache)
    with pytest.raises(NonFiniteLossError) as info:
        main(["fit", "--config", str(config), *bad_loss_args(".nan")])
    return config, info.value


def test_nan_loss_stops_training_with_a_message_naming_global_step_and_epoch(nan_loss_run):
    _, error = nan_loss_run
    assert f"the training loss is NaN at global step {BAD_STEP} (epoch 1, batch 6)" in str(error)


def test_infinite_loss_stops_training_with_a_message_naming_global_step_and_epoch(fit_config):
    with pytest.raises(NonFiniteLossError, match=rf"infinite at global step {BAD_STEP} \(epoch 1, batch 6\)"):
        main(["fit", "--config", str(fit_config()), *bad_loss_args(".inf")])


def test_checkpoints_written_before_a_nan_loss_keep_the_finite_weights_of_the_last_epoch(nan_loss_run):
    config, _ = nan_loss_run
    for name in ("best.ckpt", "last.ckpt"):
        path = run_dir(config) / "checkpoints" / name
        assert torch.load(path, weights_only=True)["global_step"] == STEPS_PER_EPOCH, name
        assert checkpoint_weights_are_finite(path), name


def poison_weights_at(epoch: int, batch: int) -> str:
    poison = {"class_path": "crash_helpers.PoisonWeightsAt", "init_args": {"epoch": epoch, "batch": batch}}
    return "--trainer.callbacks+=" + json.dumps(poison)


def test_nan_weights_are_never_saved_as_the_best_checkpoint(fit_config):
    # NaN weights at the end of epoch 0, with no NaN loss before the save: without the
    # guard the first validation makes them best.ckpt (and last.ckpt).
    config = fit_config()
    with pytest.raises(NonFiniteWeightsError, match=rf"global step {STEPS_PER_EPOCH} \(epoch 0\)"):
        main(["fit", "--config", str(config), poison_weights_at(0, STEPS_PER_EPOCH - 1)])
    checkpoints = run_dir(config) / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def test_nan_weights_never_overwrite_the_last_checkpoint(fit_config):
    config = fit_config()
    with pytest.raises(NonFiniteWeightsError, match=rf"global step {2 * STEPS_PER_EPOCH} \(epoch 1\)"):
        main(["fit", "--config", str(config), poison_weights_at(1, STEPS_PER_EPOCH - 1)])
    for name in ("best.ckpt", "last.ckpt"):
        path = run_dir(config) / "checkpoints" / name
        assert torch.load(path, weights_only=True)["global_step"] == STEPS_PER_EPOCH, name
        assert checkpoint_weights_are_finite(path), name


def test_checking_every_n_steps_still_names_the_first_bad_step_and_saves_no_nan_weights(fit_config):
    config = fit_config()
    with pytest.raises(NonFiniteLossError, match=rf"NaN at global step {BAD_STEP} \(epoch 1, batch 6\)"):
        main(
            ["fit", "--config", str(config), *bad_loss_args(".nan", "--finite_loss_guard.check_every_n_steps", "1000")]
        )
    for name in ("best.ckpt", "last.ckpt"):
        assert checkpoint_weights_are_finite(run_dir(config) / "checkpoints" / name), name


def test_check_every_n_steps_below_one_is_rejected():
    with pytest.raises(ValueError, match="check_every_n_steps"):
        FiniteLossGuard(check_every_n_steps=0)


@pytest.mark.slow
def test_nan_loss_in_one_ddp_process_stops_every_process(fit_config):
    config = fit_config()
    result = run_lit_ctr(
        "fit", "--config", str(config), *bad_loss_args(".nan", "--model.init_args.bad_rank", "1"),
        "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
        timeout=240,
    )  # fmt: skip
    assert result.returncode != 0, result.stderr[-2000:]
    # Each process reads half the rows: 10 steps an epoch.
    assert f"the training loss is NaN at global step {BAD_STEP} (epoch 2, batch 5)" in result.stderr
    assert f"the training loss is NaN or infinite in another process by global step {BAD_STEP}" in result.stderr
