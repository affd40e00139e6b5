"""Multi-valued fields in the data: schema keys, reading, vocabulary and padded encoding."""

from __future__ import annotations

import logging

import numpy as np
import polars as pl
import pytest

from lit_ctr.data import DataError, Field, Schema, SchemaError
from lit_ctr.data.rows import encode_rows
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, PAD_ID
from lit_ctr.serving.rows import RequestError, check_rows

HEADER = ["label", "user", "tags"]


def tags_schema(**options) -> Schema:
    return Schema(fields=[Field("user"), Field("tags", kind="multi", **({"max_len": 3} | options))])


@pytest.fixture
def train(write_rows):
    """Tag counts: y×3, x×2, z×1, w×1."""
    rows = [(1, "a", "x|y"), (0, "b", ""), (1, "a", "x|z|y|w"), (0, "c", "y")]
    return write_rows("train.csv", rows, header=HEADER)


def encoded(make_dm, train, write_rows, rows, **options):
    valid = write_rows("valid.csv", rows, header=HEADER)
    dm = make_dm(schema=tags_schema(**options), train_path=str(train), valid_path=str(valid))
    dm.prepare_data()
    return dm, np.load(dm.entry / "valid" / "ids.npy")


def tag_id(dm, value: str) -> int:
    return dm.vocabulary.offsets[1] + 2 + dm.vocabulary.fields[1].values.index(value)


def test_a_multi_field_counts_each_value_once_per_occurrence(make_dm, train):
    dm = make_dm(schema=tags_schema(), train_path=str(train))
    dm.prepare_data()
    assert dm.vocabulary.fields[1].values == ["y", "x", "w", "z"]  # most frequent first, ties by value
    assert dm.field_dims == [5, 6] and dm.multi_fields == [{"name": "tags", "max_len": 3, "pooling": "mean"}]


def test_values_fill_the_first_columns_and_padding_the_rest(make_dm, train, write_rows):
    dm, ids = encoded(make_dm, train, write_rows, [(1, "a", " x | y ")])
    assert ids[0, 1:].tolist() == [tag_id(dm, "x"), tag_id(dm, "y"), PAD_ID]


def test_a_missing_cell_is_the_missing_id_then_padding(make_dm, train, write_rows):
    dm, ids = encoded(make_dm, train, write_rows, [(1, "a", "")])
    assert ids[0, 1:].tolist() == [dm.vocabulary.offsets[1] + MISSING_ID, PAD_ID, PAD_ID]


def test_an_unseen_value_is_the_fields_oov_id(make_dm, train, write_rows):
    dm, ids = encoded(make_dm, train, write_rows, [(1, "a", "never|x")])
    assert ids[0, 1:].tolist() == [dm.vocabulary.offsets[1] + OOV_ID, tag_id(dm, "x"), PAD_ID]


def test_min_count_sends_rare_values_to_oov(make_dm, train, write_rows):
    dm, ids = encoded(make_dm, train, write_rows, [(1, "a", "z|y")], min_count=2)
    assert ids[0, 1:].tolist() == [dm.vocabulary.offsets[1] + OOV_ID, tag_id(dm, "y"), PAD_ID]


def test_truncation_keeps_the_first_values_by_default_and_says_so(make_dm, train, write_rows, caplog):
    with caplog.at_level(logging.INFO, logger="lit_ctr"):
        dm, ids = encoded(make_dm, train, write_rows, [(1, "a", "w|x|y|z")])
    assert ids[0, 1:].tolist() == [tag_id(dm, v) for v in ("w", "x", "y")]
    assert "valid split: 1 rows of field 'tags' had more than max_len=3 values; kept the first 3" in caplog.text
    assert "train split: 1 rows of field 'tags' had more than max_len=3 values" in caplog.text


def test_keep_last_keeps_the_last_values(make_dm, train, write_rows):
    dm, ids = encoded(make_dm, train, write_rows, [(1, "a", "w|x|y|z")], keep="last")
    assert ids[0, 1:].tolist() == [tag_id(dm, v) for v in ("x", "y", "z")]


def test_the_train_split_is_encoded_like_the_other_splits(make_dm, train):
    dm = make_dm(schema=tags_schema(), train_path=str(train), valid_path=str(train))
    dm.prepare_data()
    np.testing.assert_array_equal(np.load(dm.entry / "train" / "ids.npy"), np.load(dm.entry / "valid" / "ids.npy"))


def test_a_split_by_fractions_encodes_multi_fields_too(make_dm, train):
    dm = make_dm(schema=tags_schema(), path=str(train), split_fractions=(1.0, 0.0, 0.0))
    dm.prepare_data()
    assert np.load(dm.entry / "train" / "ids.npy").shape == (4, 1 + 3)


