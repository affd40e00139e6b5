"""Value weights of multi-valued fields in the data (``value_weights: true``): ``tag:0.5``
tokens read from CSV, Parquet and libFM, checked, and encoded as float columns aligned with
the ids, after the numeric values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lit_ctr.data import DataError, Field, FileFormat, Schema, SchemaError
from lit_ctr.data.rows import encode_rows

HEADER = ["label", "user", "tags", "price"]
TRAIN = [(1, "a", "x:0.5|y", 1.0), (0, "b", "", 2.0), (1, "a", "x|z:2|y:3|w", 3.0), (0, "c", "y:1.5", 4.0)]


def tags_schema(**options) -> Schema:
    tags = {"name": "tags", "kind": "multi", "max_len": 3, "value_weights": True} | options
    return Schema(fields=[Field("user"), tags, Field("price", kind="numeric")])


def encoded(make_dm, write_rows, rows, split="valid", **options):
    """The split's ``(ids, numeric)`` arrays of a fit on TRAIN (``valid``: on ``rows``)."""
    train = write_rows("train.csv", TRAIN if split == "valid" else rows, header=HEADER)
    valid = write_rows("valid.csv", rows, header=HEADER)
    dm = make_dm(schema=tags_schema(**options), train_path=str(train), valid_path=str(valid))
    dm.prepare_data()
    return dm, np.load(dm.entry / split / "ids.npy"), np.load(dm.entry / split / "numeric.npy")


def tag_id(dm, value: str) -> int:
    return dm.vocabulary.offsets[1] + 2 + dm.vocabulary.fields[1].values.index(value)


def test_weights_follow_the_numeric_values_aligned_with_the_ids(make_dm, write_rows):
    dm, ids, numeric = encoded(make_dm, write_rows, [(1, "a", "x:0.5|y:2", 7.0)])
    assert ids[0, 1:].tolist() == [tag_id(dm, "x"), tag_id(dm, "y"), -1]
    assert numeric[0].tolist() == [7.0, 0.5, 2.0, 0.0]  # price, then one weight per id column
    assert dm.num_numeric == 1  # the model's numeric fields: the weights are not fields


def test_a_value_without_a_weight_weighs_one(make_dm, write_rows):
    _, _, numeric = encoded(make_dm, write_rows, [(1, "a", "x|y:0.25", 7.0)])
    assert numeric[0, 1:].tolist() == [1.0, 0.25, 0.0]


def test_a_missing_cell_weighs_one_on_its_missing_id_and_an_empty_list_nothing(make_dm, write_rows, write):
    _, ids, numeric = encoded(make_dm, write_rows, [(1, "a", "", 7.0)])
    assert ids[0, 1] >= 0 and numeric[0, 1:].tolist() == [1.0, 0.0, 0.0]  # the missing id, weight 1
    rows = encode_rows(_preprocessing(make_dm, write_rows), [{"user": "a", "tags": [], "price": 1.0}])
    assert rows.numeric[0, 1:].tolist() == [0.0, 0.0, 0.0]


def test_the_train_split_is_weighted_like_the_other_splits(make_dm, write_rows):
    dm, _, train = encoded(make_dm, write_rows, TRAIN, split="train")
    valid = np.load(dm.entry / "valid" / "numeric.npy")
    assert train.tolist() == valid.tolist()
    assert train[2, 1:].tolist() == [1.0, 2.0, 3.0]


def test_truncation_keeps_each_weight_with_its_value(make_dm, write_rows):
    row = [(1, "a", "x:1|y:2|z:3|w:4", 7.0)]
    dm, ids, numeric = encoded(make_dm, write_rows, row)
    assert ids[0, 1:].tolist() == [tag_id(dm, v) for v in "xyz"] and numeric[0, 1:].tolist() == [1.0, 2.0, 3.0]
    dm, ids, numeric = encoded(make_dm, write_rows, row, keep="last")
    assert ids[0, 1:].tolist() == [tag_id(dm, v) for v in "yzw"] and numeric[0, 1:].tolist() == [2.0, 3.0, 4.0]


def test_the_last_weight_separator_splits_a_token(make_dm, write_rows):
    dm, ids, numeric = encoded(make_dm, write_rows, [(1, "a", "x:y: 0.5", 7.0)])
    assert dm.vocabulary.fields[1].values.count("x:y") == 0  # unseen in training: its OOV id
    assert numeric[0, 1:].tolist() == [0.5, 0.0, 0.0]


def test_a_custom_weight_separator_splits_value_and_weight(make_dm, write_rows):
    rows = [(1, "a", "x=0.5|y", 7.0)]
    dm, ids, numeric = encoded(make_dm, write_rows, rows, weight_separator="=")
    assert ids[0, 1] == tag_id(dm, "x") and numeric[0, 1:].tolist() == [0.5, 1.0, 0.0]


@pytest.mark.parametrize("token", ["x:lots", "x:", "x:-1", "x:nan", "x:inf", "x:1e39"])
def test_a_bad_weight_is_a_located_error_naming_the_token(make_dm, write_rows, token):
    rows = [(1, "a", "x:1", 7.0), (0, "b", f"y:2|{token}", 7.0)]
    expected = (
        f"valid.csv, line 3, column 'tags': expected a value weight, a finite number >= 0, after ':' in '{token}'"
    )
    with pytest.raises(DataError) as error:
        encoded(make_dm, write_rows, rows)
    assert str(error.value).endswith(expected)


