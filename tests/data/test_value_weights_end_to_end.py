"""Weighted multi-valued fields end to end: a CSV with ``tag:weight`` cells → fit → test →
checkpoint → scoring raw rows with weights (text, lists, values without weights, missing and
empty cells) → ``lit-ctr predict`` and TorchScript and ONNX exports that score them alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from csv_fit_run import export_with_cli, fit_and_test_csv, predict_with_cli

from lit_ctr.predictor import load_predictor
from lit_ctr.scoring import load_model, score

SCHEMA = {
    "label": "label",
    "fields": [
        {"name": "user"},
        {"name": "tags", "kind": "multi", "max_len": 4, "pooling": "sum", "value_weights": True},
        {"name": "genres", "kind": "multi", "separator": ";", "max_len": 2, "pooling": "mean", "value_weights": True},
        {"name": "topics", "kind": "multi", "max_len": 2, "pooling": "max", "value_weights": True, "keep": "last"},
        {"name": "plain", "kind": "multi", "max_len": 2},
        {"name": "price", "kind": "numeric"},
    ],
}


def write_rows(path: Path, rows: int, seed: int) -> Path:
    """Clicks driven by the tags' weights: tag t0..t4 push up by their weight, t5..t9 down."""
    rng = np.random.default_rng(seed)
    lines = ["label,user,tags,genres,topics,plain,price"]
    for _ in range(rows):
        tags = rng.choice(10, size=rng.integers(0, 6), replace=False)
        weights = rng.uniform(0.0, 2.0, len(tags)).round(2)
        logit = sum((1.5 if t < 5 else -1.5) * w for t, w in zip(tags, weights))
        label = int(rng.random() < 1 / (1 + np.exp(-logit)))
        tag_text = "|".join(f"t{t}:{w}" for t, w in zip(tags, weights))
        genres = ";".join(f"g{g}:{rng.uniform(0, 1):.2f}" for g in rng.choice(4, size=rng.integers(1, 3)))
        topics = "|".join(f"o{o}" for o in rng.choice(5, size=rng.integers(0, 4)))
        lines.append(f"{label},u{rng.integers(5)},{tag_text},{genres},{topics},p{rng.integers(3)},{rng.normal():.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    return fit_and_test_csv(tmp_path_factory.mktemp("weights"), "weights", SCHEMA, write_rows)


ODD_ROWS = [
    {"user": "u1", "tags": ["t0:1.5", "t6:0.5"], "genres": "g1:0.2;g2", "topics": "o1:3", "plain": "p1", "price": 0.5},
    {"user": "u2", "tags": [], "genres": "g0:0", "topics": [], "plain": [], "price": 1.0},  # empty lists, weight 0
    {"user": "u3", "tags": None, "genres": None, "topics": None, "plain": None, "price": None},  # missing cells
    {"user": "new", "tags": ["t0", "new-tag:2"], "genres": "zzz:1", "topics": "o9", "plain": "p9", "price": 0.0},
    {"user": "u4", "tags": "|".join(f"t{i}:{i / 4}" for i in range(8)), "genres": "g0;g1:2;g2:3", "price": 0.1},
]


def test_the_fit_learns_from_the_weighted_field(run):
    metrics = pl.read_csv(run["root"] / "runs" / "weights" / "version_0" / "metrics.csv")  # the test run's
    assert metrics["test/auc"].drop_nulls().item() > 0.7


def test_the_checkpoint_marks_the_weighted_fields(run):
    assert load_model(run["checkpoint"]).hparams["multi_fields"] == [
        {"max_len": 4, "pooling": "sum", "value_weights": True},
        {"max_len": 2, "pooling": "mean", "value_weights": True},
        {"max_len": 2, "pooling": "max", "value_weights": True},
        {"max_len": 2, "pooling": "mean"},
    ]


def test_a_values_weight_changes_its_rows_score(run):
    light, heavy = dict(ODD_ROWS[0], tags=["t0:0.1"]), dict(ODD_ROWS[0], tags=["t0:2"])
    low, high = score(run["checkpoint"], [light, heavy])
    assert high > low  # t0 pushes clicks up, by its weight


def test_values_without_weights_score_as_weights_of_one(run):
    implicit = dict(ODD_ROWS[0], tags="t0|t6", genres="g1;g2")
    explicit = dict(ODD_ROWS[0], tags="t0:1|t6:1.0", genres="g1:1;g2:1")
    assert score(run["checkpoint"], [implicit]).tolist() == score(run["checkpoint"], [explicit]).tolist()


def test_text_and_list_cells_of_the_same_weighted_values_score_the_same(run):
    as_text = [dict(ODD_ROWS[0], tags="t0:1.5|t6:0.5")]
    assert score(run["checkpoint"], as_text).tolist() == score(run["checkpoint"], ODD_ROWS[:1]).tolist()


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_an_export_scores_weighted_raw_rows_like_the_checkpoint(run, fmt):
    predictor = load_predictor(export_with_cli(run, fmt))
    for rows in (ODD_ROWS, str(run["test"])):
        got, expected = predictor.predict(rows, file_format={"kind": "csv"}), score(run["checkpoint"], rows)
        assert got.shape == expected.shape and np.max(np.abs(got - expected)) < 1e-5
    assert predictor.metadata["inputs"]["numeric"]["shape"] == ["batch", 1 + 4 + 2 + 2]  # price, then weights


def test_lit_ctr_predict_scores_a_weighted_file_like_the_checkpoint(run):
    got = predict_with_cli(run)
    assert np.max(np.abs(got - score(run["checkpoint"], str(run["test"])))) < 1e-5


def test_the_lightning_module_scores_the_test_split_as_the_checkpoint_scores_its_rows(run):
    import torch

    model = load_model(run["checkpoint"]).eval()
    entry = next((run["root"] / "cache").glob("*/test"))
    ids, numeric = np.load(entry / "ids.npy"), np.load(entry / "numeric.npy")
    with torch.no_grad():
        module = torch.sigmoid(model(torch.from_numpy(ids), torch.from_numpy(numeric))).numpy()
    assert np.max(np.abs(module - score(run["checkpoint"], str(run["test"])))) < 1e-5
