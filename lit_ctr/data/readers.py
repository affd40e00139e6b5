"""Raw files → polars frames of string columns named after the schema.

Every reader returns :class:`RawTable` objects, one per file, whose columns are the
label (when present) and the schema's fields, all as ``pl.String`` with missing cells
as null. Values are checked and converted later (:mod:`lit_ctr.data.encoding`), which
needs the file and the line of each row to report bad input: ``first_line`` gives it.

Files larger than memory are read in chunks (:func:`read_tables` with ``chunk_rows``):
CSV/TSV and Parquet through polars' streaming engine (``collect_batches``, which keeps
file order and holds a bounded number of rows), each chunk a :class:`RawTable` that
still locates its rows in the whole file. libFM files are always read whole.
"""

from __future__ import annotations

import csv
import glob
import gzip
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import polars as pl

from lit_ctr.data.errors import DataError
from lit_ctr.data.schema import FileFormat, FileKind, Schema

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".libfm": "libfm",
    ".libsvm": "libfm",
    ".svm": "libfm",
}


@dataclass
class RawTable:
    """One file's rows (or one chunk of them) as string columns.

    Attributes:
        file: the path read.
        frame: ``[rows, columns]`` of ``pl.String``: the label (if the file has it) and
            every schema field.
        first_line: the 1-based line number in the file of row 0 (2 when there is a
            header, more for a later chunk), or ``None`` for formats without lines
            (Parquet rows are reported as ``row``).
        lines: the 1-based line number in the file of every row, when rows are not
            consecutive lines (blank lines were skipped); ``None`` otherwise.
        first_row: for formats without lines, the 0-based row number in the file of
            row 0 (non-zero for a later chunk).
        file_rows: rows in the whole file, when the reader knows them before reading
            (for progress lines); None otherwise.
    """

    file: str
    frame: pl.DataFrame
    first_line: int | None
    lines: pl.Series | None = None
    first_row: int = 0
    file_rows: int | None = None

    def locate(self, row: int) -> dict[str, Any]:
        """``DataError`` keyword arguments naming where row ``row`` of this table is in its file."""
        if self.lines is not None:
            return {"file": self.file, "line": int(self.lines[row])}
        if self.first_line is None:
            return {"file": f"{self.file} (row {self.first_row + row})"}
        return {"file": self.file, "line": self.first_line + row}


def as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """``column`` as the text values are keyed by: the one rule for typed columns.

    Strings stay as they are. A float that is a whole number becomes its integer's text
    (``7.0`` → ``"7"``), so integer ids that arrive as floats (a Parquet float column, a
    pandas column with a missing cell, a dict with ``7.0``) find the ids of their integers;
    other floats keep polars' shortest text (``0.5``). Text files keep the text as written.
    A list column (a multi field in Parquet or in-memory rows) stays a list, of its values'
    text by the same rule.
    """
    return _text(pl.col(column), dtype).alias(column)


def _text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = dtype.inner
        assert inner is not None  # a list type always has one
        return value.cast(pl.List(inner)).list.eval(_text(pl.element(), inner))  # type: ignore[arg-type]
    if not dtype.is_float():
        return value.cast(pl.String)
    whole = value.is_finite() & (value == value.floor()) & (value.abs() < 2.0**63)
    return pl.when(whole).then(value.cast(pl.Int64).cast(pl.String)).otherwise(value.cast(pl.String))


def expand_paths(pattern: str | Path) -> list[Path]:
    """The files a path or glob names, sorted; a glob counts as one split."""
    text = str(pattern)
    if glob.has_magic(text):
        paths = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not paths:
            raise DataError("the glob matches no file", file=text)
        return paths
    path = Path(text)
    if not path.is_file():
        what = "is a directory, expected a file or a glob" if path.is_dir() else "no such file"
        raise DataError(what, file=text)
    return [path]


GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    """Whether the file starts with gzip's magic bytes (whatever its name says)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def file_kind(path: Path, fmt: FileFormat) -> str:
    """The format of ``path``: the configured one, or by extension (``.csv.gz`` is a CSV)."""
    if fmt.kind != "auto":
        return fmt.kind
    suffix = Path(path.stem).suffix if path.suffix.lower() == ".gz" else path.suffix
    kind = _EXTENSIONS.get(suffix.lower())
    if kind is None:
        raise DataError(
            f"cannot tell the format from the extension {suffix!r}; set file_format.kind to "
            "one of csv, tsv, parquet, libfm",
            file=str(path),
        )
    return kind


def read_table(path: Path, schema: Schema, fmt: FileFormat, *, require_label: bool) -> RawTable:
    """Read one file into a :class:`RawTable` (label optional when ``require_label`` is false)."""
    (table,) = read_tables(path, schema, fmt, require_label=require_label)
    return table


def read_tables(
    path: Path, schema: Schema, fmt: FileFormat, *, require_label: bool, chunk_rows: int | None = None
) -> Iterator[RawTable]:
    """Read one file as consecutive :class:`RawTable` chunks, in file order.

    Args:
        chunk_rows: rows per chunk (about: polars may cut a little differently); ``None``
            reads the whole file as one table. libFM files always come whole.

    Yields at least one table (an empty one for a file without rows). Every chunk's
    ``locate`` names lines (or rows) of the whole file.
    """
    kind = file_kind(path, fmt)
    if is_gzip(path):
        yield from _read_gzip(path, schema, fmt, kind, require_label, chunk_rows)
        return
    if kind == "libfm":
        yield _read_libfm(path, schema, fmt)
    elif kind == "parquet":
        yield from _read_parquet(path, schema, require_label, chunk_rows)
    else:
        yield from _read_delimited(path, schema, fmt, kind, require_label, chunk_rows)


def _read_gzip(
    path: Path, schema: Schema, fmt: FileFormat, kind: str, require_label: bool, chunk_rows: int | None
) -> Iterator[RawTable]:
    """A gzip-compressed CSV, TSV or libFM file: decompressed, streaming, into a temporary
    file (in ``TMPDIR``) that is read like any other and removed afterwards; tables and
    errors name ``path``. polars reads compressed CSV only whole, and the line checks
    (:func:`_check_field_counts`) scan the file's lines, so an uncompressed copy is what
    keeps large files streaming."""
    if kind == "parquet":
        raise DataError("a gzip-compressed Parquet file is not supported; decompress it first", file=str(path))
    handle = tempfile.NamedTemporaryFile(prefix="lit_ctr-", suffix=f".{kind}", delete=False)  # noqa: SIM115
    plain = Path(handle.name)
    try:
        with handle, gzip.open(path, "rb") as source:
            shutil.copyfileobj(source, handle, 1 << 20)
    except (OSError, EOFError) as error:
        plain.unlink(missing_ok=True)
        raise DataError(f"not a readable gzip file ({error})", file=str(path)) from None
    try:
        for table in read_tables(
            plain, schema, replace(fmt, kind=cast(FileKind, kind)), require_label=require_label, chunk_rows=chunk_rows
        ):
            table.file = str(path)
            yield table
    except DataError as error:
        located = error.file.replace(str(plain), str(path)) if error.file else error.file
        raise DataError(error.reason, file=located, line=error.line, column=error.column) from None
    finally:
        plain.unlink(missing_ok=True)


def _collect(query: pl.LazyFrame, chunk_rows: int | None) -> Iterator[pl.DataFrame]:
    """The query's rows in order, at once or in chunks of about ``chunk_rows`` rows."""
    if chunk_rows is None:
        yield query.collect()
        return
    # The streaming engine reads ahead only a bounded number of batches, and stops when
    # the iterator is dropped (e.g. a bad value raised in a chunk).
    empty = True
    for frame in query.collect_batches(chunk_size=chunk_rows, maintain_order=True):
        empty = False
        yield frame
    if empty:  # a file without rows still gives its (empty) table
        yield query.clear().collect()


