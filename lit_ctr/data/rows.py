"""Raw rows to score → the model's arrays, with a saved schema and vocabulary.

This is the encoding half of scoring, kept free of the model classes and of Lightning's
training code so that an exported predictor (:mod:`lit_ctr.predictor`) and a checkpoint
(:mod:`lit_ctr.scoring`) encode raw rows the same way.

Rows are a file path or glob (read with the training file format), a polars frame, a
pandas frame, or a list of dicts. Values are taken as text, exactly as a file gives
them; unseen values map to the field's out-of-vocabulary id and missing values
(``None``, NaN, empty strings, absent keys) to its missing-value id. Floats follow the
readers' rule (:func:`~lit_ctr.data.readers.as_text`): a whole number is keyed as its
integer (``7.0`` finds the id of ``7``), on every path.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lit_ctr.data.checks import prepare
from lit_ctr.data.encoding import EncodedArrays, Encoder
from lit_ctr.data.errors import DataError
from lit_ctr.data.readers import RawTable, as_text, expand_paths, read_tables
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary

Rows = str | Path | pl.DataFrame | list[dict[str, Any]] | Any
"""A path or glob, a polars or pandas frame, or a list of dicts."""


def encode_rows(
    preprocessing: dict[str, Any], rows: Rows, file_format: FileFormat | dict[str, Any] | None = None
) -> EncodedArrays:
    """Encode raw rows (label optional) with a saved schema, file format and vocabulary.

    Args:
        preprocessing: ``{"schema", "file_format", "vocabulary"}`` as plain data, as a
            checkpoint or an exported artifact stores them.
        rows: a file path or glob, a polars or pandas frame, or a list of dicts.
        file_format: how to read a path when it is not laid out like the training
            files, e.g. ``{"kind": "csv"}`` for a CSV with a header (default: the
            training files' format).
    """
    if file_format is None:
        file_format = FileFormat(**preprocessing["file_format"])
    elif isinstance(file_format, dict):
        file_format = FileFormat(**file_format)
    schema = Schema.from_dict(preprocessing["schema"])
    return encode_with(schema, Vocabulary.from_dict(preprocessing["vocabulary"]), rows, file_format)


def encode_with(
    schema: Schema, vocabulary: Vocabulary, rows: Rows, file_format: FileFormat, *, chunk_rows: int | None = None
) -> EncodedArrays:
    """Encode raw rows (label optional): the one path from rows to arrays outside the cache,
    for :func:`encode_rows` and the DataModule's rows to predict.

    Files are read ``chunk_rows`` rows at a time (whole when None) and each chunk is
    encoded on its own; the arrays (``ids [N, F_cat]``, ``numeric [N, F_num]``, labels
    ``[N]`` when every row has one) are returned in memory.
    """
    encoder = Encoder(schema, vocabulary)
    if isinstance(rows, (str, Path)):
        tables: Iterable[RawTable] = (
            table
            for path in expand_paths(rows)
            for table in read_tables(path, schema, file_format, require_label=False, chunk_rows=chunk_rows)
        )
    else:
        tables = [rows_table(rows, schema)]
    parts = [encoder(prepare(table, schema, require_label=False)) for table in tables]
    if len(parts) == 1:
        return parts[0]
    labelled = all(p.labels is not None for p in parts)
    return EncodedArrays(
        np.concatenate([p.ids for p in parts]),
        np.concatenate([p.numeric for p in parts]),
        np.concatenate([p.labels for p in parts]) if labelled else None,
    )


def rows_table(rows: Any, schema: Schema) -> RawTable:
    """In-memory rows as a :class:`RawTable` of string columns (label kept if present)."""
    if isinstance(rows, pl.DataFrame):
        frame = rows
    elif _is_pandas_frame(rows):
        frame = _from_pandas(rows, separators(schema))
    elif isinstance(rows, (list, tuple)):
        frame = _from_dicts(rows, [schema.label, *(f.name for f in schema.fields)], separators(schema))
    else:
        raise DataError(
            f"expected rows as a path, a polars or pandas frame, or a list of dicts; got {type(rows).__name__}",
            file="<rows>",
        )
    names = [f.name for f in schema.fields]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"the rows lack schema column(s) {missing}; they have {frame.columns}", file="<rows>")
    keep = ([schema.label] if schema.label in frame.columns else []) + names
    multi = {f.name for f in schema.multi}
    nested = [
        c
        for c in keep
        if frame.schema[c] == pl.Object
        or (frame.schema[c].is_nested() and not (c in multi and isinstance(frame.schema[c], (pl.List, pl.Array))))
    ]
    if nested:
        raise DataError(
            f"column(s) {nested} hold lists, structs or objects; expected one value per cell "
            "(only a multi field takes a list)",
            file="<rows>",
        )
    try:
        frame = frame.select(as_text(c, frame.schema[c]) for c in keep)
    except pl.exceptions.PolarsError as exc:  # e.g. bytes that are not UTF-8 text
        raise DataError(f"cannot read the values as text ({exc})", file="<rows>") from exc
    return RawTable("<rows>", frame, None)


def separators(schema: Schema) -> dict[str, str]:
    """Each multi field's name → its separator."""
    return {f.name: f.separator for f in schema.multi}


def _from_dicts(rows: list[dict[str, Any]] | tuple, names: list[str], multi: dict[str, str]) -> pl.DataFrame:
    """Dicts as string columns: ``str(value)``, floats by :func:`as_text`, with None/NaN and
    absent keys as nulls; a multi field's values as a list column (:func:`_list_column`)."""
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(
                f"expected a list of dicts (column name → value), row {i} is a {type(row).__name__}", file="<rows>"
            )
    present = set().union(*(row.keys() for row in rows)) if rows else set()
    return pl.DataFrame(
        [
            _list_column(name, [row.get(name) for row in rows], multi[name])
            if name in multi
            else _column(name, [row.get(name) for row in rows])
            for name in names
            if name in present
        ]
    )


def _list_column(name: str, values: list[Any], separator: str) -> pl.Series:
    """A multi field's Python values as a list column: a list, tuple or array is the row's
    values (each by :func:`_column`'s rule), text is split at the field's ``separator``
    (as in a file), None/NaN/empty text is a missing cell."""
    if not any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        return _column(name, values)  # text only: split by prepare, as a file's column
    cells: list[list[str] | None] = []
    for v in values:
        if isinstance(v, (list, tuple, np.ndarray)):
            cells.append([t for t in _column("", list(v)).to_list() if t is not None])
        elif v is None or (isinstance(v, (float, np.floating)) and v != v) or v == "":
            cells.append(None)
        else:
            text = _column("", [v])[0]
            cells.append(text.split(separator))
    return pl.Series(name, cells, dtype=pl.List(pl.String))


def _column(name: str, values: list[Any]) -> pl.Series:
    """Python values as one string column; floats (numpy's too) go through :func:`as_text`."""
    floats = [i for i, v in enumerate(values) if isinstance(v, (float, np.floating)) and v == v]
    text = [None if v is None or (isinstance(v, (float, np.floating)) and v != v) else str(v) for v in values]
    if floats:
        typed = pl.DataFrame({"v": pl.Series([float(values[i]) for i in floats], dtype=pl.Float64)})
        for i, t in zip(floats, typed.select(as_text("v", pl.Float64()))["v"]):
            text[i] = t
    return pl.Series(name, text, dtype=pl.String)


def _is_pandas_frame(rows: Any) -> bool:
    return type(rows).__module__.split(".")[0] == "pandas" and hasattr(rows, "columns") and hasattr(rows, "isna")


def _from_pandas(frame: Any, multi: dict[str, str]) -> pl.DataFrame:
    """A pandas frame as string columns, without pyarrow.

    Missing cells (None, NaN, NA, NaT) become nulls. Float columns follow :func:`as_text`:
    pandas turns an integer id column with a missing cell into floats, and ``123.0`` must
    still find the id of ``123``.
    """
    columns = []
    for name in frame.columns:
        series = frame[name]
        if str(name) in multi and series.dtype.kind == "O":
            values = [None if _is_na(v) else v for v in series.to_numpy(dtype=object)]
            columns.append(_list_column(str(name), values, multi[str(name)]))
            continue
        missing = series.isna().to_numpy()
        values = series.to_numpy(dtype=object)
        if series.dtype.kind == "f":
            columns.append(_column(str(name), [None if m else float(v) for v, m in zip(values, missing)]))
        else:
            columns.append(
                pl.Series(str(name), [None if m else str(v) for v, m in zip(values, missing)], dtype=pl.String)
            )
    return pl.DataFrame(columns)


def _is_na(value: Any) -> bool:
    """Whether one pandas cell is missing (lists are not)."""
    return value is None or (isinstance(value, (float, np.floating)) and value != value)
