"""Bad files and values raise DataError naming the file and, where it applies, line and column."""

import re

import polars as pl
import pytest

from lit_ctr.data import DataError, Field, FileFormat, Schema

HEADER = "label,user,item,price\n"


def raised(make_dm, schema, path, **kwargs) -> DataError:
    dm = make_dm(schema=schema, train_path=str(path), **kwargs)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    return info.value


def test_missing_file(tmp_path, make_dm, schema):
    error = raised(make_dm, schema, tmp_path / "nope.csv")
    assert error.file == str(tmp_path / "nope.csv")
    assert "no such file" in str(error)


def test_directory_instead_of_a_file(tmp_path, make_dm, schema):
    (tmp_path / "day").mkdir()
    error = raised(make_dm, schema, tmp_path / "day")
    assert str(tmp_path / "day") in str(error) and "directory" in str(error)


def test_glob_matching_nothing(tmp_path, make_dm, schema):
    error = raised(make_dm, schema, tmp_path / "part-*.csv")
    assert error.file == str(tmp_path / "part-*.csv")
    assert "matches no file" in str(error)


def test_missing_valid_file_is_reported_too(tmp_path, train_csv, make_dm, schema):
    error = raised(make_dm, schema, train_csv, valid_path=str(tmp_path / "valid.csv"))
    assert error.file == str(tmp_path / "valid.csv")


def test_header_lacking_a_schema_column_lists_it(write, make_dm, schema):
    path = write("a.csv", "label,user,price\n1,a,1\n")
    error = raised(make_dm, schema, path)
    assert error.file == str(path)
    assert "['item']" in str(error)


def test_header_lacking_the_label_lists_it(write, make_dm, schema):
    path = write("a.csv", "user,item,price\na,x,1\n")
    assert "['label']" in str(raised(make_dm, schema, path))


def test_headerless_file_with_unknown_columns_lists_the_missing_ones(write, make_dm, schema):
    path = write("a.tsv", "1\ta\tx\n")
    error = raised(make_dm, schema, path, file_format=FileFormat(columns=["label", "user", "other"]))
    assert "['item', 'price']" in str(error)


def test_empty_csv_file_reports_the_missing_header(write, make_dm, schema):
    path = write("a.csv", "")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 1)


def test_row_with_too_many_fields_reports_its_line_with_header(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n0,b,y,2\n1,c,z,3,extra\n0,d,w,4\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 4)
    assert "expected 4 fields" in str(error) and "found 5" in str(error)


def test_row_with_too_few_fields_reports_its_line_with_header(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n0,b,y\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 3)
    assert "found 3" in str(error)