def _wanted(schema: Schema, available: list[str], file: str, require_label: bool, *, header: bool = False) -> list[str]:
    """The columns to read: the label (when present) and the schema's fields, or a
    DataError naming the missing ones (``header``: ``available`` is the file's first line)."""
    names = [f.name for f in schema.fields]
    missing = [n for n in names if n not in available]
    if schema.label not in available and require_label:
        missing.insert(0, schema.label)
    if schema.weight is not None and schema.weight not in available and require_label:
        missing.append(schema.weight)
    if missing:
        if header and not any_schema_name(available, schema):
            raise DataError(
                f"the first line looks like data, not a header: it names none of the schema's columns "
                f"(it holds {available[:8]}{' …' if len(available) > 8 else ''}); for a file without a header "
                "set has_header: false or auto in its file format (file_format, or valid_/test_/predict_file_format "
                "for that split alone)",
                file=file,
                line=1,
            )
        raise DataError(
            f"the file lacks schema column(s) {missing}; it has {available}",
            file=file,
        )
    weight = [schema.weight] if schema.weight is not None and schema.weight in available else []
    return ([schema.label] if schema.label in available else []) + names + weight


def any_schema_name(values: list[str], schema: Schema) -> bool:
    """Whether a line's values name the label or a schema field: the ``has_header: auto``
    rule for a header line."""
    names = {schema.label, *(f.name for f in schema.fields)}
    return any(v.strip() in names for v in values)


def has_header(path: Path, schema: Schema, fmt: FileFormat, kind: str) -> bool:
    """Whether the CSV/TSV file ``path`` starts with a header line: ``fmt.has_header``;
    by default yes for CSV and no for TSV; with ``auto``, yes when its first line names
    the label or a schema field (:func:`any_schema_name`)."""
    if fmt.has_header == "auto":
        first = first_line_values(path, fmt.separator or ("\t" if kind == "tsv" else ","))
        return first is not None and any_schema_name(first, schema)
    return bool(fmt.has_header) if fmt.has_header is not None else kind == "csv"


def first_line_values(path: Path, separator: str) -> list[str] | None:
    """The values of the file's first line (CSV quoting rules), or None for an empty file."""
    # utf-8-sig: polars drops a byte-order mark, so must the line read here
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
    if not first:
        return None
    return next(csv.reader([first.rstrip("\r\n")], delimiter=separator), [])


def file_header(path: Path, schema: Schema, fmt: FileFormat) -> list[str] | None:
    """The header line's names of a plain CSV/TSV file that has one (see :func:`has_header`),
    else None (no header, another format, a gzip file, an unreadable name)."""
    try:
        kind = file_kind(path, fmt)
        if kind not in ("csv", "tsv") or is_gzip(path) or not has_header(path, schema, fmt, kind):
            return None
    except (DataError, OSError):
        return None
    return first_line_values(path, fmt.separator or ("\t" if kind == "tsv" else ","))


def headerless_columns(schema: Schema, fmt: FileFormat) -> list[str]:
    """The column names of a file without a header: ``fmt.columns``, else the label, the
    schema's fields, then the weight column (when the schema has one)."""
    if fmt.columns:
        return list(fmt.columns)
    return [schema.label] + [f.name for f in schema.fields] + ([schema.weight] if schema.weight else [])


def _read_parquet(path: Path, schema: Schema, require_label: bool, chunk_rows: int | None) -> Iterator[RawTable]:
    offset = 0
    try:
        types = pl.scan_parquet(path).collect_schema()
        wanted = _wanted(schema, types.names(), str(path), require_label)
        total = int(pl.scan_parquet(path).select(pl.len()).collect().item())  # from the metadata
        query = pl.scan_parquet(path).select(as_text(c, types[c]) for c in wanted)
        for frame in _collect(query, chunk_rows):
            yield RawTable(str(path), frame, None, first_row=offset, file_rows=total)
            offset += frame.height
    except DataError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"not a readable Parquet file ({exc})", file=str(path)) from exc


