"""``lit_ctr.load_predictor`` on an exported artifact imports neither Lightning nor the
training stack: scoring needs the artifact, numpy and polars (and torch for TorchScript)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, synthetic_files) -> Path:
    """The checkpoint of a one-epoch FM on the small synthetic files."""
    root = tmp_path_factory.mktemp("light")
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 1,
            "limit_train_batches": 2,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "class_path": "lightning.pytorch.loggers.CSVLogger",
                "init_args": {"save_dir": str(root / "runs"), "name": "fm", "version": 0},
            },
        },
        "model": {"class_path": "FM", "init_args": {"embed_dim": 4}},
        "data": synthetic_data_config(synthetic_files, root / "cache"),
    }
    path = root / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    return root / "runs" / "fm" / "version_0" / "checkpoints" / "best.ckpt"


def _score_in_a_fresh_process(artifact: Path, rows: list[dict], cwd: Path) -> dict:
    """Load ``artifact`` with ``lit_ctr.load_predictor`` in a new interpreter, score ``rows``;
    return the scores and which heavy modules got imported."""
    code = (
        "import json, sys, lit_ctr\n"
        f"rows = json.loads({json.dumps(rows)!r})\n"
        f"scores = lit_ctr.load_predictor({str(artifact)!r}).predict(rows).tolist()\n"
        "heavy = ['lightning', 'lightning.pytorch', 'torch', 'torchmetrics', 'lit_ctr.models', 'lit_ctr.data.datamodule']\n"
        "print(json.dumps({'scores': scores, 'imported': [m for m in heavy if m in sys.modules]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


ROWS = [
    {"I1": "3", "I2": "7", "C1": "1", "C2": "2", "C3": "3", "C4": "4", "C5": "5", "C6": "6"},
    {"I1": None, "I2": "", "C1": "unseen", "C2": None, "C3": "", "C4": "0", "C5": "1", "C6": "2"},
]


def test_torchscript_predictor_scores_rows_without_importing_lightning(checkpoint, tmp_path):
    artifact = tmp_path / "model.pt"
    main(["export", "--ckpt_path", str(checkpoint), "--format", "torchscript", "--output", str(artifact)])
    got = _score_in_a_fresh_process(artifact, ROWS, tmp_path)
    assert len(got["scores"]) == 2 and all(0 < p < 1 for p in got["scores"])
    assert "lightning" not in got["imported"] and "lightning.pytorch" not in got["imported"], got["imported"]
    assert "lit_ctr.models" not in got["imported"] and "lit_ctr.data.datamodule" not in got["imported"]


def test_onnx_predictor_scores_rows_without_importing_lightning_or_torch(checkpoint, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    artifact = tmp_path / "model.onnx"
    main(["export", "--ckpt_path", str(checkpoint), "--format", "onnx", "--output", str(artifact)])
    got = _score_in_a_fresh_process(artifact, ROWS, tmp_path)
    assert len(got["scores"]) == 2 and all(0 < p < 1 for p in got["scores"])
    assert got["imported"] == [], got["imported"]
