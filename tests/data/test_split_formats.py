"""A test or predict file without a header next to a training file with one: per-split
file formats, ``has_header: auto``, and the error for a headerless file read as if it
had a header."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_ctr.data import DataError, FileFormat, SchemaError
from lit_ctr.data.readers import read_table

# The training file's own column order (not label-first): headerless files follow it.
HEADER = ["user", "label", "item", "price"]
TRAIN = [("a", 1, "x", 1.0), ("a", 0, "x", 2.0), ("b", 1, "y", 3.0), ("b", 0, "y", 4.0)]
TEST = [("b", 1, "x", 10.0), ("a", 0, "y", 11.0), ("c", 1, "x", 12.0)]


@pytest.fixture
def train_with_header(write_rows) -> Path:
    return write_rows("train.csv", TRAIN, HEADER)


@pytest.fixture
def test_without_header(write_rows) -> Path:
    return write_rows("test.csv", TEST)


def _prices(dm, split: str) -> list[float]:
    return dm.splits[split].numeric[:, 0].tolist()


def test_test_file_format_reads_a_headerless_test_file_in_the_training_header_order(
    make_dm, schema, train_with_header, test_without_header
):
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        test_path=str(test_without_header),
        test_file_format={"has_header": False},
    )
    dm.setup("test")
    assert _prices(dm, "test") == [10.0, 11.0, 12.0]
    assert dm.splits["test"].labels.tolist() == [1.0, 0.0, 1.0]


def test_valid_file_format_applies_to_the_validation_file_only(make_dm, schema, train_with_header, write_rows):
    valid = write_rows("valid.tsv", TEST, sep="\t")
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        valid_path=str(valid),
        valid_file_format={"kind": "tsv", "columns": HEADER},
    )
    dm.setup("fit")
    assert (_prices(dm, "train"), _prices(dm, "valid")) == ([1.0, 2.0, 3.0, 4.0], [10.0, 11.0, 12.0])


def test_has_header_auto_reads_a_header_on_train_and_none_on_test(
    make_dm, schema, train_with_header, test_without_header
):
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        test_path=str(test_without_header),
        file_format={"has_header": "auto"},
    )
    dm.setup("fit")
    dm.setup("test")
    assert (len(dm.splits["train"]), _prices(dm, "test")) == (4, [10.0, 11.0, 12.0])


def test_has_header_auto_takes_a_first_line_naming_a_schema_column_as_the_header(write_rows, schema):
    path = write_rows("h.csv", [(1, "a", "x", 1.0)], ["label", "user", "item", "price"])
    table = read_table(path, schema, FileFormat(has_header="auto"), require_label=True)
    assert (table.frame.height, table.first_line) == (1, 2)


def test_has_header_auto_takes_a_first_line_naming_no_schema_column_as_data(write_rows, schema):
    path = write_rows("d.csv", [(1, "a", "x", 1.0), (0, "b", "y", 2.0)])
    table = read_table(path, schema, FileFormat(has_header="auto"), require_label=True)
    assert (table.frame["user"].to_list(), table.first_line) == (["a", "b"], 1)


def test_headerless_predict_file_takes_the_training_header_as_its_columns(
    make_dm, schema, train_with_header, write_rows
):
    rows = write_rows("score.csv", [("b", 1, "y", 5.0), ("a", 0, "x", 6.0)])
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        predict_path=str(rows),
        predict_file_format={"has_header": False},
    )
    dm.setup("predict")
    assert dm.splits["predict"].numeric[:, 0].tolist() == [5.0, 6.0]


def test_headerless_file_to_score_one_field_short_says_how_to_name_its_columns_without_the_label(
    make_dm, schema, train_with_header, write_rows
):
    """One field short may be the label (a Kaggle test file) or a field: not guessed, the error
    says how to name the columns."""
    rows = write_rows("score.csv", [("b", "y", 5.0), ("a", "x", 6.0)])  # user, item, price: no label
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        predict_path=str(rows),
        predict_file_format={"has_header": False},
    )
    with pytest.raises(
        DataError,
        match=r"score.csv, line 1: expected 4 fields separated by ',', found 3; if it has no label column, "
        r"name its columns with predict_file_format.columns, e.g. \['user', 'item', 'price'\]",
    ):
        dm.setup("predict")


def test_headerless_file_to_score_named_without_the_label_is_scored(make_dm, schema, train_with_header, write_rows):
    rows = write_rows("score.csv", [("b", "y", 5.0), ("a", "x", 6.0)])
    dm = make_dm(
        schema=schema,
        train_path=str(train_with_header),
        predict_path=str(rows),
        predict_file_format={"has_header": False, "columns": ["user", "item", "price"]},
    )
    dm.setup("predict")
    assert dm.splits["predict"].numeric[:, 0].tolist() == [5.0, 6.0]


def test_headerless_training_file_one_field_short_gets_no_hint_about_the_label(write_rows, schema):
    path = write_rows("train.csv", [("a", "x", 1.0)])
    with pytest.raises(DataError, match=r"train.csv, line 1: expected 4 fields separated by ',', found 3$"):
        read_table(path, schema, FileFormat(has_header=False), require_label=True)


def test_headerless_file_read_as_if_it_had_a_header_says_the_first_line_looks_like_data(
    make_dm, schema, train_with_header, test_without_header
):
    dm = make_dm(schema=schema, train_path=str(train_with_header), test_path=str(test_without_header))
    with pytest.raises(DataError, match=r"test\.csv, line 1: the first line looks like data.*'b', '1', 'x', '10\.0'"):
        dm.setup("test")


def test_header_that_names_some_schema_columns_still_lists_the_missing_ones(write_rows, schema):
    path = write_rows("m.csv", [(1, "a", 1.0)], ["label", "user", "price"])
    with pytest.raises(DataError, match=r"lacks schema column\(s\) \['item'\]"):
        read_table(path, schema, FileFormat(), require_label=True)


def test_has_header_other_than_true_false_or_auto_raises_schema_error():
    with pytest.raises(SchemaError, match="file_format.has_header: expected true, false or auto, got 'yes'"):
        FileFormat(has_header="yes")
