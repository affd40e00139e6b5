"""Integer ids that arrive as floats map like their integers, on every path."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lit_ctr.data import Field, FileFormat, Schema
from lit_ctr.data.readers import as_text
from lit_ctr.data.rows import encode_rows
from lit_ctr.data.vocabulary import RESERVED_IDS

SCHEMA = Schema(fields=[Field("user"), Field("price", kind="numeric")])


@pytest.fixture
def preprocessing(write_rows, fit_encode) -> dict:
    """A vocabulary fitted on integer user ids 7 (twice) and 8, written as text."""
    path = write_rows("ints.csv", [(1, 7, 1.0), (0, 7, 2.0), (1, 8, 3.0)], header=["label", "user", "price"])
    vocabulary, _ = fit_encode(path, SCHEMA)
    return {"schema": SCHEMA.to_dict(), "file_format": FileFormat().to_dict(), "vocabulary": vocabulary.to_dict()}


SEVEN, EIGHT = RESERVED_IDS, RESERVED_IDS + 1


def user_ids(preprocessing: dict, rows, **kwargs) -> list[int]:
    return encode_rows(preprocessing, rows, **kwargs).ids[:, 0].tolist()


def test_polars_float_column_maps_like_integers(preprocessing):
    frame = pl.DataFrame({"user": [7.0, 8.0], "price": [1.0, 2.0]})
    assert user_ids(preprocessing, frame) == [SEVEN, EIGHT]


def test_pandas_float_column_with_a_missing_cell_maps_like_integers(preprocessing):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"user": [7.0, None, 8.0], "price": [1.0, 2.0, 3.0]})
    assert user_ids(preprocessing, frame) == [SEVEN, 1, EIGHT]


def test_dict_values_as_python_and_numpy_floats_map_like_integers(preprocessing):
    rows = [{"user": 7.0, "price": 1}, {"user": np.float64(8.0), "price": 1}, {"user": 7, "price": 1}]
    assert user_ids(preprocessing, rows) == [SEVEN, EIGHT, SEVEN]


def test_parquet_float_column_maps_like_integers(preprocessing, tmp_path):
    path = tmp_path / "floats.parquet"
    pl.DataFrame({"user": [8.0, 7.0], "price": [1.0, 2.0]}).write_parquet(path)
    assert user_ids(preprocessing, str(path)) == [EIGHT, SEVEN]


def test_training_on_a_parquet_float_column_keys_values_as_integers(tmp_path, make_dm):
    path = tmp_path / "train.parquet"
    pl.DataFrame({"label": [1, 0], "user": [7.0, 8.0], "price": [1.0, 2.0]}).write_parquet(path)
    assert make_dm(schema=SCHEMA, train_path=str(path)).vocabulary.fields[0].values == ["7", "8"]


def test_non_integral_float_keeps_its_shortest_text():
    frame = pl.DataFrame({"x": [7.5, 0.1, 7.0, -0.0, 1e20]})
    assert frame.select(as_text("x", pl.Float64))["x"].to_list() == ["7.5", "0.1", "7", "0", "1e+20"]


def test_text_files_keep_the_text_as_written(preprocessing, write_rows):
    path = write_rows("rows.csv", [(7.0, 1.0), (7, 1.0)], header=["user", "price"])
    assert user_ids(preprocessing, str(path), file_format={"kind": "csv"}) == [0, SEVEN]