def _read_delimited(
    path: Path, schema: Schema, fmt: FileFormat, kind: str, require_label: bool, chunk_rows: int | None
) -> Iterator[RawTable]:
    separator = fmt.separator or ("\t" if kind == "tsv" else ",")
    header_line = has_header(path, schema, fmt, kind)
    if header_line:
        header = _header(path, separator)
    else:
        header = headerless_columns(schema, fmt)
    wanted = _wanted(schema, header, str(path), require_label, header=header_line)
    repeated = sorted({c for c in wanted if header.count(c) > 1})
    if repeated:
        raise DataError(f"the header repeats column(s) {repeated}", file=str(path), line=1)
    short_hint = "" if header_line or require_label else _label_hint(schema, header)
    blank, num_lines = _check_field_counts(path, separator, len(header), header_line, short_hint)
    first_line = 2 if header_line else 1
    # Without a header polars takes the width from the first line: skip leading blanks.
    leading = 0
    while not header_line and first_line + leading in blank:
        leading += 1
    first_line += leading
    if num_lines < first_line:  # no rows (header only, or blank lines only)
        yield RawTable(str(path), pl.DataFrame(schema={c: pl.String for c in wanted}), first_line)
        return
    # Columns are read under positional names and renamed here: polars would not
    # unescape quoted header names ("a""b"), and schema names may be anything.
    positions = [header.index(c) for c in wanted]
    query = pl.scan_csv(
        path,
        has_header=header_line,
        skip_rows=leading,
        separator=separator,
        new_columns=[f"column_{i}" for i in range(len(header))],
        infer_schema=False,
        null_values=fmt.null_values or None,
        raise_if_empty=False,
    ).select(pl.col(f"column_{i}").alias(c) for i, c in zip(positions, wanted))
    blank_lines = pl.Series([b for b in blank if b >= first_line], dtype=pl.Int64)
    total = num_lines - first_line + 1 - len(blank_lines)
    chunks = _collect(query, chunk_rows)
    # A chunk's rows are the file's lines from first_line + offset on (one line a row).
    offset = 0
    while True:
        try:
            frame = next(chunks, None)
        except pl.exceptions.PolarsError as exc:
            raise DataError(f"cannot parse as {kind.upper()} ({exc})", file=str(path)) from exc
        if frame is None:
            return
        start = first_line + offset
        offset += frame.height
        here = blank_lines.filter(blank_lines.is_between(start, start + frame.height - 1))
        if here.is_empty():
            yield RawTable(str(path), frame, start, file_rows=total)
            continue
        # polars reads a blank line as a row of nulls: skip those rows, keep the others' lines.
        lines = pl.int_range(start, start + frame.height, eager=True)
        keep = ~lines.is_in(here.implode())
        yield RawTable(str(path), frame.filter(keep), start, lines.filter(keep), file_rows=total)


def _header(path: Path, separator: str) -> list[str]:
    # utf-8-sig: polars drops a byte-order mark, so must the header read here
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
    if not first.strip():
        found = "an empty file" if not first else "a blank line"
        raise DataError(f"expected a header line, found {found}", file=str(path), line=1)
    return next(csv.reader([first.rstrip("\r\n")], delimiter=separator))


_QUOTED = r'"(?:[^"]|"")*"'


def _label_hint(schema: Schema, header: list[str]) -> str:
    """What to say when a headerless file to score is one field short of ``header``: it may
    lack the label (a Kaggle test file), which cannot be told from a missing field, so the
    file's columns must be named."""
    if schema.label not in header:
        return ""
    rest = [c for c in header if c != schema.label]
    return f"; if it has no label column, name its columns with predict_file_format.columns, e.g. {rest}"