def test_a_custom_separator_splits_the_cell(make_dm, write_rows):
    train = write_rows("semi.csv", [(1, "a", "x;y")], header=HEADER)
    dm = make_dm(schema=tags_schema(separator=";"), train_path=str(train))
    dm.prepare_data()
    assert sorted(dm.vocabulary.fields[1].values) == ["x", "y"]


def test_rows_with_lists_and_text_in_one_column_encode_alike(make_dm, train):
    dm = make_dm(schema=tags_schema(), train_path=str(train))
    dm.prepare_data()
    rows = [{"user": "a", "tags": ["x", "y"]}, {"user": "a", "tags": "x|y"}, {"user": "a", "tags": []}]
    ids = encode_rows(dm.preprocessing_state(), rows).ids
    assert ids[0].tolist() == ids[1].tolist()
    assert ids[2, 1:].tolist() == [PAD_ID] * 3  # an empty list: no values, not missing


def test_a_list_in_a_categorical_parquet_column_is_a_located_error(make_dm, tmp_path):
    path = tmp_path / "lists.parquet"
    pl.DataFrame({"label": [1], "user": [["a", "b"]], "tags": [["x"]]}).write_parquet(path)
    with pytest.raises(DataError, match=r"lists\.parquet, column 'user': holds lists; only a multi field"):
        make_dm(schema=tags_schema(), train_path=str(path)).prepare_data()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "tags", "kind": "multi"}, "a multi field needs max_len, an integer >= 1, got None"),
        ({"name": "tags", "kind": "multi", "max_len": 0}, "a multi field needs max_len, an integer >= 1, got 0"),
        (
            {"name": "tags", "kind": "multi", "max_len": 2, "pooling": "avg"},
            "pooling must be 'sum', 'mean' or 'max', got 'avg'",
        ),
        (
            {"name": "tags", "kind": "multi", "max_len": 2, "keep": "middle"},
            "keep must be 'first' or 'last', got 'middle'",
        ),
        ({"name": "tags", "kind": "multi", "max_len": 2, "separator": ""}, "separator must be a non-empty string"),
        ({"name": "tags", "max_len": 2}, "max_len apply to multi fields (kind: multi) only"),
        (
            {"name": "tags", "kind": "multi", "max_len": 2, "transform": "log1p"},
            "transform applies to numeric fields only",
        ),
    ],
)
def test_bad_multi_field_settings_name_the_field(field, message):
    with pytest.raises(SchemaError) as error:
        Schema(fields=[{"name": "user"}, field])
    assert str(error.value).startswith("schema.fields[1] ('tags'): ")
    assert message in str(error.value)


def test_a_schema_without_multi_fields_keeps_its_plain_form():
    assert "max_len" not in Schema(fields=[Field("user")]).to_dict()["fields"][0]


def test_a_scoring_request_takes_a_list_for_a_multi_field_only():
    body = {"rows": [{"user": "a", "tags": ["x", 2]}]}
    assert check_rows(body, ["user", "tags"], multi=["tags"]) == [{"user": "a", "tags": ["x", 2]}]
    with pytest.raises(RequestError, match=r"rows\[0\], field 'user': expected text, a number"):
        check_rows({"rows": [{"user": ["a"]}]}, ["user", "tags"], multi=["tags"])
    with pytest.raises(RequestError, match=r"rows\[0\], field 'tags': expected a list of text, numbers or true/false"):
        check_rows({"rows": [{"tags": [{"x": 1}]}]}, ["user", "tags"], multi=["tags"])


def libfm_schema() -> Schema:
    return Schema(fields=[Field("user"), Field("tags", kind="multi", max_len=3)], label_mapping={"-1": 0, "1": 1})


def test_a_libfm_multi_field_takes_every_index_in_its_range(make_dm, write):
    from lit_ctr.data import FileFormat

    train = write("t.libfm", "1 0:1 5:1 7:0.5\n-1 1:1 6:1\n1 2:1\n")
    dm = make_dm(
        schema=libfm_schema(), train_path=str(train), file_format=FileFormat(kind="libfm", field_starts=[0, 5])
    )
    dm.prepare_data()
    ids = np.load(dm.entry / "train" / "ids.npy")
    assert ids[0, 1:].tolist() == [tag_id(dm, "5"), tag_id(dm, "7"), PAD_ID]
    assert ids[2, 1:].tolist() == [dm.vocabulary.offsets[1] + MISSING_ID, PAD_ID, PAD_ID]  # no token: missing


def test_a_libfm_multi_field_without_field_starts_is_an_error(make_dm, write):
    from lit_ctr.data import FileFormat

    train = write("t.libfm", "1 0:1 5:1\n")
    with pytest.raises(DataError, match="file_format.field_starts: a libFM file with multi fields needs"):
        make_dm(schema=libfm_schema(), train_path=str(train), file_format=FileFormat(kind="libfm")).prepare_data()
