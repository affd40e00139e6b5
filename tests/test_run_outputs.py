"""What a run shows without W&B: progress, learning rate and throughput, test plots."""

from __future__ import annotations

import contextlib
import io
import logging

import numpy as np
import polars as pl
import pytest
import torch
import yaml
from lit_ctr.cli import main
from synthetic_config import SYNTHETIC_SCHEMA, synthetic_data_config
from torchmetrics.functional.classification import binary_auroc

from lit_ctr.callbacks.evaluation_plots import calibration_bins, roc_curve
from lit_ctr.data import CTRDataModule, FileFormat, Schema


@pytest.fixture(scope="module")
def run(tmp_path_factory, synthetic_files) -> dict:
    """``lit-ctr fit`` (progress bar on, CSV logger) then ``lit-ctr test`` of FM."""
    root = tmp_path_factory.mktemp("outputs")
    log_dir = root / "runs" / "outputs" / "version_0"
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 1,
            "accelerator": "cpu",
            "enable_model_summary": False,
            "log_every_n_steps": 4,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": "outputs", "version": 0},
            },
        },
        "model": {
            "class_path": "FM",
            "init_args": {"embed_dim": 4, "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.02}}},
        },
        "data": synthetic_data_config(synthetic_files, root / "cache"),
        "early_stopping": {"patience": 5},
    }
    path = root / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    screen = io.StringIO()
    with contextlib.redirect_stdout(screen), contextlib.redirect_stderr(screen):
        main(["fit", "--config", str(path)])
    fit_metrics = pl.read_csv(log_dir / "metrics.csv")
    main(
        [
            "test",
            "--config",
            str(path),
            "--ckpt_path",
            str(log_dir / "checkpoints" / "best.ckpt"),
            "--trainer.enable_progress_bar",
            "false",
        ]
    )
    return {"screen": screen.getvalue(), "fit_metrics": fit_metrics, "log_dir": log_dir}


def test_progress_bar_shows_training_samples_per_second(run):
    assert "samples/s=" in run["screen"]


def test_learning_rate_and_throughput_are_logged_each_logging_interval(run):
    metrics = run["fit_metrics"]
    logged = metrics.drop_nulls("train/loss")
    assert logged.height >= 2  # 19 batches, every 4 steps
    assert (metrics.drop_nulls("train/lr")["train/lr"] == 0.02).all()
    assert metrics.drop_nulls("train/samples_per_sec").height == logged.height
    assert (metrics.drop_nulls("train/samples_per_sec")["train/samples_per_sec"] > 0).all()


def test_lit_ctr_test_writes_roc_calibration_and_probability_plots_into_the_log_dir(run):
    for name in ("roc.png", "calibration.png", "probabilities.png"):
        assert (run["log_dir"] / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_plotted_roc_auc_is_the_exact_auc():
    rng = np.random.default_rng(0)
    labels = (rng.random(2_000) < 0.3).astype(np.float32)
    probabilities = np.round(1 / (1 + np.exp(-(rng.normal(size=2_000) + 2 * labels - 1))), 2)  # with ties
    fpr, tpr, auc = roc_curve(probabilities, labels)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert auc == pytest.approx(
        binary_auroc(torch.from_numpy(probabilities), torch.from_numpy(labels).int()).item(), abs=1e-6
    )


def test_calibration_bins_report_observed_rates_and_expected_calibration_error():
    probabilities = np.array([0.05, 0.05, 0.95, 0.95])
    stats = calibration_bins(probabilities, np.array([0, 0, 1, 0]), bins=10)
    assert stats["counts"][0] == 2 and stats["counts"][9] == 2
    assert stats["observed"][0] == 0 and stats["observed"][9] == 0.5
    assert stats["ece"] == pytest.approx((2 * 0.05 + 2 * 0.45) / 4)


def test_encoding_logs_progress_per_file_and_split(synthetic_files, tmp_path):
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("lit_ctr")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        datamodule = CTRDataModule(
            schema=Schema(**SYNTHETIC_SCHEMA),
            train_path=str(synthetic_files["train"]),
            valid_path=str(synthetic_files["valid"]),
            file_format=FileFormat(kind="tsv", has_header=False),
            cache_dir=str(tmp_path / "cache"),
        )
        datamodule.prepare_data()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    text = "\n".join(lines)
    train, valid = (len(synthetic_files[s].read_text().splitlines()) for s in ("train", "valid"))
    assert f"read {synthetic_files['train']}: {train} rows" in text
    assert f"read {synthetic_files['valid']}: {valid} rows" in text
    assert "fitted the vocabulary on the train split" in text
    assert f"encoded the train split: {train} rows" in text and f"encoded the valid split: {valid} rows" in text


def test_lightnings_throughput_monitor_is_found_by_its_short_name():
    from lightning.pytorch.callbacks import ThroughputMonitor
    from lit_ctr.cli import build_cli

    cli = build_cli(
        ["--model", "FM", "--data", "SyntheticCTRDataModule", "--trainer.logger", "false",
         "--trainer.callbacks+=ThroughputMonitor",
         "--trainer.callbacks.batch_size_fn", "lit_ctr.callbacks._common.batch_size"],
        run=False,
    )  # fmt: skip
    assert any(type(c) is ThroughputMonitor for c in cli.trainer.callbacks)


def test_the_learning_rate_logger_is_lightnings_monitor_under_lit_ctr_names():
    from lightning.pytorch.callbacks import LearningRateMonitor

    from lit_ctr.callbacks.learning_rate import LearningRateLogger, learning_rates

    sparse = torch.optim.SparseAdam([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    dense = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=0.01)
    assert isinstance(LearningRateLogger(), LearningRateMonitor)
    assert learning_rates([sparse, dense]) == {"train/lr/SparseAdam": 0.1, "train/lr/Adam": 0.01}


def test_the_learning_rate_logger_runs_without_a_logger():
    import lightning as L

    from lit_ctr.callbacks import LearningRateLogger
    from lit_ctr.models import FM

    batch = {"ids": torch.tensor([[0, 3]]), "numeric": torch.zeros(1, 0), "label": torch.ones(1)}
    trainer = L.Trainer(max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", callbacks=[LearningRateLogger()])  # fmt: skip
    trainer.fit(FM([3, 4], embed_dim=2), torch.utils.data.DataLoader([batch] * 2, batch_size=None))
    assert trainer.global_step == 2