def _check_field_counts(
    path: Path, separator: str, expected: int, has_header: bool, short_hint: str = ""
) -> tuple[list[int], int]:
    """Raise on the first line whose quoting is malformed or whose number of fields is
    not ``expected`` (adding ``short_hint`` when it is one short); return the 1-based
    numbers of the blank lines after the header (skipped, not rows) and the number of lines.

    polars pads short rows with nulls silently and fails without a line number on a
    stray quote, so every line is checked first, in polars: lines with a quote must
    be well-formed CSV (quoted values closed on their line, quotes inside doubled),
    and fields are counted with the quoted values taken out.
    """
    start = 1 if has_header else 0
    sep = f"\\x{{{ord(separator):02X}}}"  # the separator as a regex escape
    field = f'(?:{_QUOTED}|[^"{sep}]*)'
    well_formed = f"{field}(?:{sep}{field})*\r?$"
    lines = pl.scan_lines(path, row_index_name="row")
    line = pl.col("line")
    quoted = line.str.contains('"', literal=True)
    is_blank = (line == "") | (line == "\r")
    fields = line.str.count_matches(separator, literal=True) + 1
    # Lines without a quote (nearly all) are only counted; the regexes run on the others.
    plain_bad = lines.filter(~quoted & ~is_blank & (pl.col("row") >= start) & (fields != expected))
    quoted_lines = lines.filter(quoted).with_columns(
        bad_quote=~pl.when(pl.col("row") == 0)
        .then(line.str.contains(f"^\ufeff?{well_formed}"))  # a byte-order mark may open the file
        .otherwise(line.str.contains(f"^{well_formed}")),
        n=line.str.replace_all(_QUOTED, "").str.count_matches(separator, literal=True) + 1,
    )
    quoted_bad = quoted_lines.filter(pl.col("bad_quote") | ((pl.col("row") >= start) & (pl.col("n") != expected)))
    blank, plain, odd, count = _collect_lines(
        path,
        lines.filter(is_blank & (pl.col("row") >= start)).select("row"),
        plain_bad.select("row", n=fields, bad_quote=pl.lit(False)).head(1),
        quoted_bad.select("row", "n", "bad_quote").head(1),
        lines.select(pl.len()),
    )
    bad = pl.concat([plain, odd]).sort("row").head(1)
    if bad.height:
        if bad["bad_quote"][0]:
            raise DataError(
                "malformed quoting: a '\"' inside an unquoted value, or a quoted value not closed on its "
                'line (quote the whole value and double the quotes inside it: "5"" screen")',
                file=str(path),
                line=int(bad["row"][0]) + 1,
            )
        found = int(bad["n"][0])
        raise DataError(
            f"expected {expected} fields separated by {separator!r}, found {found}"
            + (short_hint if found == expected - 1 else ""),
            file=str(path),
            line=int(bad["row"][0]) + 1,
        )
    return (blank["row"] + 1).to_list(), int(count.item())


def _collect_lines(path: Path, *queries: pl.LazyFrame) -> list[pl.DataFrame]:
    """Collect line-based queries of one file, reporting unreadable text as DataError."""
    try:
        return pl.collect_all(list(queries))
    except pl.exceptions.PolarsError as exc:
        raise _not_utf8(path) or DataError(f"cannot read the file as text ({exc})", file=str(path)) from exc


