"""The synthetic generator plants multi-valued fields (mean-pooled in the planted FM) and
offers hashed fields, so tests and benchmarks have data with real signal in them."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lit_ctr.synthetic import SyntheticCTRDataModule
from lit_ctr.synthetic.generator import SyntheticSpec, _draw_features, _fm_score, _plant, generate_frame

SPEC = SyntheticSpec(
    rows=4000, num_numeric=1, cardinalities=[5, 8], multi_cardinalities=[40], multi_mean_lengths=[6.0], seed=1
)


def test_a_multi_field_is_a_column_of_separated_distinct_values():
    frame, _ = generate_frame(SPEC)
    values = frame["M1"].str.split("|")
    lengths = values.list.len().fill_null(0)
    assert lengths.mean() == pytest.approx(6.0, rel=0.1)
    assert (values.list.n_unique() == values.list.len()).fill_null(True).all()
    assert values.explode().drop_nulls().n_unique() <= 40


def test_the_planted_labels_depend_on_the_multi_field():
    planted = _plant(SPEC)
    draw = _draw_features(SPEC, planted, np.random.default_rng(0), 1000)
    with_values = _fm_score(planted, draw)
    draw.multi_ids = [np.full_like(ids, -1) for ids in draw.multi_ids]
    assert np.std(with_values - _fm_score(planted, draw)) > 0.1


def test_a_spec_without_multi_fields_plants_what_it_did_before():
    plain = SyntheticSpec(rows=500, num_numeric=1, cardinalities=[5, 8], seed=1)
    frame, truth = generate_frame(plain)
    assert frame.columns == ["label", "I1", "C1", "C2"]
    again, truth_again = generate_frame(SyntheticSpec(rows=500, num_numeric=1, cardinalities=[5, 8], seed=1))
    assert frame.equals(again) and np.array_equal(truth.probabilities, truth_again.probabilities)


@pytest.mark.parametrize("use", [True, False])
def test_the_datamodule_reads_the_multi_field_or_leaves_it_out(tmp_path, use):
    dm = SyntheticCTRDataModule(
        rows=1000,
        numeric_fields=1,
        categorical_fields=2,
        multi_cardinalities=[40],
        multi_max_len=10,
        use_multi_fields=use,
        data_dir=str(tmp_path / "data"),
        cache_dir=str(tmp_path / "cache"),
        batch_size=50,
    )
    dm.prepare_data()
    dm.setup("fit")
    assert dm.multi_fields == ([{"name": "M1", "max_len": 10, "pooling": "mean"}] if use else [])
    assert next(iter(dm.train_dataloader()))["ids"].shape == (50, 2 + (10 if use else 0))


def test_hash_buckets_hashes_the_fields_with_more_values(tmp_path):
    dm = SyntheticCTRDataModule(
        rows=500,
        numeric_fields=0,
        categorical_fields=3,
        max_cardinality=1000,
        multi_cardinalities=[500],
        hash_buckets=64,
        data_dir=str(tmp_path / "data"),
        cache_dir=str(tmp_path / "cache"),
    )
    hashed = {f.name: f.hash_buckets for f in dm.schema.fields}
    assert hashed["C3"] == 64 and hashed["M1"] == 64  # 1000 and 500 values
    assert hashed["C1"] is None  # 22 values (the Criteo-like spread): kept as a vocabulary
    dm.prepare_data()
    assert dm.field_dims[2:] == [66, 66]


def test_multi_frame_columns_follow_the_planted_order():
    frame, _ = generate_frame(SPEC)
    assert frame.columns == ["label", "I1", "C1", "C2", "M1"]
    assert frame["M1"].dtype == pl.String
