"""Scaled numeric fields end to end: fit → checkpoint → score raw rows, and the exported
artifacts score them alike (the statistics travel inside)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from csv_fit_run import quiet_trainer
from lit_ctr.cli import main
from synthetic_config import SYNTHETIC_SCHEMA, synthetic_data_config

from lit_ctr.data.rows import encode_rows
from lit_ctr.predictor import load_predictor
from lit_ctr.scoring import load_model, score

NAMES = ["I1", "I2"] + [f"C{i}" for i in range(1, 7)]
SCALED_SCHEMA = {
    "label": "label",
    "fields": [
        {"name": "I1", "kind": "numeric", "transform": "standard", "clip": [-3.0, 3.0]},
        {"name": "I2", "kind": "numeric", "transform": "minmax", "fill_value": -1.0},
    ]
    + SYNTHETIC_SCHEMA["fields"][2:],
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, synthetic_files) -> Path:
    root = tmp_path_factory.mktemp("scaled")
    data = synthetic_data_config(synthetic_files, root / "cache")
    data["init_args"]["schema"] = SCALED_SCHEMA
    config = {
        "seed_everything": 0,
        "trainer": quiet_trainer(str(root / "runs"), "scaled", max_epochs=1),
        "model": {"class_path": "DeepFM", "init_args": {"embed_dim": 4, "hidden_units": [8]}},
        "data": data,
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    return root / "runs" / "scaled" / "version_0" / "checkpoints" / "best.ckpt"


@pytest.fixture(scope="module")
def raw_rows(synthetic_files) -> pl.DataFrame:
    raw = pl.read_csv(synthetic_files["test"], separator="\t", has_header=False, infer_schema=False)
    rows = raw.drop(raw.columns[0]).head(100)
    rows.columns = NAMES
    odd = pl.DataFrame({"I1": [None, "1e9"], "I2": ["", "-5"], **{f"C{i}": ["x", None] for i in range(1, 7)}})
    return pl.concat([rows, odd])


def test_a_checkpoint_scores_raw_rows_with_the_training_statistics(checkpoint, raw_rows):
    preprocessing = load_model(checkpoint).preprocessing
    stats = preprocessing["vocabulary"]["numeric"]
    numeric = encode_rows(preprocessing, raw_rows).numeric
    i2 = raw_rows["I2"][:100].cast(pl.Float64).to_numpy()
    expected = (i2 - stats["I2"]["min"]) / (stats["I2"]["max"] - stats["I2"]["min"])
    expected[np.isnan(i2)] = -1.0  # missing cells: the field's fill_value
    np.testing.assert_allclose(numeric[:100, 1], expected, rtol=1e-5, atol=1e-6)
    assert numeric[-2:, 0].tolist() == [0.0, 3.0]  # missing: fill_value 0 (the mean); 1e9: clipped
    assert numeric[-2, 1] == -1.0  # missing: the field's fill_value


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_an_export_scores_scaled_fields_like_the_checkpoint(checkpoint, raw_rows, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")
    output = checkpoint.parent.parent / f"model.{'pt' if fmt == 'torchscript' else 'onnx'}"
    main(["export", "--ckpt_path", str(checkpoint), "--format", fmt, "--output", str(output)])
    got = load_predictor(output).predict(raw_rows)
    assert np.max(np.abs(got - score(checkpoint, raw_rows))) < 1e-5
