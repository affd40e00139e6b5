import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from lit_ctr.data import DataError, Field, FileFormat, Schema
from lit_ctr.data.readers import expand_paths, file_kind, read_table
from lit_ctr.data.vocabulary import MISSING_ID


def read(path, schema, fmt=None, require_label=True) -> pl.DataFrame:
    return read_table(Path(path), schema, fmt or FileFormat(), require_label=require_label).frame


def test_csv_with_header_gives_label_and_schema_fields_as_strings(write, schema):
    path = write("a.csv", "extra,price,item,label,user\nq,1.5,x,1,u1\nr,2,y,0,u2\n")
    frame = read(path, schema)
    assert frame.columns == ["label", "user", "item", "price"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame.rows() == [("1", "u1", "x", "1.5"), ("0", "u2", "y", "2")]


def test_tsv_without_header_names_columns_label_then_schema_fields(write, schema):
    path = write("day_0.tsv", "1\tu1\tx\t1.5\n0\tu2\ty\t2\n")
    frame = read(path, schema)
    assert frame.rows() == [("1", "u1", "x", "1.5"), ("0", "u2", "y", "2")]


def test_headerless_file_uses_explicit_columns_order(write, schema):
    path = write("a.csv", "x,1.5,u1,1\ny,2,u2,0\n")
    fmt = FileFormat(has_header=False, columns=["item", "price", "user", "label"])
    frame = read(path, schema, fmt)
    assert frame.select("label", "user", "item", "price").rows() == [
        ("1", "u1", "x", "1.5"),
        ("0", "u2", "y", "2"),
    ]


def test_custom_separator_is_used(write, schema):
    path = write("a.csv", "label;user;item;price\n1;u1;x,y;1.5\n")
    frame = read(path, schema, FileFormat(separator=";"))
    assert frame.rows() == [("1", "u1", "x,y", "1.5")]


def test_parquet_columns_are_read_as_strings(tmp_path, schema):
    path = tmp_path / "a.parquet"
    pl.DataFrame({"price": [1.5, None], "user": ["u1", "u2"], "label": [1, 0], "item": [7, 8]}).write_parquet(path)
    frame = read(path, schema)
    assert frame.columns == ["label", "user", "item", "price"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame.rows() == [("1", "u1", "7", "1.5"), ("0", "u2", "8", None)]


def test_libfm_positional_token_i_belongs_to_field_i(write, schema):
    # categorical fields take the index, numeric fields the value
    path = write("a.libfm", "1 4:1 9:1 2:0.5\n0 5:1 8:1 2:3\n")
    frame = read(path, schema)
    assert frame.rows() == [("1", "4", "9", "0.5"), ("0", "5", "8", "3")]


def test_libfm_field_starts_assign_tokens_by_index_range_in_any_order(write, schema):
    path = write("a.libfm", "1 12:2.5 7:1 3:1\n0 2:1 11:0.5 5:1\n")
    fmt = FileFormat(field_starts=[0, 5, 10])
    frame = read(path, schema, fmt)
    assert frame.rows() == [("1", "3", "7", "2.5"), ("0", "2", "5", "0.5")]


def test_libfm_field_absent_on_a_line_is_missing(write, schema, prepared):
    path = write("a.libfm", "1 3:1\n0 6:1 10:2\n")
    fmt = FileFormat(field_starts=[0, 5, 10])
    frame = read(path, schema, fmt)
    assert frame.rows() == [("1", "3", None, None), ("0", None, "6", "2")]


def test_libfm_blank_lines_are_skipped(write, schema):
    path = write("a.libfm", "1 1:1 2:1 3:1\n\n   \n0 4:1 5:1 6:1\n")
    assert read(path, schema)["user"].to_list() == ["1", "4"]


def test_libfm_tokens_may_be_separated_by_tabs_and_runs_of_spaces(write, schema):
    path = write("a.libfm", "1\t4:1\t9:1   2:0.5 \n")
    assert read(path, schema).rows() == [("1", "4", "9", "0.5")]


def test_libfm_keeps_row_order_of_many_lines(write, schema):
    rng = random.Random(3)
    lines, expected = [], []
    for i in range(20_000):
        tokens = [f"{rng.randrange(5)}:1", f"{rng.randrange(5, 10)}:1", f"10:{i}"]
        if i % 7 == 0:
            tokens.pop(2)
        rng.shuffle(tokens)
        lines.append(" ".join([str(i % 2), *tokens]))
        expected.append(None if i % 7 == 0 else str(i))
    path = write("a.libfm", "\n".join(lines) + "\n")
    assert read(path, schema, FileFormat(field_starts=[0, 5, 10]))["price"].to_list() == expected


def test_label_mapping_maps_minus_one_and_one_to_zero_and_one(write, prepared):
    schema = Schema(fields=[Field("user")], label_mapping={"-1": 0, "1": 1})
    path = write("a.libfm", "-1 3:1\n1 4:1\n+1 5:1\n-1.0 6:1\n")
    assert prepared(path, schema)["label"].to_list() == [0.0, 1.0, 1.0, 0.0]


def test_non_numeric_label_mapping_maps_by_exact_text(write, prepared):
    schema = Schema(fields=[Field("user")], label_mapping={"no": 0, "yes": 1})
    path = write("a.csv", "label,user\nyes,a\nno,b\n")
    assert prepared(path, schema)["label"].to_list() == [1.0, 0.0]


def test_blank_lines_in_csv_are_skipped(write, schema):
    path = write("a.csv", "label,user,item,price\n\n1,u1,x,1\n\r\n0,u2,y,2\n\n\n")
    assert read(path, schema)["user"].to_list() == ["u1", "u2"]


def test_blank_lines_in_headerless_tsv_are_skipped(write, schema):
    path = write("a.tsv", "1\tu1\tx\t1\n\n0\tu2\ty\t2\n\n")
    assert read(path, schema)["user"].to_list() == ["u1", "u2"]


def test_byte_order_mark_before_the_header_is_ignored(write, schema):
    path = write("a.csv", "\ufefflabel,user,item,price\n1,u1,x,1\n")
    assert read(path, schema).rows() == [("1", "u1", "x", "1")]


def test_crlf_line_endings_are_read(write, schema):
    path = write("a.csv", "label,user,item,price\r\n1,u1,x,1\r\n0,u2,y,2\r\n")
    assert read(path, schema).rows() == [("1", "u1", "x", "1"), ("0", "u2", "y", "2")]


def test_glob_names_files_in_sorted_order(tmp_path, write):
    for name in ["part-2.csv", "part-10.csv", "part-1.csv", "other.txt"]:
        write(f"d/{name}", "label,user\n")
    assert [p.name for p in expand_paths(tmp_path / "d" / "part-*.csv")] == [
        "part-1.csv",
        "part-10.csv",
        "part-2.csv",
    ]


def test_glob_of_several_files_counts_as_one_split_in_sorted_file_order(tmp_path, write_rows, make_dm, schema):
    header = ["label", "user", "item", "price"]
    write_rows("train/part-1.csv", [(1, "a", "x", 10), (0, "b", "y", 11)], header=header)
    write_rows("train/part-2.csv", [(1, "d", "z", 20)], header=header)
    write_rows("train/part-0.csv", [(1, "a", "x", 0), (0, "b", "x", 1), (0, "c", "x", 2)], header=header)
    dm = make_dm(schema=schema, train_path=str(tmp_path / "train" / "part-*.csv"))
    dm.setup("fit")
    train = dm.splits["train"]
    assert dm.meta["rows"]["train"] == 6
    np.testing.assert_array_equal(train.numeric[:, 0], [0, 1, 2, 10, 11, 20])


def test_quoted_csv_field_with_embedded_separator_is_one_value(write, schema):
    path = write("a.csv", 'label,user,item,price\n1,"Smith, J.","a ""b"", c",1\n')
    assert read(path, schema).rows() == [("1", "Smith, J.", 'a "b", c', "1")]


def test_quoted_tsv_field_with_embedded_tab_is_one_value(write, schema):
    path = write("a.tsv", '1\t"u\t1"\tx\t1\n')
    assert read(path, schema).rows() == [("1", "u\t1", "x", "1")]


def test_empty_and_null_categorical_values_get_the_missing_id(write, schema, fit_encode):
    path = write("a.csv", 'label,user,item,price\n1,,"",1\n0, ,a,2\n1,a,b,3\n')
    vocabulary, arrays = fit_encode(path, schema)
    missing = [offset + MISSING_ID for offset in vocabulary.offsets]
    np.testing.assert_array_equal(arrays.ids[:, 0], [missing[0], missing[0], missing[0] + 1])
    assert arrays.ids[0, 1] == missing[1]


def test_configured_null_values_mean_missing(write, schema, fit_encode):
    path = write("a.csv", "label,user,item,price\n1,NA,x,1\n0,a,x,NA\n")
    vocabulary, arrays = fit_encode(path, schema, FileFormat(null_values=["NA"]))
    assert arrays.ids[0, 0] == MISSING_ID
    assert arrays.numeric[1, 0] == 0.0
    assert vocabulary.fields[0].values == ["a"]


def test_label_column_is_optional_when_not_required(write, schema):
    path = write("a.csv", "user,item,price\nu1,x,1\n")
    assert read(path, schema, require_label=False).columns == ["user", "item", "price"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "csv"), ("a.TSV", "tsv"), ("day_0.txt", "tsv"), ("a.parquet", "parquet"), ("a.libsvm", "libfm")],
)
def test_auto_format_is_picked_by_extension(name, kind):
    assert file_kind(Path(name), FileFormat()) == kind


def test_unknown_extension_raises_data_error_naming_the_file():
    with pytest.raises(DataError, match=r"data\.bin.*format\.kind"):
        file_kind(Path("data.bin"), FileFormat())


def test_configured_kind_overrides_the_extension(write, schema):
    path = write("a.data", "1\tu1\tx\t1\n")
    assert read(path, schema, FileFormat(kind="tsv")).rows() == [("1", "u1", "x", "1")]
