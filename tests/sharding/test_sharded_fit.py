"""``lit-ctr fit`` on two gloo processes with ``embedding: sharded`` and TorchrecStrategy,
against the same DeepFM with dense tables under DDP (same data, seed and optimizer: Adagrad)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from lit_ctr.cli import main

from lit_ctr import load_predictor

pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")

pytestmark = pytest.mark.slow  # three 2-process fits: about 2 minutes

ADAGRAD = {"class_path": "torch.optim.Adagrad", "init_args": {"lr": 0.05, "eps": 1e-8}}
TORCHREC = {"class_path": "lit_ctr.sharding.TorchrecStrategy", "init_args": {"table_lr": 0.05, "table_eps": 1e-8}}
TOLERANCE = 1e-5  # float32 sums in another order: the runs agree to ~1e-7


def fit(config: Path, *args: str) -> None:
    command = [sys.executable, "-m", "lit_ctr", "fit", "--config", str(config), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synthetic_files):
    """Dense DDP for 2 epochs; sharded for 1 epoch, then resumed from its last.ckpt to 2."""
    import yaml
    from synthetic_config import synthetic_data_config

    root = tmp_path_factory.mktemp("sharded")

    def config(name: str, embedding: str, strategy: object) -> Path:
        data = synthetic_data_config(synthetic_files, root / "cache")
        data["init_args"]["eval_batch_size"] = 300  # 600 validation rows: one batch per rank
        trainer = {
            "max_epochs": 1, "accelerator": "cpu", "devices": 2, "strategy": strategy,
            "enable_progress_bar": False, "enable_model_summary": False, "log_every_n_steps": 1,
            "default_root_dir": str(root / "runs"),
            "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                       "init_args": {"save_dir": str(root / "runs"), "name": name, "version": 0}},
        }  # fmt: skip
        model = {"embed_dim": 4, "hidden_units": [16], "embedding": embedding, "optimizer": ADAGRAD}
        path = root / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"seed_everything": 0, "trainer": trainer, "data": data,
                                        "model": {"class_path": "DeepFM", "init_args": model}}))  # fmt: skip
        return path

    dense, sharded = config("dense", "dense", "ddp"), config("sharded", "sharded", TORCHREC)
    fit(dense, "--trainer.max_epochs=2")
    fit(sharded)
    first = root / "runs" / "sharded" / "version_0"
    fit(sharded, "--ckpt_path", str(first / "checkpoints" / "last.ckpt"), "--trainer.max_epochs=2",
        "--trainer.logger.init_args.version=1")  # fmt: skip
    return {"root": root, "dense": root / "runs" / "dense" / "version_0", "sharded": first,
            "resumed": root / "runs" / "sharded" / "version_1", "test_file": synthetic_files["test"]}  # fmt: skip


def metrics(run: Path) -> pl.DataFrame:
    return pl.read_csv(run / "metrics.csv")


def test_sharded_fit_logs_the_training_losses_of_the_dense_ddp_fit(runs):
    sharded = metrics(runs["sharded"]).drop_nulls("train/loss")["train/loss"].to_numpy()
    dense = metrics(runs["dense"]).drop_nulls("train/loss")["train/loss"].to_numpy()[: len(sharded)]
    assert len(sharded) > 5
    np.testing.assert_allclose(sharded, dense, atol=TOLERANCE)


def test_sharded_fit_validation_auc_over_both_ranks_equals_the_dense_fits(runs):
    sharded = metrics(runs["sharded"]).drop_nulls("val/auc")["val/auc"][0]
    dense = metrics(runs["dense"]).drop_nulls("val/auc")["val/auc"][0]
    assert sharded == pytest.approx(dense, abs=TOLERANCE)


def test_resumed_sharded_fit_continues_as_the_uninterrupted_dense_fit(runs):
    # Tables, their fused Adagrad state and the dense optimizer all come back: epoch 2 matches.
    resumed = metrics(runs["resumed"])
    dense = metrics(runs["dense"])
    assert resumed.drop_nulls("val/auc")["val/auc"][-1] == pytest.approx(
        dense.drop_nulls("val/auc")["val/auc"][-1], abs=TOLERANCE
    )
    steps = len(resumed.drop_nulls("train/loss"))
    np.testing.assert_allclose(
        resumed.drop_nulls("train/loss")["train/loss"].to_numpy(),
        dense.drop_nulls("train/loss")["train/loss"].to_numpy()[-steps:],
        atol=TOLERANCE,
    )


def test_sharded_checkpoint_exports_and_scores_rows_like_the_dense_model(runs):
    artifacts = {}  # both best checkpoints are of epoch 2
    for name in ("resumed", "dense"):
        artifacts[name] = runs["root"] / f"{name}.pt"
        main(["export", "--ckpt_path", str(runs[name] / "checkpoints" / "best.ckpt"),
              "--output", str(artifacts[name])])  # fmt: skip
    file_format = {"kind": "tsv", "has_header": False}
    sharded = load_predictor(artifacts["resumed"]).predict(runs["test_file"], file_format=file_format)
    dense = load_predictor(artifacts["dense"]).predict(runs["test_file"], file_format=file_format)
    assert len(sharded) == 600
    np.testing.assert_allclose(sharded, dense, atol=TOLERANCE)


def test_sharded_checkpoint_scores_through_load_predictor_like_its_export(runs):
    file_format = {"kind": "tsv", "has_header": False}
    checkpoint = load_predictor(runs["resumed"] / "checkpoints" / "best.ckpt").predict(
        runs["test_file"], file_format=file_format
    )
    exported = load_predictor(runs["root"] / "resumed.pt").predict(runs["test_file"], file_format=file_format)
    np.testing.assert_allclose(checkpoint, exported, atol=1e-6)
