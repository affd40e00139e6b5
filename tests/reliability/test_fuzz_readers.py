"""Fuzzed files through the whole data path (read → check → fit vocabulary → encode → cache).

Invariant: a file encodes correctly (every categorical value maps to its own id, missing
values to the missing id, numerics equal the written floats after their transform) or
raises ``DataError``; never another exception, and valid files are never rejected.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from fuzzing import (
    BAD_LABELS,
    Cell,
    Table,
    bad_numeric_cell,
    check_round_trip,
    fuzz_settings,
    label_cell,
    numeric_cell,
    schemas,
    tables,
    write_delimited,
    write_libfm,
    write_parquet,
)
from hypothesis import event, given, reject
from hypothesis import strategies as st

from lit_ctr.data import CTRDataModule, DataError, Field, FileFormat, Schema
from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary
from lit_ctr.scoring import encode_rows


def encode_file(
    write: Callable[[Path], None], name: str, schema: Schema, fmt: FileFormat
) -> tuple[EncodedArrays, Vocabulary]:
    """Write a file with ``write`` and run it through a CTRDataModule, cache included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        write(path)
        dm = CTRDataModule(schema=schema, train_path=str(path), file_format=fmt, cache_dir=str(Path(tmp) / "cache"))
        dm.setup("fit")
        train = dm.splits["train"]
        arrays = EncodedArrays(np.array(train.ids), np.array(train.numeric), np.array(train.labels))
        return arrays, dm.vocabulary


def assert_encodes_or_raises_data_error(
    table: Table, run: Callable[[], tuple[EncodedArrays, Vocabulary]], first_line: int | None
) -> None:
    """Valid tables encode correctly; a table with a bad cell raises DataError naming
    its line (or Parquet row) and column. ``first_line``: the line of row 0."""
    try:
        arrays, vocabulary = run()
    except DataError as error:
        event(f"DataError: {' '.join(error.reason.split()[:3])}")
        assert table.bad or table.multiline, f"valid input rejected: {error}"
        if table.bad and not table.multiline:
            row, column = table.bad_at
            assert error.column == column, str(error)
            if first_line is None:
                assert error.file.endswith(f"(row {row})"), str(error)
            else:
                assert error.line == first_line + row, str(error)
        return
    event("encoded")
    assert not table.bad, f"bad input accepted: {table.rows[table.bad_at[0]]}"
    check_round_trip(table, arrays, vocabulary)


@fuzz_settings(60)
@given(table=tables(), separator=st.sampled_from([",", ";", "|", "\t"]))
def test_csv_with_header_encodes_correctly_or_raises_data_error(table, separator):
    fmt = FileFormat(kind="csv", separator=separator)
    write = lambda p: write_delimited(table, p, separator, header=True)  # noqa: E731
    assert_encodes_or_raises_data_error(table, lambda: encode_file(write, "a.csv", table.schema, fmt), 2)


@fuzz_settings(40)
@given(table=tables())
def test_headerless_tsv_encodes_correctly_or_raises_data_error(table):
    fmt = FileFormat(kind="tsv", has_header=False)
    write = lambda p: write_delimited(table, p, "\t", header=False)  # noqa: E731
    assert_encodes_or_raises_data_error(table, lambda: encode_file(write, "a.tsv", table.schema, fmt), 1)


@fuzz_settings(30)
@given(table=tables(allow_multiline=True), separator=st.sampled_from([",", "\t"]))
def test_quoted_line_breaks_encode_correctly_or_raise_data_error(table, separator):
    fmt = FileFormat(kind="csv", separator=separator)
    write = lambda p: write_delimited(table, p, separator, header=True)  # noqa: E731
    assert_encodes_or_raises_data_error(table, lambda: encode_file(write, "a.csv", table.schema, fmt), 2)


@fuzz_settings(40)
@given(table=tables(), typed=st.booleans())
def test_parquet_encodes_correctly_or_raises_data_error(table, typed):
    write = lambda p: write_parquet(table, p, typed)  # noqa: E731
    assert_encodes_or_raises_data_error(
        table, lambda: encode_file(write, "a.parquet", table.schema, FileFormat()), None
    )


