"""Raw files → polars frames of string columns named after the schema.

Every reader returns :class:`RawTable` objects, one per file, whose columns are the
label (when present) and the schema's fields, all as ``pl.String`` with missing cells
as null. Values are checked and converted later (:mod:`lit_ctr.data.encoding`), which
needs the file and the line of each row to report bad input: ``first_line`` gives it.
"""

from __future__ import annotations

import csv
import glob
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from lit_ctr.data.errors import DataError
from lit_ctr.data.schema import FileFormat, Schema

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
    """One file's rows as string columns.

    Attributes:
        file: the path read.
        frame: ``[rows, columns]`` of ``pl.String``: the label (if the file has it) and
            every schema field.
        first_line: the 1-based line number of row 0 (2 when there is a header), or
            ``None`` for formats without lines (Parquet rows are reported as ``row``).
        lines: the 1-based line number of every row, when rows are not consecutive
            lines (blank lines were skipped); ``None`` otherwise.
    """

    file: str
    frame: pl.DataFrame
    first_line: int | None
    lines: pl.Series | None = None

    def locate(self, row: int) -> dict[str, object]:
        """``DataError`` keyword arguments naming where row ``row`` of this file is."""
        if self.lines is not None:
            return {"file": self.file, "line": int(self.lines[row])}
        if self.first_line is None:
            return {"file": f"{self.file} (row {row})"}
        return {"file": self.file, "line": self.first_line + row}


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


def file_kind(path: Path, fmt: FileFormat) -> str:
    """The format of ``path``: the configured one, or by extension."""
    if fmt.kind != "auto":
        return fmt.kind
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"cannot tell the format from the extension {path.suffix!r}; set format.kind to "
            "one of csv, tsv, parquet, libfm",
            file=str(path),
        )
    return kind


def read_table(path: Path, schema: Schema, fmt: FileFormat, *, require_label: bool) -> RawTable:
    """Read one file into a :class:`RawTable` (label optional when ``require_label`` is false)."""
    kind = file_kind(path, fmt)
    if kind == "libfm":
        return _read_libfm(path, schema, fmt)
    if kind == "parquet":
        return _read_parquet(path, schema, require_label)
    return _read_delimited(path, schema, fmt, kind, require_label)


def _wanted(schema: Schema, available: list[str], file: str, require_label: bool) -> list[str]:
    names = [f.name for f in schema.fields]
    missing = [n for n in names if n not in available]
    if schema.label not in available and require_label:
        missing.insert(0, schema.label)
    if missing:
        raise DataError(
            f"the file lacks schema column(s) {missing}; it has {available}",
            file=file,
        )
    return ([schema.label] if schema.label in available else []) + names


def _read_parquet(path: Path, schema: Schema, require_label: bool) -> RawTable:
    try:
        available = pl.scan_parquet(path).collect_schema().names()
        wanted = _wanted(schema, available, str(path), require_label)
        frame = pl.scan_parquet(path).select(
            pl.col(c).cast(pl.String) for c in wanted
        ).collect()
    except DataError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"not a readable Parquet file ({exc})", file=str(path)) from exc
    return RawTable(str(path), frame, None)


def _read_delimited(
    path: Path, schema: Schema, fmt: FileFormat, kind: str, require_label: bool
) -> RawTable:
    separator = fmt.separator or ("\t" if kind == "tsv" else ",")
    has_header = fmt.has_header if fmt.has_header is not None else kind == "csv"
    if has_header:
        header = _header(path, separator)
        columns = None
    else:
        header = fmt.columns or [schema.label] + [f.name for f in schema.fields]
        columns = header
    wanted = _wanted(schema, header, str(path), require_label)
    blank = _check_field_counts(path, separator, len(header), has_header)
    try:
        frame = (
            pl.scan_csv(
                path,
                has_header=has_header,
                separator=separator,
                new_columns=columns,
                infer_schema=False,
                null_values=fmt.null_values or None,
                raise_if_empty=False,
            )
            .select(wanted)
            .collect()
        )
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot parse as {kind.upper()} ({exc})", file=str(path)) from exc
    first_line = 2 if has_header else 1
    if not blank:
        return RawTable(str(path), frame, first_line)
    # polars reads a blank line as a row of nulls: skip those rows, keep the others' lines.
    lines = pl.int_range(first_line, first_line + frame.height, eager=True)
    keep = ~lines.is_in(blank)
    return RawTable(str(path), frame.filter(keep), first_line, lines.filter(keep))


