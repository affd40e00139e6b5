"""Multi-valued and hashed fields end to end: a CSV with a delimited column → fit → test → checkpoint →
scoring raw rows (lists, text, empty lists, missing cells, unseen and over-long lists) →
TorchScript and ONNX exports that score them alike."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from csv_fit_run import export_with_cli, fit_and_test_csv, predict_with_cli
from lit_ctr.cli import main

from lit_ctr.data.rows import encode_rows
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, PAD_ID, Vocabulary
from lit_ctr.predictor import load_predictor
from lit_ctr.scoring import load_model, score

SCHEMA = {
    "label": "label",
    "fields": [
        {"name": "user", "hash_buckets": 64},
        {"name": "tags", "kind": "multi", "separator": "|", "max_len": 4, "pooling": "mean"},
        {"name": "genres", "kind": "multi", "separator": ";", "max_len": 2, "pooling": "max", "keep": "last"},
        {"name": "campaign", "kind": "multi", "max_len": 3, "pooling": "sum", "hash_buckets": 32},
        {"name": "price", "kind": "numeric", "transform": "standard"},
    ],
}


def write_rows(path: Path, rows: int, seed: int) -> Path:
    """Clicks driven by the tags: tag t0..t4 push up, t5..t9 push down."""
    rng = np.random.default_rng(seed)
    lines = ["label,user,tags,genres,campaign,price"]
    for _ in range(rows):
        tags = rng.choice(20, size=rng.integers(0, 7), replace=False)
        score_ = sum(1.5 if t < 5 else -1.5 if t < 10 else 0.0 for t in tags)
        label = int(rng.random() < 1 / (1 + np.exp(-score_)))
        genres = ";".join(f"g{g}" for g in rng.choice(5, size=rng.integers(1, 4)))
        tag_text = "|".join(f"t{t}" for t in tags)
        campaign = "|".join(f"c{c}" for c in rng.choice(50, size=rng.integers(0, 3)))
        lines.append(f"{label},u{rng.integers(10)},{tag_text},{genres},{campaign},{rng.normal(10, 3):.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    return fit_and_test_csv(tmp_path_factory.mktemp("multi"), "multi", SCHEMA, write_rows, embedding_l2=1e-5)


ODD_ROWS = [
    {"user": "u1", "tags": ["t0", "t1"], "genres": "g1;g2", "campaign": "c1|c2", "price": 9.0},  # lists and text
    {"user": "u2", "tags": [], "genres": "g0", "price": 11.0},  # an empty list: pools to nothing
    {"user": "u3", "tags": None, "genres": None, "price": None},  # missing cells: the missing ids
    {"user": "never", "tags": ["t0", "new-tag"], "genres": "zzz", "price": 10.0},  # unseen values: OOV
    {"user": "u4", "tags": [f"t{i}" for i in range(10)], "genres": "g0;g1;g2;g3", "price": 10.0},  # too long
]


def test_the_fit_learns_from_the_multi_valued_field(run):
    metrics = pl.read_csv(run["root"] / "runs" / "multi" / "version_0" / "metrics.csv")  # the test run's
    assert metrics["test/auc"].drop_nulls().item() > 0.7  # only the tags carry signal: 0.5 without them


def test_the_model_gets_the_layout_from_the_data(run):
    hparams = load_model(run["checkpoint"]).hparams
    assert hparams["multi_fields"] == [
        {"max_len": 4, "pooling": "mean"},
        {"max_len": 2, "pooling": "max"},
        {"max_len": 3, "pooling": "sum"},
    ]


def test_raw_rows_encode_to_padded_ids_with_oov_missing_and_truncation(run):
    preprocessing = load_model(run["checkpoint"]).preprocessing
    vocabulary = Vocabulary.from_dict(preprocessing["vocabulary"])
    ids = np.asarray(encode_rows(preprocessing, ODD_ROWS).ids)
    tags = vocabulary.offsets[1]
    genres_field = vocabulary.fields[2]
    assert ids.shape == (5, 1 + 4 + 2 + 3)
    assert ids[1, 1:5].tolist() == [PAD_ID] * 4  # empty list
    assert ids[2, 1:5].tolist() == [tags + MISSING_ID] + [PAD_ID] * 3  # missing cell
    assert ids[3, 2] == tags + OOV_ID  # unseen tag
    kept = [vocabulary.offsets[1] + 2 + vocabulary.fields[1].values.index(f"t{i}") for i in range(4)]
    assert ids[4, 1:5].tolist() == kept  # keep: first
    last = [vocabulary.offsets[2] + 2 + genres_field.values.index(g) for g in ("g2", "g3")]
    assert ids[4, 5:7].tolist() == last  # keep: last


def test_text_and_list_cells_of_the_same_values_score_the_same(run):
    as_text = [dict(ODD_ROWS[0], tags="t0|t1", genres="g1;g2")]
    as_lists = [dict(ODD_ROWS[0], genres=["g1", "g2"])]
    assert score(run["checkpoint"], as_text).tolist() == score(run["checkpoint"], as_lists).tolist()


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_an_export_scores_raw_rows_like_the_checkpoint(run, fmt):
    predictor = load_predictor(export_with_cli(run, fmt))
    for rows in (ODD_ROWS, str(run["test"])):
        got, expected = predictor.predict(rows, file_format={"kind": "csv"}), score(run["checkpoint"], rows)
        assert got.shape == expected.shape and np.max(np.abs(got - expected)) < 1e-5
    assert predictor.metadata["inputs"]["ids"]["shape"] == ["batch", 10]


def test_a_parquet_list_column_reads_like_the_delimited_text(run, tmp_path):
    rows = pl.read_csv(run["test"], infer_schema=False).head(50)
    parquet = rows.with_columns(
        pl.col("tags").str.split("|").list.eval(pl.element().filter(pl.element() != "")),
        pl.col("genres").str.split(";"),
        pl.col("campaign").str.split("|").list.eval(pl.element().filter(pl.element() != "")),
    )
    path = tmp_path / "rows.parquet"
    parquet.write_parquet(path)
    from_text = score(run["checkpoint"], rows)
    from_lists = load_predictor(run["checkpoint"]).predict(str(path), file_format={"kind": "parquet"})
    np.testing.assert_allclose(from_lists, from_text, atol=1e-6)


def test_the_checkpoint_preprocessing_holds_the_multi_field_settings(run):
    schema = load_model(run["checkpoint"]).preprocessing["schema"]
    tags = next(f for f in schema["fields"] if f["name"] == "tags")
    assert json.loads(json.dumps(tags)) == {
        "name": "tags",
        "kind": "multi",
        "min_count": 1,
        "transform": "none",
        "fill_value": 0.0,
        "separator": "|",
        "max_len": 4,
        "pooling": "mean",
        "keep": "first",
    }


def test_lit_ctr_predict_scores_a_file_like_the_checkpoint(run):
    got = predict_with_cli(run)
    assert np.max(np.abs(got - score(run["checkpoint"], str(run["test"])))) < 1e-5


def test_fnn_with_its_fm_phase_fits_multi_valued_fields(run):
    config = yaml.safe_load((run["root"] / "config.yaml").read_text())
    config["model"] = {"class_path": "FNN", "init_args": {"embed_dim": 4, "hidden_units": [8]}}
    config["fm_pretraining"] = {"max_epochs": 1, "min_epochs": 1}
    config["trainer"]["max_epochs"] = 1
    config["trainer"]["logger"]["init_args"]["version"] = 1
    path = run["root"] / "fnn.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    fnn = load_model(run["root"] / "runs" / "multi" / "version_1" / "checkpoints" / "best.ckpt")
    assert fnn.hparams["multi_fields"][0] == {"max_len": 4, "pooling": "mean"}