@st.composite
def libfm_files(draw: st.DrawFn) -> tuple[Table, list[str], FileFormat]:
    """libFM lines for a random schema: by position (field i = token i, trailing fields
    absent) or by index range (``field_starts``, any subset of fields, any order);
    one time in three one label or numeric value is bad."""
    schema = draw(schemas())
    n_fields = len(schema.fields)
    positional = draw(st.booleans())
    if positional:
        fmt = FileFormat(kind="libfm")
        starts, widths = [0] * n_fields, [2**62] * n_fields
    else:
        widths = draw(st.lists(st.integers(1, 10**9), min_size=n_fields, max_size=n_fields))
        starts = [draw(st.integers(0, 10**12))]
        for w in widths[:-1]:
            starts.append(starts[-1] + w)
        fmt = FileFormat(kind="libfm", field_starts=starts, num_features=starts[-1] + widths[-1])
    table = Table(schema)
    n_rows = draw(st.integers(1, 8))
    bad_row = draw(st.integers(0, n_rows - 1)) if draw(st.integers(0, 2)) == 0 else None
    lines = []
    for r in range(n_rows):
        label = draw(label_cell())
        if r == bad_row and draw(st.booleans()):
            label = draw(BAD_LABELS.filter(lambda c: c.text))  # an empty label would make a blank line
            table.bad_at = (r, schema.label)
        present = draw(st.integers(0, n_fields)) if positional else None
        row: list[Cell] = [label]
        tokens = []
        for i, f in enumerate(schema.fields):
            here = i < present if positional else draw(st.booleans())
            if not here:
                row.append(Cell(None, None, None if f.is_categorical else float(np.float32(f.fill_value))))
                continue
            index = draw(st.integers(starts[i], starts[i] + widths[i] - 1))
            if f.kind == "categorical":
                row.append(Cell(str(index), index, str(index)))
                tokens.append(f"{index}:1")
                continue
            cell = draw(numeric_cell(f, allow_missing=False))
            if r == bad_row and table.bad_at is None:
                cell = draw(bad_numeric_cell(f).filter(lambda c: " " not in c.text))
                table.bad_at = (r, f.name)
            row.append(cell)
            tokens.append(f"{index}:{cell.text.strip()}")
        table.rows.append(row)
        if not positional:
            tokens = draw(st.permutations(tokens))
        gap = draw(st.sampled_from([" ", "\t", "  "]))
        lines.append(gap.join([label.text, *tokens]))
    return table, lines, fmt


@fuzz_settings(40)
@given(case=libfm_files())
def test_libfm_encodes_correctly_or_raises_data_error(case):
    table, lines, fmt = case
    write = lambda p: write_libfm(lines, p)  # noqa: E731
    assert_encodes_or_raises_data_error(table, lambda: encode_file(write, "a.libfm", table.schema, fmt), 1)


# ---------------------------------------------------------------------- garbage in
GARBAGE_SCHEMA = Schema(
    fields=[Field("a"), Field("b", kind="numeric"), Field("c", kind="numeric", transform="bucketize")]
)
NEAR_TEXT = st.text(st.sampled_from(list('01,;\t\n\r" ab:.-e\x00\ufeffé')), max_size=120)


def encodes_or_raises_data_error(write: Callable[[Path], None], name: str, fmt: FileFormat) -> None:
    try:
        encode_file(write, name, GARBAGE_SCHEMA, fmt)
        event("encoded")
    except DataError as error:
        event(f"DataError: {' '.join(error.reason.split()[:3])}")


@fuzz_settings(60)
@given(
    content=st.one_of(st.binary(max_size=200), NEAR_TEXT.map(str.encode)),
    header=st.booleans(),
    name=st.sampled_from(["a.csv", "a.tsv", "a.libfm"]),
)
def test_arbitrary_text_file_content_raises_data_error_or_reads(content, header, name):
    if header and name != "a.libfm":
        separator = "," if name == "a.csv" else "\t"
        content = separator.join(["label", "a", "b", "c"]).encode() + b"\n" + content
    encodes_or_raises_data_error(lambda p: p.write_bytes(content), name, FileFormat())


@fuzz_settings(20)
@given(content=st.binary(max_size=300), keep_magic=st.booleans())
def test_arbitrary_parquet_bytes_raise_data_error_or_read(content, keep_magic):
    if keep_magic:
        content = b"PAR1" + content + b"PAR1"
    encodes_or_raises_data_error(lambda p: p.write_bytes(content), "a.parquet", FileFormat())


# ---------------------------------------------------------------------- rows in memory
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=2),
    st.binary(max_size=3),
    st.just(b"\xff"),
    st.dictionaries(st.just("k"), st.integers(0, 3), max_size=1),
)


def _frame(columns: dict[str, list]) -> pl.DataFrame | None:
    try:
        return pl.DataFrame(columns, strict=False)
    except Exception:  # a frame polars itself cannot build: nothing to score
        reject()


_COLUMN = st.lists(SCALARS, min_size=2, max_size=2)
FRAMES = st.fixed_dictionaries({"a": _COLUMN, "b": _COLUMN, "c": _COLUMN}, optional={"label": _COLUMN}).map(_frame)


@fuzz_settings(60)
@given(
    rows=st.one_of(
        st.lists(st.dictionaries(st.sampled_from(["label", "a", "b", "c", "other"]), SCALARS), max_size=5),
        st.lists(st.fixed_dictionaries({"a": SCALARS, "b": SCALARS, "c": SCALARS}), max_size=5),
        st.lists(SCALARS, max_size=3),
        FRAMES,
    )
)
def test_rows_given_in_memory_encode_or_raise_data_error(rows):
    schema = GARBAGE_SCHEMA
    train = pl.DataFrame({"a": ["x", "y"], "c": ["1", "2"]})
    vocabulary = fit_vocabulary([train], schema)
    preprocessing = {
        "schema": schema.to_dict(),
        "file_format": FileFormat().to_dict(),
        "vocabulary": vocabulary.to_dict(),
    }
    try:
        arrays = encode_rows(preprocessing, rows)
    except DataError as error:
        event(f"DataError: {' '.join(error.reason.split()[:3])}")
        return
    event("encoded")
    assert arrays.ids.shape == (len(rows), 2) and arrays.numeric.shape == (len(rows), 1)
    assert np.isfinite(arrays.numeric).all()
