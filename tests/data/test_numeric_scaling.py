"""``transform: standard`` and ``minmax``: statistics fitted on the train split only, carried
with the vocabulary, applied identically wherever rows are encoded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lit_ctr.data import Field, Schema, SchemaError
from lit_ctr.data.rows import encode_rows

TRAIN_PRICES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # the train_csv fixture's prices
MEAN, STD = 3.5, math.sqrt(35 / 12)  # population standard deviation


def scaled_schema(transform: str, **options) -> Schema:
    return Schema(fields=[Field("user"), Field("item"), Field("price", kind="numeric", transform=transform, **options)])


def valid_numeric(make_dm, schema, train_csv, valid_csv, **kwargs) -> np.ndarray:
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv), **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return np.load(dm.entry / "valid" / "numeric.npy")[:, 0]


def test_standard_scales_by_the_train_splits_mean_and_population_std(make_dm, train_csv, valid_csv):
    got = valid_numeric(make_dm, scaled_schema("standard"), train_csv, valid_csv)
    np.testing.assert_allclose(got, (np.array([1.5, 2.5, 3.5]) - MEAN) / STD, rtol=1e-6)


def test_the_train_split_itself_is_scaled_with_the_same_statistics(make_dm, train_csv, valid_csv):
    dm = make_dm(schema=scaled_schema("standard"), train_path=str(train_csv), valid_path=str(valid_csv))
    dm.prepare_data()
    got = np.load(dm.entry / "train" / "numeric.npy")[:, 0]
    np.testing.assert_allclose(got, (np.array(TRAIN_PRICES) - MEAN) / STD, rtol=1e-6)


def test_minmax_maps_the_train_range_onto_zero_to_one(make_dm, train_csv, valid_csv):
    got = valid_numeric(make_dm, scaled_schema("minmax"), train_csv, valid_csv)
    np.testing.assert_allclose(got, (np.array([1.5, 2.5, 3.5]) - 1.0) / 5.0, rtol=1e-6)


def test_statistics_ignore_the_validation_rows(make_dm, train_csv, write_rows):
    valid = write_rows("far.csv", [(1, "a", "x", 1000.0)], header=["label", "user", "item", "price"])
    dm = make_dm(schema=scaled_schema("standard"), train_path=str(train_csv), valid_path=str(valid))
    dm.prepare_data()
    stats = dm.vocabulary.numeric["price"]
    assert (stats.count, stats.min, stats.max) == (6, 1.0, 6.0)
    assert stats.mean == pytest.approx(MEAN) and stats.std == pytest.approx(STD)


def test_statistics_merged_over_chunks_equal_those_of_the_whole_split(make_dm, train_csv, tmp_path):
    whole = make_dm(schema=scaled_schema("standard"), train_path=str(train_csv))
    chunked = make_dm(
        schema=scaled_schema("standard"), train_path=str(train_csv), chunk_rows=4, cache_dir=str(tmp_path / "c2")
    )
    for dm in (whole, chunked):
        dm.prepare_data()
    a, b = whole.vocabulary.numeric["price"], chunked.vocabulary.numeric["price"]
    assert a.count == b.count == 6
    assert (a.mean, a.std, a.min, a.max) == pytest.approx((b.mean, b.std, b.min, b.max), rel=1e-12)


def test_a_split_by_fractions_fits_the_statistics_on_its_train_rows_only(make_dm, train_csv):
    dm = make_dm(schema=scaled_schema("minmax"), path=str(train_csv), split_fractions=(0.5, 0.5, 0.0), split_seed=3)
    dm.prepare_data()
    dm.setup("fit")
    train = np.load(dm.entry / "train" / "numeric.npy")[:, 0]
    stats = dm.vocabulary.numeric["price"]
    assert stats.count == 3
    assert train.min() == pytest.approx(0.0) and train.max() == pytest.approx(1.0)


def test_a_missing_scaled_value_is_the_fill_value_after_scaling(make_dm, train_csv, write_rows):
    valid = write_rows("missing.csv", [(1, "a", "x", "")], header=["label", "user", "item", "price"])
    got = valid_numeric(make_dm, scaled_schema("standard", fill_value=-9.0), train_csv, valid)
    assert got.tolist() == [-9.0]


def test_missing_training_values_do_not_count_in_the_statistics(make_dm, write_rows):
    train = write_rows(
        "gaps.csv",
        [(1, "a", "x", 2.0), (0, "b", "y", ""), (1, "a", "y", 4.0)],
        header=["label", "user", "item", "price"],
    )
    dm = make_dm(schema=scaled_schema("standard"), train_path=str(train))
    dm.prepare_data()
    stats = dm.vocabulary.numeric["price"]
    assert (stats.count, stats.mean, stats.std) == (2, 3.0, 1.0)


def test_clip_bounds_the_scaled_value(make_dm, train_csv, write_rows):
    valid = write_rows(
        "out.csv",
        [(1, "a", "x", 100.0), (0, "a", "x", -100.0), (0, "a", "x", 3.5)],
        header=["label", "user", "item", "price"],
    )
    got = valid_numeric(make_dm, scaled_schema("standard", clip=[-3, 3]), train_csv, valid)
    assert got.tolist() == [3.0, -3.0, 0.0]


def test_clip_applies_to_a_log1p_field_too(make_dm, train_csv, write_rows):
    valid = write_rows("out.csv", [(1, "a", "x", 1e9)], header=["label", "user", "item", "price"])
    schema = scaled_schema("log1p", clip=[0, 5])
    assert valid_numeric(make_dm, schema, train_csv, valid).tolist() == [5.0]


def test_a_constant_training_field_is_shifted_but_not_divided(make_dm, write_rows):
    train = write_rows("flat.csv", [(1, "a", "x", 7.0), (0, "b", "y", 7.0)], header=["label", "user", "item", "price"])
    valid = write_rows("v.csv", [(1, "a", "x", 9.0)], header=["label", "user", "item", "price"])
    assert valid_numeric(make_dm, scaled_schema("standard"), train, valid).tolist() == [2.0]


def test_encode_rows_with_the_saved_preprocessing_scales_like_the_cache(make_dm, train_csv, valid_csv):
    schema = scaled_schema("standard", clip=[-1, 1])
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    cached = valid_numeric(make_dm, schema, train_csv, valid_csv)
    dm.prepare_data()
    rows = [
        {"user": "a", "item": "x", "price": 1.5},
        {"user": "z", "item": "y", "price": "2.5"},
        {"user": "c", "item": "w", "price": 3.5},
    ]
    np.testing.assert_array_equal(encode_rows(dm.preprocessing_state(), rows).numeric[:, 0], cached)


def test_a_schema_without_scaled_fields_keeps_its_vocabulary_plain(make_dm, train_csv, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.prepare_data()
    assert "numeric" not in dm.vocabulary.to_dict()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": "categorical", "clip": [0, 1]}, "clip applies to numeric fields that are not bucketized"),
        ({"kind": "numeric", "transform": "bucketize", "clip": [0, 1]}, "clip applies to numeric fields"),
        ({"kind": "numeric", "clip": [1]}, "clip must be [low, high], two finite numbers, got [1]"),
        ({"kind": "numeric", "clip": [2, 1]}, "clip must be [low, high] with low <= high, got [2, 1]"),
        (
            {"kind": "numeric", "transform": "zscore"},
            "transform must be 'none', 'log1p', 'bucketize', 'standard' or 'minmax'",
        ),
    ],
)
def test_bad_scaling_options_name_the_field(options, message):
    with pytest.raises(SchemaError) as error:
        Schema(fields=[Field("user"), {"name": "price", **options}])
    assert str(error.value).startswith("schema.fields[1] ('price'): ")
    assert message in str(error.value)