def test_short_row_reports_its_line_without_header(write, make_dm, schema):
    path = write("a.tsv", "1\ta\tx\t1\n0\tb\ty\t2\n1\tc\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 3)
    assert "found 2" in str(error)


def test_long_row_reports_its_line_without_header(write, make_dm, schema):
    path = write("a.tsv", "1\ta\tx\t1\t9\n")
    assert raised(make_dm, schema, path).line == 1


def test_quoted_separator_does_not_count_as_a_field(write, make_dm, schema):
    path = write("a.csv", HEADER + '1,"a,b",x,1\n0,b,y\n')
    assert raised(make_dm, schema, path).line == 3


def test_label_outside_the_allowed_set_reports_line_and_column(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n0,b,y,2\n2,c,z,3\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 4, "label")
    assert "'2'" in str(error)


def test_label_outside_the_mapping_reports_line_and_column(write, make_dm):
    schema = Schema(fields=[Field("user")], label_mapping={"-1": 0, "1": 1})
    path = write("a.libfm", "1 3:1\n-1 4:1\n0 5:1\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 3, "label")


def test_missing_label_reports_line_and_column(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n,b,y,2\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 3, "label")
    assert "missing" in str(error)


def test_non_numeric_value_in_numeric_field_reports_line_and_column(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n0,b,y,2\n1,c,z,cheap\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 4, "price")
    assert "'cheap'" in str(error)
    assert re.match(rf"{re.escape(str(path))}, line 4, column 'price': ", str(error))


def test_non_numeric_value_after_padded_numbers_reports_its_own_line(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x, 2.5\n0,b,y,3\n1,c,z,cheap\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 4, "price")
    assert "expected a number, found 'cheap'" in str(error)


def test_non_numeric_value_reports_its_line_without_header(write, make_dm, schema):
    path = write("a.tsv", "1\ta\tx\t1\n0\tb\ty\tcheap\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (2, "price")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_non_finite_value_in_numeric_field_reports_line_and_column(write, make_dm, schema, value):
    path = write("a.csv", HEADER + f"1,a,x,1\n0,b,y,{value}\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 3, "price")
    assert "finite" in str(error)


def test_bad_value_after_blank_lines_reports_its_own_line(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n\n\n0,b,y,cheap\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (5, "price")


def test_short_row_after_blank_lines_reports_its_own_line(write, make_dm, schema):
    path = write("a.tsv", "1\ta\tx\t1\n\n0\tb\n")
    assert raised(make_dm, schema, path).line == 3


def test_blank_first_line_instead_of_a_header(write, make_dm, schema):
    path = write("a.csv", "\n" + HEADER + "1,a,x,1\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 1)
    assert "header" in str(error)


def test_value_too_negative_to_bucketize_reports_line_and_column(write, make_dm):
    schema = Schema(fields=[Field("count", kind="numeric", transform="bucketize")])
    path = write("a.csv", "label,count\n1,3\n0,-1e20\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (3, "count")


def test_non_finite_value_in_bucketized_field_is_rejected(write, make_dm):
    schema = Schema(fields=[Field("count", kind="numeric", transform="bucketize")])
    path = write("a.csv", "label,count\n1,3\n0,inf\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (3, "count")


def test_bad_value_in_valid_file_names_that_file(train_csv, write, make_dm, schema):
    valid = write("valid.csv", HEADER + "1,a,x,oops\n")
    error = raised(make_dm, schema, train_csv, valid_path=str(valid))
    assert (error.file, error.line, error.column) == (str(valid), 2, "price")


def test_bad_value_in_second_file_of_a_glob_names_that_file(tmp_path, write, make_dm, schema):
    write("d/part-0.csv", HEADER + "1,a,x,1\n")
    bad = write("d/part-1.csv", HEADER + "1,a,x,1\n1,a,x,1\n0,a,x,nope\n")
    error = raised(make_dm, schema, tmp_path / "d" / "part-*.csv")
    assert (error.file, error.line) == (str(bad), 4)


def test_empty_training_split_header_only(write, make_dm, schema):
    path = write("a.csv", HEADER)
    error = raised(make_dm, schema, path)
    assert str(path) in str(error)
    assert "train split has no rows" in str(error)


def test_empty_training_split_empty_libfm_file(write, make_dm, schema):
    path = write("a.libfm", "\n")
    assert "train split has no rows" in str(raised(make_dm, schema, path))


def test_libfm_index_outside_every_field_reports_line(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 12:1\n0 3:1 7:1 15:1\n")
    fmt = FileFormat(field_starts=[2, 5, 10], num_features=15)
    error = raised(make_dm, schema, path, file_format=fmt)
    assert (error.file, error.line) == (str(path), 2)
    assert "15" in str(error)


def test_libfm_index_below_the_first_field_reports_line(write, make_dm, schema):
    path = write("a.libfm", "\n1 3:1 7:1 12:1\n0 1:1 7:1 12:1\n")
    fmt = FileFormat(field_starts=[2, 5, 10])
    error = raised(make_dm, schema, path, file_format=fmt)
    assert (error.file, error.line) == (str(path), 3)


def test_libfm_two_indices_of_one_field_on_a_line(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 12:1\n0 3:1 6:1 7:1 12:1\n")
    error = raised(make_dm, schema, path, file_format=FileFormat(field_starts=[0, 5, 10]))
    assert (error.file, error.line) == (str(path), 2)
    assert "'item'" in str(error)


def test_libfm_more_tokens_than_fields_reports_line(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 1:1\n0 3:1 7:1 1:1 2:1\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 2)


def test_libfm_malformed_token_reports_line(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 1:1\n0 3:1 seven 1:1\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 2)
    assert "'seven'" in str(error)


def test_libfm_non_numeric_value_of_numeric_field_reports_line_after_blank_lines(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 1:1\n\n\n0 3:1 7:1 1:x\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line, error.column) == (str(path), 4, "price")


def test_corrupt_parquet_file(write, make_dm, schema):
    path = write("a.parquet", "PAR1 this is not really parquet")
    error = raised(make_dm, schema, path)
    assert error.file == str(path)
    assert "Parquet" in str(error)


def test_parquet_lacking_a_schema_column_lists_it(tmp_path, make_dm, schema):
    path = tmp_path / "a.parquet"
    pl.DataFrame({"label": [1], "user": ["a"], "price": [1.0]}).write_parquet(path)
    error = raised(make_dm, schema, path)
    assert error.file == str(path) and "['item']" in str(error)


def test_parquet_bad_value_reports_the_row(tmp_path, make_dm, schema):
    path = tmp_path / "a.parquet"
    pl.DataFrame({"label": [1, 0], "user": ["a", "b"], "item": ["x", "y"], "price": ["1", "n/a"]}).write_parquet(path)
    error = raised(make_dm, schema, path)
    assert error.file == f"{path} (row 1)" and error.column == "price"


# ---------------------------------------------------------------------- found by fuzzing (issue 6)
def test_text_that_is_not_utf8_reports_its_line_and_byte(tmp_path, make_dm, schema):
    path = tmp_path / "a.csv"
    path.write_bytes(HEADER.encode() + b"1,a,x,1\n0,caf\xe9,y,2\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 3)
    assert "not UTF-8 text: byte 0xe9" in str(error)


def test_libfm_text_that_is_not_utf8_reports_its_line(tmp_path, make_dm, schema):
    path = tmp_path / "a.libfm"
    path.write_bytes(b"1 3:1 7:1 1:1\n0 3:1 7:1 1:\xff\n")
    assert raised(make_dm, schema, path).line == 2


def test_stray_quote_inside_an_unquoted_value_reports_its_line(write, make_dm, schema):
    path = write("a.csv", HEADER + '1,a,x,1\n0,5" screen,y,2\n')
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 3)
    assert "malformed quoting" in str(error)


def test_quoted_value_spanning_lines_reports_where_it_opens(write, make_dm, schema):
    path = write("a.csv", HEADER + '1,a,x,1\n0,"b\nc",y,2\n')
    error = raised(make_dm, schema, path)
    assert error.line == 3 and "not closed on its line" in str(error)


def test_quoted_separator_cannot_hide_a_missing_field(write, make_dm, schema):
    # four separators, three fields: polars alone would pad the row with a null price
    path = write("a.csv", HEADER + '1,"a,b",x\n')
    error = raised(make_dm, schema, path)
    assert error.line == 2 and "found 3" in str(error)


def test_header_repeating_a_schema_column_is_rejected(write, make_dm, schema):
    path = write("a.csv", "label,user,item,price,user\n1,a,x,1,b\n")
    error = raised(make_dm, schema, path)
    assert (error.file, error.line) == (str(path), 1)
    assert "repeats column(s) ['user']" in str(error)


def test_number_beyond_float32_reports_line_and_column(write, make_dm, schema):
    path = write("a.csv", HEADER + "1,a,x,1\n0,b,y,1e39\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (3, "price")
    assert "float32" in str(error)


def test_libfm_token_without_a_value_reports_line(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 1:1\n0 3:1 7: 1:1\n")
    error = raised(make_dm, schema, path)
    assert error.line == 2 and "'7:'" in str(error)


def test_libfm_value_with_a_second_colon_is_not_cut_short(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 1:1\n0 3:1 7:1 1:2:5\n")
    error = raised(make_dm, schema, path)
    assert (error.line, error.column) == (2, "price") and "'2:5'" in str(error)


def test_empty_validation_split_names_its_file(train_csv, write, make_dm, schema):
    valid = write("valid.csv", HEADER)
    error = raised(make_dm, schema, train_csv, valid_path=str(valid))
    assert "the valid split has no rows" in str(error) and str(valid) in str(error)


def test_libfm_field_starts_not_one_per_field_is_rejected(write, make_dm, schema):
    path = write("a.libfm", "1 3:1 7:1 12:1\n")
    error = raised(make_dm, schema, path, file_format=FileFormat(field_starts=[0, 5]))
    assert "file_format.field_starts: expected 3 increasing start indices" in str(error)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "expected train_path"),
        ({"path": "a.csv", "train_path": "b.csv"}, "not both"),
        ({"train_path": "a.csv", "batch_size": 0}, "data.batch_size"),
    ],
)
def test_datamodule_paths_and_sizes_that_cannot_work_are_rejected(make_dm, schema, kwargs, message):
    with pytest.raises(DataError, match=message):
        make_dm(schema=schema, **kwargs)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("eval_batch_size", 0, "data.eval_batch_size: expected an integer >= 1, got 0"),
        ("eval_batch_size", -4, "data.eval_batch_size: expected an integer >= 1, got -4"),
        ("chunk_rows", 0, "data.chunk_rows: expected an integer >= 1, got 0"),
        ("batch_size", -1, "data.batch_size: expected a positive integer, got -1"),
        ("num_workers", -1, "data.num_workers: expected an integer >= 0, got -1"),
        ("block_rows", 0, "data.block_rows: expected an integer >= 1, got 0"),
    ],
)
def test_data_option_out_of_range_is_a_data_error_naming_the_key(make_dm, schema, train_csv, key, value, message):
    with pytest.raises(DataError) as info:
        make_dm(schema=schema, train_path=str(train_csv), **{key: value})
    assert str(info.value) == message


def test_cache_dir_that_is_a_file_is_a_data_error(make_dm, schema, train_csv, write):
    blocker = write("cache_file", "x")
    with pytest.raises(DataError) as info:
        make_dm(schema=schema, train_path=str(train_csv), cache_dir=str(blocker))
    assert str(info.value) == f"{blocker}: data.cache_dir: is a file, expected a folder (or a path to create one)"


def test_cache_dir_under_a_file_is_a_data_error(make_dm, schema, train_csv, write):
    blocker = write("cache_file", "x")
    with pytest.raises(DataError, match=r"data\.cache_dir: lies under the file .*cache_file, cannot create a folder"):
        make_dm(schema=schema, train_path=str(train_csv), cache_dir=str(blocker / "sub" / "cache"))


def test_cache_dir_that_cannot_be_created_is_a_data_error(make_dm, schema, train_csv, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr("lit_ctr.data.datamodule.os.access", lambda path, mode: False)  # as for a non-root user
    with pytest.raises(DataError, match=r"data\.cache_dir: cannot be created \(.*locked is not writable\)"):
        make_dm(schema=schema, train_path=str(train_csv), cache_dir=str(locked / "cache"))


def test_cache_dir_write_failure_is_a_data_error_naming_the_key(make_dm, schema, train_csv, tmp_path, monkeypatch):
    dm = make_dm(schema=schema, train_path=str(train_csv), cache_dir=str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "cache" / "x"))

    monkeypatch.setattr("tempfile.mkdtemp", refuse)
    with pytest.raises(DataError, match=r"data\.cache_dir: cannot write the encoded cache \(Permission denied\)"):
        dm.prepare_data()


def test_predict_file_with_a_header_and_no_rows_encodes_to_zero_rows(make_dm, schema, train_csv, write):
    rows = write("empty.csv", "user,item,price\n")
    dm = make_dm(schema=schema, train_path=str(train_csv), predict_path=str(rows))
    dm.prepare_data()
    dm.setup("predict")
    assert dm.splits["predict"].ids.shape == (0, 2) and dm.splits["predict"].numeric.shape == (0, 1)