def _header(path: Path, separator: str) -> list[str]:
    # utf-8-sig: polars drops a byte-order mark, so must the header read here
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        first = handle.readline()
    if not first.strip():
        found = "an empty file" if not first else "a blank line"
        raise DataError(f"expected a header line, found {found}", file=str(path), line=1)
    return next(csv.reader([first.rstrip("\r\n")], delimiter=separator))


def _check_field_counts(path: Path, separator: str, expected: int, has_header: bool) -> list[int]:
    """Raise on the first line whose number of fields is not ``expected``; return the
    1-based numbers of the blank lines after the header (skipped, not rows).

    polars pads short rows with nulls silently, so count separators per line first
    (fast, in polars) and confirm suspects with the quote-aware csv module.
    """
    start = 1 if has_header else 0
    lines = pl.scan_lines(path, row_index_name="row").with_columns(
        blank=pl.col("line").str.strip_chars_end("\r") == ""
    )
    blank, counts = pl.collect_all(
        [
            lines.filter(pl.col("blank") & (pl.col("row") >= start)).select("row"),
            lines.filter(~pl.col("blank"))
            .with_columns(n=pl.col("line").str.count_matches(separator, literal=True) + 1)
            .filter(pl.col("n") != expected)
            .head(10_000),
        ]
    )
    for row, line in zip(counts["row"], counts["line"]):
        if row < start:
            continue
        fields = next(csv.reader(io.StringIO(line.rstrip("\r")), delimiter=separator), [])
        if len(fields) != expected:
            raise DataError(
                f"expected {expected} fields separated by {separator!r}, found {len(fields)}",
                file=str(path),
                line=row + 1,
            )
    return (blank["row"] + 1).to_list()


def _read_libfm(path: Path, schema: Schema, fmt: FileFormat) -> RawTable:
    """``label idx:val idx:val ...`` lines; categorical fields take ``idx`` as the value,
    numeric fields take ``val``."""
    names = [f.name for f in schema.fields]
    lines = (
        pl.scan_lines(path)
        .with_columns(pl.col("line").str.strip_chars())
        .with_row_index("row")
        .filter(pl.col("line") != "")
        .collect()
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
    parts = exploded["pair"].str.split_exact(":", 1)
    exploded = exploded.with_columns(
        idx=parts.struct.field("field_0").str.to_integer(strict=False),
        val=parts.struct.field("field_1"),
    )
    bad = exploded.filter(pl.col("idx").is_null() | pl.col("val").is_null()).head(1)
    if bad.height:
        raise DataError(
            f"expected 'index:value' tokens, found {bad['pair'][0]!r}",
            file=str(path),
            line=int(bad["row"][0]) + 1,
        )
    exploded = exploded.with_columns(field=_libfm_field(exploded, fmt, len(names), path))
    dup = exploded.filter(pl.struct("row", "field").is_duplicated()).head(1)
    if dup.height:
        raise DataError(
            f"two indices of field {names[int(dup['field'][0])]!r} on one line",
            file=str(path),
            line=int(dup["row"][0]) + 1,
        )
    takes_index = pl.Series([f.kind == "categorical" for f in schema.fields])
    exploded = exploded.with_columns(
        value=pl.when(takes_index.gather(exploded["field"]))
        .then(pl.col("idx").cast(pl.String))
        .otherwise(pl.col("val"))
    )
    frame = pl.DataFrame({"row": lines["row"], schema.label: label})
    for i, name in enumerate(names):
        column = exploded.filter(pl.col("field") == i).select("row", pl.col("value").alias(name))
        frame = frame.join(column, on="row", how="left", maintain_order="left")
    frame = frame.drop("row")
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
        raise DataError(
            f"format.field_starts: expected {num_fields} increasing start indices, got {starts}"
        )
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
