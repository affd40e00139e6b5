"""One small DeepFM fit and test through the ``lit-ctr`` command on generated CSV splits,
shared by the end-to-end tests of field kinds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from lit_ctr.cli import main


def quiet_trainer(save_dir: str, name: str, max_epochs: int) -> dict[str, Any]:
    """A ``trainer:`` config for tests: CPU, no progress bar or model summary, a CSV logger
    writing ``save_dir/name/version_0``."""
    return {
        "max_epochs": max_epochs,
        "accelerator": "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "logger": {
            "class_path": "lightning.pytorch.loggers.CSVLogger",
            "init_args": {"save_dir": save_dir, "name": name, "version": 0},
        },
    }


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
        "trainer": quiet_trainer(str(root / "runs"), name, max_epochs=3),
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


def export_with_cli(run: dict[str, Path], fmt: str) -> Path:
    """``lit-ctr export`` of the run's checkpoint as ``fmt`` (torchscript or onnx); the
    artifact's path. Skips when ONNX's packages are missing."""
    if fmt == "onnx":
        import pytest

        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")
    output = run["root"] / f"model.{'pt' if fmt == 'torchscript' else 'onnx'}"
    main(["export", "--ckpt_path", str(run["checkpoint"]), "--format", fmt, "--output", str(output)])
    return output


def predict_with_cli(run: dict[str, Path]) -> Any:
    """``lit-ctr predict`` of the run's test file with its checkpoint: the probabilities."""
    import polars as pl

    output = run["root"] / "predictions.csv"
    main(
        [
            "predict", "--config", str(run["root"] / "config.yaml"), "--ckpt_path", str(run["checkpoint"]),
            "--data.init_args.predict_path", str(run["test"]), "--predictions.output", str(output),
        ]
    )  # fmt: skip
    return pl.read_csv(output)["probability"].to_numpy()
