"""FNN with its FM phase: ``lit-ctr fit`` runs an FM fit on the same data (metrics under
``fm/``), then the FNN fit from the FM's best checkpoint. The exact transfer, metric names,
checkpoints, resuming either phase, ``fm_checkpoint``, the FM phase's own stopping rule,
the method's claim, and DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import lightning as L
import polars as pl
import pytest
import torch
import yaml
from lit_ctr.cli import main

from lit_ctr.data import SyntheticCTRDataModule
from lit_ctr.errors import CheckpointError, ConfigError
from lit_ctr.models import FM, FNN
from lit_ctr.models.fm_phase import FMPretraining, fit_fm_phase
from lit_ctr.scoring import score

SMALL_FNN = {"embed_dim": 4, "hidden_units": [16]}
FM_PHASE = {"max_epochs": 2, "min_epochs": 2, "lr": 0.02}


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: one intra-op thread is faster, and much faster when the
    machine is shared (two threads spin against other jobs for each small matmul)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_dir(config: Path, version: int = 0) -> Path:
    return config.parent / "runs" / "test" / f"version_{version}"


def epochs_with(metrics: pl.DataFrame, column: str) -> list[int]:
    return sorted(metrics.drop_nulls(column)["epoch"].unique().to_list()) if column in metrics.columns else []


def with_fm_phase(config: Path, **settings: object) -> Path:
    """Add an ``fm_pretraining:`` block to a config file."""
    content = yaml.safe_load(config.read_text())
    content["fm_pretraining"] = {**FM_PHASE, **settings}
    config.write_text(yaml.safe_dump(content))
    return config


def fm_vectors(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if k.split(".")[0] in ("linear", "embedding")}


FROZEN_FNN = {**SMALL_FNN, "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.0}}}


@pytest.fixture
def pretrained_fit(write_config) -> Path:
    """``lit-ctr fit`` of a small FNN with an FM phase of 2 epochs, then 2 FNN epochs."""
    config = with_fm_phase(write_config("FNN", SMALL_FNN, max_epochs=2))
    main(["fit", "--config", str(config)])
    return config


def test_fnn_starts_from_the_fm_phases_best_checkpoint_exactly(write_config):
    config = with_fm_phase(write_config("FNN", FROZEN_FNN, max_epochs=1))  # lr 0: FNN leaves the vectors alone
    main(["fit", "--config", str(config)])
    fm_best = fm_vectors(run_dir(config) / "checkpoints" / "fm" / "best.ckpt")
    fnn_last = fm_vectors(run_dir(config) / "checkpoints" / "last.ckpt")
    assert fnn_last.keys() == fm_best.keys() and fm_best
    for key in fm_best:  # w (linear.*: table, numeric weights, bias) and v (embedding.*)
        assert torch.equal(fnn_last[key], fm_best[key]), key


def test_fm_phase_metrics_are_logged_under_fm_and_fnn_metrics_under_val(pretrained_fit):
    metrics = pl.read_csv(run_dir(pretrained_fit) / "metrics.csv")
    assert epochs_with(metrics, "fm/val/auc") == epochs_with(metrics, "fm/val/logloss") == [0, 1]
    assert epochs_with(metrics, "fm/train/loss")
    assert metrics.drop_nulls("fm/best_val_auc").height == 1
    assert epochs_with(metrics, "val/auc") == epochs_with(metrics, "val/logloss") == [0, 1]
    assert epochs_with(metrics, "train/loss")


def test_best_checkpoint_is_the_fnns_and_scores_rows_alone(pretrained_fit, synthetic_files):
    best = run_dir(pretrained_fit) / "checkpoints" / "best.ckpt"
    assert torch.load(best, map_location="cpu", weights_only=True)["lit_ctr"]["model_class"] == "FNN"
    model = FNN.load_from_checkpoint(best, weights_only=True)  # no data, no FM phase
    assert type(model) is FNN
    probabilities = score(best, synthetic_files["test"])
    assert probabilities.shape[0] > 0 and ((probabilities > 0) & (probabilities < 1)).all()


def test_resuming_from_an_fnn_checkpoint_does_not_redo_the_fm_phase(pretrained_fit):
    last = run_dir(pretrained_fit) / "checkpoints" / "last.ckpt"
    main(["fit", "--config", str(pretrained_fit), "--ckpt_path", str(last), "--trainer.max_epochs=3",
          "--trainer.logger.init_args.version=1"])  # fmt: skip
    metrics = pl.read_csv(run_dir(pretrained_fit, version=1) / "metrics.csv")
    assert not [c for c in metrics.columns if c.startswith("fm/")]
    assert epochs_with(metrics, "val/auc") == [2]  # it went on from the FNN checkpoint's epoch


def test_an_fm_phase_checkpoint_resumes_the_fm_phase_then_fits_fnn(write_config):
    config = with_fm_phase(write_config("FNN", SMALL_FNN, max_epochs=1), max_epochs=1, min_epochs=1)
    main(["fit", "--config", str(config), "--trainer.max_epochs=0"])  # only the FM phase's epoch 0 ran
    fm_last = run_dir(config) / "checkpoints" / "fm" / "last.ckpt"
    main(["fit", "--config", str(config), f"--fm_pretraining.ckpt_path={fm_last}", "--fm_pretraining.max_epochs=2",
          "--trainer.logger.init_args.version=1"])  # fmt: skip
    metrics = pl.read_csv(run_dir(config, version=1) / "metrics.csv")
    assert epochs_with(metrics, "fm/val/auc") == [1]  # epoch 0 was not trained again
    assert epochs_with(metrics, "val/auc") == [0]  # then FNN, from its start


def test_fm_checkpoint_means_no_fm_phase(write_config):
    fm_config = write_config("FM", {"embed_dim": 4}, max_epochs=1)
    main(["fit", "--config", str(fm_config)])
    fm_best = run_dir(fm_config) / "checkpoints" / "best.ckpt"

    config = with_fm_phase(write_config("FNN", {**FROZEN_FNN, "fm_checkpoint": str(fm_best)}, max_epochs=1))
    main(["fit", "--config", str(config), "--trainer.logger.init_args.version=1"])
    metrics = pl.read_csv(run_dir(config, version=1) / "metrics.csv")
    assert not [c for c in metrics.columns if c.startswith("fm/")]
    fnn_last = fm_vectors(run_dir(config, version=1) / "checkpoints" / "last.ckpt")
    for key, value in fm_vectors(fm_best).items():
        assert torch.equal(fnn_last[key], value), key


def test_an_fm_checkpoint_of_another_shape_is_an_error_naming_the_difference(tmp_path):
    path = tmp_path / "fm.ckpt"
    fm = FM([5, 7], 1, embed_dim=3)
    torch.save({"state_dict": fm.state_dict(), "hyper_parameters": dict(fm.hparams)}, path)
    with pytest.raises(CheckpointError, match="embed_dim is 3, this FNN has 4"):
        FNN([5, 7], 1, **SMALL_FNN).load_fm_checkpoint(path)


# ----------------------------------------------------------------- the FM phase's own rule
def tiny_data(root: Path, **kwargs) -> SyntheticCTRDataModule:
    return SyntheticCTRDataModule(
        **{"rows": 4_000, "numeric_fields": 1, "categorical_fields": 4, "max_cardinality": 20, "seed": 1, **kwargs},
        data_dir=str(root / "data"), cache_dir=str(root / "cache"), batch_size=256,
    )  # fmt: skip


def quiet_trainer(max_epochs: int, callbacks: list, root: Path, **kwargs) -> L.Trainer:
    return L.Trainer(
        max_epochs=max_epochs, callbacks=callbacks, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=root,
        **kwargs,
    )  # fmt: skip


QUIET = {"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False, "num_sanity_val_steps": 0}


class FMEpochs(L.Callback):
    def __init__(self) -> None:
        self.epochs: list[int] = []

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.epochs.append(trainer.current_epoch)


def test_early_stopping_cannot_end_the_fm_phase_before_min_epochs(tmp_path, monkeypatch):
    data = tiny_data(tmp_path)
    fnn = FNN(data.field_dims, data.num_numeric, **SMALL_FNN)
    fm_trainers: list[L.Trainer] = []
    original = L.Trainer.fit

    def record(self, *args, **kwargs):
        fm_trainers.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(L.Trainer, "fit", record)
    settings = FMPretraining(max_epochs=10, min_epochs=3, patience=1, lr=0.0, warn_below_auc=0.0)  # lr 0: flat
    fit_fm_phase(fnn, data, quiet_trainer(1, [], tmp_path), settings, QUIET)
    assert fm_trainers[0].current_epoch == 3  # 3 epochs ran, though patience 1 had run out after the second


def test_a_chance_level_fm_is_warned_about_in_one_line(tmp_path):
    data = tiny_data(tmp_path)
    fnn = FNN(data.field_dims, data.num_numeric, **SMALL_FNN)
    settings = FMPretraining(max_epochs=1, min_epochs=1, lr=0.0, warn_below_auc=1.01)
    with pytest.warns(UserWarning, match=r"the FM handed to FNN is barely better than chance \(fm/val/auc 0\.\d+ <"):
        path = fit_fm_phase(fnn, data, quiet_trainer(1, [], tmp_path), settings, QUIET)
    assert Path(path).name == "best.ckpt"


def test_an_fm_phase_without_validation_says_so_rather_than_chance(tmp_path):
    data = tiny_data(tmp_path)
    fnn = FNN(data.field_dims, data.num_numeric, **SMALL_FNN)
    settings = FMPretraining(max_epochs=1, min_epochs=1, lr=0.01)
    with pytest.warns(UserWarning, match=r"the FM phase ran without validation") as caught:
        path = fit_fm_phase(fnn, data, quiet_trainer(1, [], tmp_path), settings, {**QUIET, "limit_val_batches": 0})
    assert not [w for w in caught if "barely better than chance" in str(w.message)]
    assert Path(path).name == "last.ckpt"


def test_the_fm_phase_adam_takes_its_weight_decay(tmp_path, monkeypatch):
    data = tiny_data(tmp_path)
    fnn = FNN(data.field_dims, data.num_numeric, **SMALL_FNN)
    decays: list[float] = []
    original = L.Trainer.fit

    def record(self, model, *args, **kwargs):
        decays.extend(group["weight_decay"] for group in model.configure_optimizers().param_groups)
        return original(self, model, *args, **kwargs)

    monkeypatch.setattr(L.Trainer, "fit", record)
    settings = FMPretraining(max_epochs=1, min_epochs=1, lr=0.003, weight_decay=0.001, warn_below_auc=0.0)
    fit_fm_phase(fnn, data, quiet_trainer(1, [], tmp_path), settings, QUIET)
    assert decays and set(decays) == {0.001}


def test_fm_phase_weight_decay_without_lr_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^fm_pretraining\.weight_decay: needs fm_pretraining\.lr"):
        FMPretraining(weight_decay=0.001)


def test_negative_fm_phase_weight_decay_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^fm_pretraining\.weight_decay: expected a number >= 0, got -0\.1$"):
        FMPretraining(lr=0.01, weight_decay=-0.1)


def test_min_epochs_above_max_epochs_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^fm_pretraining\.min_epochs: expected at most max_epochs \(2\), got 3$"):
        FMPretraining(max_epochs=2, min_epochs=3)


# ----------------------------------------------------------------- the method's claim
# Planted-FM data (8,000 rows, 2 numeric + 6 categorical fields). FNN (MLP [64, 64], Adam
# 3e-3, batch 128) is trained from random vectors and from the vectors of an FM trained
# for FM_EPOCHS epochs (lr 0.01); we count FNN epochs until the validation AUC reaches
# TARGET_AUC.
TARGET_AUC = 0.72
FM_EPOCHS = 3
MAX_FNN_EPOCHS = 6


def fnn_epochs_to_target(root: Path, pretrain: bool) -> int | None:
    data = tiny_data(root, rows=8_000, numeric_fields=2, categorical_fields=6, max_cardinality=30, seed=5)
    data.batch_size = 128
    L.seed_everything(0)
    model = FNN(data.field_dims, data.num_numeric, embed_dim=8, hidden_units=[64, 64],
                optimizer=partial(torch.optim.Adam, lr=3e-3))  # fmt: skip
    if pretrain:
        settings = FMPretraining(max_epochs=FM_EPOCHS, min_epochs=FM_EPOCHS, patience=FM_EPOCHS, lr=0.01)
        model.fm_checkpoint = fit_fm_phase(model, data, quiet_trainer(1, [], root), settings, QUIET)
    aucs: list[float] = []

    class Record(L.Callback):
        def on_validation_end(self, trainer, pl_module) -> None:
            aucs.append(float(trainer.callback_metrics["val/auc"]))

    quiet_trainer(MAX_FNN_EPOCHS, [Record()], root).fit(model, data)
    assert len(aucs) == MAX_FNN_EPOCHS
    return next((epoch + 1 for epoch, auc in enumerate(aucs) if auc >= TARGET_AUC), None)


def test_fm_pretraining_reaches_the_target_auc_in_fewer_fnn_epochs_than_random_init(tmp_path):
    pretrained = fnn_epochs_to_target(tmp_path, pretrain=True)
    random_init = fnn_epochs_to_target(tmp_path, pretrain=False)
    assert pretrained is not None
    assert random_init is None or pretrained < random_init


# ----------------------------------------------------------------- DDP
@pytest.mark.slow
def test_fm_phase_and_fnn_fit_run_under_ddp_with_two_cpu_processes(write_config, tmp_path):
    config = with_fm_phase(write_config("FNN", {**SMALL_FNN, "batch_norm": True}, max_epochs=1))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [
            sys.executable, "-m", "lit_ctr", "fit", "--config", str(config),
            "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    metrics = pl.read_csv(run_dir(config) / "metrics.csv")
    assert epochs_with(metrics, "fm/val/auc") == [0, 1] and epochs_with(metrics, "val/auc") == [0]
    assert FNN.load_from_checkpoint(run_dir(config) / "checkpoints" / "best.ckpt", weights_only=True)


class VectorsAtTrainStart(L.Callback):
    """FNN's vectors when training starts (after any checkpoint restore)."""

    def __init__(self) -> None:
        self.vectors: dict[str, torch.Tensor] = {}

    def on_train_start(self, trainer, pl_module) -> None:
        self.vectors = {k: v.clone() for k, v in pl_module.fm_state_dict().items()}


