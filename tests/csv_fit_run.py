"""One small DeepFM fit and test through the ``lit-ctr`` command on generated CSV splits,
shared by the end-to-end tests of field kinds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from lit_ctr.cli import main


def fit_and_test_csv(
    root: Path, name: str, schema: dict[str, Any], write_rows: Callable[[Path, int, int], Path], **model_args: Any
) -> dict[str, Path]:
    """Write train/valid/test CSVs (3000/500/500 rows, seeds 0/1/2) with ``write_rows``, fit
    DeepFM (embed 4, MLP [8], Adam 0.02, 3 epochs) on them with ``schema``, test its best
    checkpoint. Returns the run's ``root``, ``checkpoint`` and ``test`` file; the metrics are
    in ``root/runs/<name>/version_0/metrics.csv``."""
    data = {
        "class_path": "CTRDataModule",
        "init_args": {
            "schema": schema,
            "train_path": str(write_rows(root / "train.csv", 3000, 0)),
            "valid_path": str(write_rows(root / "valid.csv", 500, 1)),
            "test_path": str(write_rows(root / "test.csv", 500, 2)),
            "file_format": {"kind": "csv"},
            "cache_dir": str(root / "cache"),
            "batch_size": 128,
        },
    }
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 3,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": name, "version": 0},
            },
        },
        "model": {
            "class_path": "DeepFM",
            "init_args": {
                "embed_dim": 4,
                "hidden_units": [8],
                **model_args,
                "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.02}},
            },
        },
        "data": data,
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    checkpoint = root / "runs" / name / "version_0" / "checkpoints" / "best.ckpt"
    main(["test", "--config", str(path), "--ckpt_path", str(checkpoint)])
    return {"root": root, "checkpoint": checkpoint, "test": Path(data["init_args"]["test_path"])}