def _not_utf8(path: Path) -> DataError | None:
    """The DataError locating the first byte that is not UTF-8, if there is one."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return DataError(
                    f"not UTF-8 text: byte {raw[exc.start]:#04x} at byte {exc.start + 1} of the line "
                    "(save the file as UTF-8)",
                    file=str(path),
                    line=number,
                )
    return None


def _read_libfm(path: Path, schema: Schema, fmt: FileFormat) -> RawTable:
    """``label idx:val idx:val ...`` lines; categorical fields take ``idx`` as the value,
    numeric fields take ``val``; a multi field takes the list of its tokens' ``idx`` on the
    line (in line order), which needs ``field_starts``; with ``value_weights`` each token's
    ``val`` is its value's weight (``idx`` and ``val`` joined by ``weight_separator``, as
    :func:`~lit_ctr.data.checks.prepare` reads a text cell), else ``val`` is not read."""
    names = [f.name for f in schema.fields]
    multi = {i for i, f in enumerate(schema.fields) if f.kind == "multi"}
    if multi and fmt.field_starts is None:
        raise DataError(
            "file_format.field_starts: a libFM file with multi fields needs the first index of each field "
            "(several tokens of one field cannot be told apart by position)",
            file=str(path),
        )
    (lines,) = _collect_lines(
        path,
        pl.scan_lines(path)
        .with_columns(pl.col("line").str.strip_chars())
        .with_row_index("row")
        .filter(pl.col("line") != ""),
    )
    tokens = lines["line"].str.extract_all(r"\S+")  # split on any run of spaces or tabs
    label = tokens.list.first()
    pairs = tokens.list.slice(1)
    exploded = (
        pl.DataFrame({"row": lines["row"], "pair": pairs})
        .with_columns(pos=pl.int_ranges(pl.col("pair").list.len()))
        .explode("pair", "pos")
        .drop_nulls("pair")
    )
    parts = exploded["pair"].str.splitn(":", 2)
    exploded = exploded.with_columns(
        idx=parts.struct.field("field_0").str.to_integer(strict=False),
        val=parts.struct.field("field_1"),
    )
    bad = exploded.filter(pl.col("idx").is_null() | pl.col("val").is_null() | (pl.col("val") == "")).head(1)
    if bad.height:
        raise DataError(
            f"expected 'index:value' tokens, found {bad['pair'][0]!r}",
            file=str(path),
            line=int(bad["row"][0]) + 1,
        )
    exploded = exploded.with_columns(field=_libfm_field(exploded, fmt, len(names), path))
    dup = exploded.filter(pl.struct("row", "field").is_duplicated() & ~pl.col("field").is_in(list(multi))).head(1)
    if dup.height:
        raise DataError(
            f"two indices of field {names[int(dup['field'][0])]!r} on one line",
            file=str(path),
            line=int(dup["row"][0]) + 1,
        )
    takes_index = pl.Series([f.kind in ("categorical", "multi") for f in schema.fields])
    value = pl.when(takes_index.gather(exploded["field"])).then(pl.col("idx").cast(pl.String)).otherwise(pl.col("val"))
    if schema.weighted_multi:  # a weighted multi field's token is its value and weight, as a text cell writes them
        separator = pl.Series([f.weight_separator if f.value_weights else None for f in schema.fields], dtype=pl.String)
        token_separator = separator.gather(exploded["field"])
        value = (
            pl.when(token_separator.is_not_null())
            .then(pl.concat_str(pl.col("idx").cast(pl.String), pl.lit(token_separator), pl.col("val")))
            .otherwise(value)
        )
    exploded = exploded.with_columns(value=value)
    # Columns are aligned on the line under helper names, then named after the schema
    # (whose names may be anything, "row" and "value" included).
    rows = lines.select("row")
    columns = [label.alias(schema.label)]
    for i, name in enumerate(names):
        column = exploded.filter(pl.col("field") == i).select("row", "value")
        if i in multi:  # every token of the field, in line order; a line without any: missing
            column = column.group_by("row", maintain_order=True).agg(pl.col("value"))
        columns.append(rows.join(column, on="row", how="left", maintain_order="left")["value"].alias(name))
    frame = pl.DataFrame(columns)
    # Row numbers of blank lines were skipped: keep each row's own line for errors.
    return RawTable(str(path), frame, 1, lines["row"] + 1)


def _libfm_field(exploded: pl.DataFrame, fmt: FileFormat, num_fields: int, path: Path) -> pl.Series:
    """Field number of every token: by index range when ``field_starts`` is given,
    else by position on the line."""
    if fmt.field_starts is None:
        over = exploded.filter(pl.col("pos") >= num_fields).head(1)
        if over.height:
            raise DataError(
                f"expected at most {num_fields} index:value tokens (one per field)",
                file=str(path),
                line=int(over["row"][0]) + 1,
            )
        return exploded["pos"].cast(pl.Int64)
    starts = list(fmt.field_starts)
    if len(starts) != num_fields or starts != sorted(starts):
        raise DataError(f"file_format.field_starts: expected {num_fields} increasing start indices, got {starts}")
    idx = exploded["idx"]
    upper = fmt.num_features
    outside = (idx < starts[0]) | (idx >= upper if upper is not None else False)
    if outside.any():
        first = exploded.filter(outside).head(1)
        limit = f"[{starts[0]}, {upper})" if upper is not None else f">= {starts[0]}"
        raise DataError(
            f"index {int(first['idx'][0])} belongs to no field (field indices are {limit})",
            file=str(path),
            line=int(first["row"][0]) + 1,
        )
    return (pl.Series(starts).search_sorted(idx, side="right") - 1).cast(pl.Int64)
