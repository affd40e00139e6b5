"""Fixtures of the reliability tests: fit configs on the shared small data set, and one
uninterrupted reference run that the crash, resume and reproducibility tests compare to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config

EPOCHS = 3
STEPS_PER_EPOCH = 19  # 4,800 training rows of the shared synthetic set in batches of 256


def write_fit_config(directory: Path, files: dict[str, Path], cache_dir: Path, **trainer: object) -> Path:
    """A complete FM fit config whose run lands in ``directory/runs/test/version_0``."""
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": EPOCHS,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "log_every_n_steps": 1,
            "default_root_dir": str(directory / "runs"),
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(directory / "runs"), "name": "test", "version": 0},
            },
            **trainer,
        },
        "model": {
            "class_path": "FM",
            "init_args": {"embed_dim": 4, "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.02}}},
        },
        "data": synthetic_data_config(files, cache_dir),
        "early_stopping": {"patience": 100},  # every run trains all epochs
        # best.ckpt stays at epoch 0 whatever the metrics do: no later epoch improves on
        # it, so last.ckpt must be written without a new best (what a resume needs).
        "checkpoint": {"monitor": "epoch", "mode": "min"},
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_dir(config: Path) -> Path:
    return config.parent / "runs" / "test" / "version_0"


def validation_metrics(config: Path) -> pl.DataFrame:
    """``epoch, val/auc, val/logloss`` of a run, one row per validated epoch."""
    metrics = pl.read_csv(run_dir(config) / "metrics.csv")
    return metrics.drop_nulls("val/auc").select("epoch", "val/auc", "val/logloss").sort("epoch")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def fit_config(tmp_path: Path, synthetic_files: dict[str, Path], shared_cache: Path) -> Callable[..., Path]:
    """``fit_config(name="run", **trainer)``: write a fit config under tmp_path/name."""

    def make(name: str = "run", **trainer: object) -> Path:
        return write_fit_config(tmp_path / name, synthetic_files, shared_cache, **trainer)

    return make


@pytest.fixture(scope="session")
def reference_run(
    tmp_path_factory: pytest.TempPathFactory, synthetic_files: dict[str, Path], shared_cache: Path
) -> Path:
    """The config of one uninterrupted in-process fit, already run."""
    config = write_fit_config(tmp_path_factory.mktemp("reference"), synthetic_files, shared_cache)
    main(["fit", "--config", str(config)])
    return config


LARGE_SCHEMA = {
    "label": "label",
    "fields": [{"name": "I1", "kind": "numeric", "transform": "log1p"}] + [{"name": f"C{i}"} for i in range(1, 5)],
}


@pytest.fixture(scope="session")
def large_tsv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Headerless TSV train (200,000 rows) and valid (20,000 rows) files for LARGE_SCHEMA."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("large")
    files = {}
    for split, rows in (("train", 200_000), ("valid", 20_000)):
        frame = pl.DataFrame(
            {
                "label": rng.integers(0, 2, rows),
                "I1": rng.integers(0, 10_000, rows),
                **{f"C{i}": rng.integers(0, 10 ** (i + 1), rows).astype(str) for i in range(1, 5)},
            }
        )
        files[split] = folder / f"{split}.tsv"
        frame.write_csv(files[split], separator="\t", include_header=False)
    return files