def test_without_value_weights_a_colon_is_part_of_the_value(make_dm, write_rows):
    train = write_rows("train.csv", [(1, "a", "x:0.5|y", 1.0)], header=HEADER)
    schema = Schema(fields=[Field("user"), Field("tags", kind="multi", max_len=3), Field("price", kind="numeric")])
    dm = make_dm(schema=schema, train_path=str(train))
    dm.prepare_data()
    assert dm.vocabulary.fields[1].values == ["x:0.5", "y"]
    assert np.load(dm.entry / "train" / "numeric.npy").shape == (1, 1)


def test_turning_value_weights_on_changes_the_cache_key(make_dm, write_rows):
    train = write_rows("train.csv", TRAIN, header=HEADER)
    entries = []
    for weighted in (False, True):
        tags = Field("tags", kind="multi", max_len=3, value_weights=weighted)
        dm = make_dm(schema=Schema(fields=[Field("user"), tags, Field("price", kind="numeric")]), train_path=str(train))
        dm.prepare_data()
        entries.append(dm.entry)
    assert entries[0] != entries[1]


def test_an_unweighted_schema_keeps_its_plain_form():
    tags = Schema(fields=[Field("tags", kind="multi", max_len=3)]).to_dict()["fields"][0]
    assert "value_weights" not in tags and "weight_separator" not in tags


def test_the_model_layout_says_which_fields_are_weighted():
    schema = Schema(
        fields=[Field("a", kind="multi", max_len=2), Field("b", kind="multi", max_len=3, value_weights=True)]
    )
    assert schema.multi_layout() == [
        {"name": "a", "max_len": 2, "pooling": "mean"},
        {"name": "b", "max_len": 3, "pooling": "mean", "value_weights": True},
    ]
    assert schema.weight_columns == 3


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"name": "t", "value_weights": True}, r"value_weights apply to multi fields \(kind: multi\) only"),
        ({"name": "t", "kind": "multi", "max_len": 2, "value_weights": "yes"}, "value_weights must be true or false"),
        ({"name": "t", "kind": "multi", "max_len": 2, "weight_separator": "="}, "weight_separator applies with"),
        (
            {"name": "t", "kind": "multi", "max_len": 2, "value_weights": True, "weight_separator": "|"},
            "weight_separator '|' must differ from the values' separator '|'",
        ),
        (
            {"name": "t", "kind": "multi", "max_len": 2, "value_weights": True, "weight_separator": ""},
            "weight_separator must be a non-empty string",
        ),
    ],
)
def test_bad_value_weight_settings_name_the_field(field, message):
    with pytest.raises(SchemaError, match=r"schema.fields\[0\] \('t'\): " + message):
        Schema(fields=[field])


def test_a_parquet_list_of_value_weight_strings_reads_like_the_text(make_dm, write_rows, tmp_path):
    train = write_rows("train.csv", TRAIN, header=HEADER)
    frame = pl.DataFrame(
        {"label": [1, 0], "user": ["a", "b"], "tags": [["x:0.5", "y"], []], "price": [1.0, 2.0]},
        schema_overrides={"tags": pl.List(pl.String)},
    )
    frame.write_parquet(tmp_path / "valid.parquet")
    dm = make_dm(
        schema=tags_schema(),
        train_path=str(train),
        valid_path=str(tmp_path / "valid.parquet"),
        valid_file_format=FileFormat(kind="parquet"),
    )
    dm.prepare_data()
    numeric = np.load(dm.entry / "valid" / "numeric.npy")
    assert numeric[:, 1:].tolist() == [[0.5, 1.0, 0.0], [0.0, 0.0, 0.0]]


def test_a_libfm_weighted_field_takes_each_tokens_val_as_its_weight(make_dm, write):
    train = write("t.libfm", "1 0:1 5:0.5 7:2\n-1 1:1 6:1\n1 2:1\n")
    schema = Schema(
        fields=[Field("user"), Field("tags", kind="multi", max_len=3, value_weights=True)],
        label_mapping={"-1": 0, "1": 1},
    )
    dm = make_dm(schema=schema, train_path=str(train), file_format=FileFormat(kind="libfm", field_starts=[0, 5]))
    dm.prepare_data()
    ids, numeric = np.load(dm.entry / "train" / "ids.npy"), np.load(dm.entry / "train" / "numeric.npy")
    assert ids[0, 1:].tolist() == [tag_id(dm, "5"), tag_id(dm, "7"), -1]
    assert numeric.tolist() == [[0.5, 2.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]  # line 3: no token, missing


def test_a_bad_libfm_weight_is_a_located_error(make_dm, write):
    train = write("t.libfm", "1 0:1 5:0.5\n0 1:1 6:x\n")
    schema = Schema(fields=[Field("user"), Field("tags", kind="multi", max_len=3, value_weights=True)])
    with pytest.raises(DataError, match=r"t.libfm, line 2, column 'tags': expected a value weight, .* in '6:x'"):
        make_dm(
            schema=schema, train_path=str(train), file_format=FileFormat(kind="libfm", field_starts=[0, 5])
        ).prepare_data()


def _preprocessing(make_dm, write_rows) -> dict:
    train = write_rows("train.csv", TRAIN, header=HEADER)
    dm = make_dm(schema=tags_schema(), train_path=str(train))
    dm.prepare_data()
    return dm.state_dict()["preprocessing"]


def test_a_hashed_weighted_field_keeps_its_weights(make_dm, write_rows):
    dm, ids, numeric = encoded(make_dm, write_rows, [(1, "a", "x:0.5|never:2", 7.0)], hash_buckets=16)
    assert (ids[0, 1:3] >= 0).all() and ids[0, 3] == -1
    assert numeric[0, 1:].tolist() == [0.5, 2.0, 0.0]