def test_a_resumed_fnn_fit_keeps_its_checkpoints_vectors_rather_than_the_fms(tmp_path):
    data = tiny_data(tmp_path)
    fm_path = tmp_path / "fm.ckpt"
    torch.save({"state_dict": FM(data.field_dims, data.num_numeric, embed_dim=4).state_dict()}, fm_path)

    def fit(epochs: int, ckpt_path: Path | None = None) -> VectorsAtTrainStart:
        probe = VectorsAtTrainStart()
        model = FNN(data.field_dims, data.num_numeric, **SMALL_FNN, fm_checkpoint=str(fm_path))
        trainer = L.Trainer(
            max_epochs=epochs, callbacks=[probe], accelerator="cpu", logger=False, enable_progress_bar=False,
            enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path,
        )  # fmt: skip
        trainer.fit(model, data, ckpt_path=ckpt_path)
        return probe

    fresh = fit(1)
    for key, value in fm_vectors(fm_path).items():
        assert torch.equal(fresh.vectors[key], value), key  # a fresh fit starts from the FM
    (last,) = (tmp_path / "checkpoints").glob("*.ckpt")  # Lightning's default: the last epoch
    resumed = fit(2, ckpt_path=last)
    for key, value in fm_vectors(last).items():
        assert torch.equal(resumed.vectors[key], value), key  # a resumed one from its checkpoint
