"""Shared fixtures: small generated data sets and configs written into temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from synthetic_config import synthetic_data_config

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small planted-FM data set (2 numeric + 6 categorical fields) as TSV files."""
    from lit_ctr.data.synthetic import SyntheticSpec, write_synthetic

    spec = SyntheticSpec(rows=6_000, num_numeric=2, cardinalities=[5, 10, 20, 30, 40, 50], seed=3)
    return write_synthetic(tmp_path_factory.mktemp("synthetic") / "data", spec, file_format="tsv")


@pytest.fixture
def write_config(tmp_path: Path, synthetic_files: dict[str, Path]):
    """Write a complete fit config for ``model`` (class name) on the small data set."""

    def write(model: str = "FM", model_args: dict | None = None, **trainer: object) -> Path:
        config = {
            "seed_everything": 0,
            "trainer": {
                "max_epochs": 2,
                "accelerator": "cpu",
                "enable_progress_bar": False,
                "enable_model_summary": False,
                "log_every_n_steps": 1,
                "default_root_dir": str(tmp_path / "runs"),
                "logger": {
                    "class_path": "lightning.pytorch.loggers.CSVLogger",
                    "init_args": {"save_dir": str(tmp_path / "runs"), "name": "test", "version": 0},
                },
                **trainer,
            },
            "model": {"class_path": model, "init_args": model_args or {}},
            "data": synthetic_data_config(synthetic_files, tmp_path / "cache"),
        }
        path = tmp_path / f"{model.rsplit('.', 1)[-1].lower()}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    return write
