"""Schema inference: the feature fields of a file, read off a sample of its rows.

``lit-ctr fit --model DeepFM --data.train_path data.csv --data.schema.label click``
needs no ``schema.fields``: the command reads the first :data:`SAMPLE_ROWS` rows of the
training file with polars and makes every column but the label (and ``schema.exclude``)
a field:

- strings, booleans and integers → ``categorical`` (one embedding row per value);
- floats whose values are all whole numbers → ``categorical`` too (an id or a count
  stored as float, e.g. ``4.0``);
- strings holding lists (``a|b|c`` or ``a;b``, a separator in at least a fifth of the
  sampled cells) and Parquet list columns → ``multi``, with the separator, a ``max_len``
  that covers 99% of the sampled rows (at most 50), and ``value_weights: true`` when
  nine in ten values read ``value:number`` (``sports:0.5``);
- other floats → ``numeric`` with ``transform: log1p``. The signed ``sign(x)·ln(1+|x|)``
  is near the identity for values in [-1, 1] and compresses the long tails CTR data is
  full of (prices, counts, durations), so one unscaled value of 10⁶ does not swamp the
  logits; ``none`` would need the user to standardise the column, and ``bucketize``
  (Criteo's log² rule) is made for non-negative counts.

Columns with one value in the sample (constant) or a different value in every row (an
id) carry nothing a model can learn from: they are left out, each reported in one line
that says how to keep it (``schema.keep``). The inferred fields go into the run's
config (so ``config.yaml`` reproduces the run) and are printed as YAML;
``lit-ctr schema FILE --label click`` prints them without training.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from lit_ctr.data.errors import DataError, SchemaError
from lit_ctr.data.readers import first_line_values
from lit_ctr.data.schema import Field, FileFormat, Schema

log = logging.getLogger("lit_ctr")

SAMPLE_ROWS = 100_000
"""Rows read from the top of the file to infer the schema."""

_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class LeftOut:
    """A column inference did not make a field, and why (``constant`` or ``unique``)."""

    column: str
    reason: str
    example: str | None = None


@dataclass
class InferredSchema:
    """What :func:`infer_schema` found.

    Attributes:
        schema: the label and the inferred fields, in file order.
        file_format: the file's layout; for a headerless file, with the ``columns`` the
            names were given (``column_1..n`` unless the user named them).
        left_out: constant and unique-per-row columns, not in ``schema.fields``.
        file: the file read.
        rows: rows in the sample.
    """

    schema: Schema
    file_format: FileFormat
    left_out: list[LeftOut] = field(default_factory=list)
    file: str = ""
    rows: int = 0

    def report_lines(self, keep_option: str = "--data.schema.keep '[{column}]'") -> list[str]:
        """One line per left-out column, saying how to keep it (``keep_option``, with
        ``{column}`` for the column's name)."""
        lines = []
        for out in self.left_out:
            if out.reason == "constant":
                what = f"constant ({out.example!r} in all {self.rows} sampled rows)"
            else:
                what = f"a different value in each of the {self.rows} sampled rows (an id?)"
            lines.append(
                f"lit-ctr: left out column {out.column!r}: {what}; keep it with "
                f"{keep_option.format(column=out.column)} (or list it under schema.fields)"
            )
        return lines

    def to_yaml(self, data_init_args: dict[str, Any] | None = None) -> str:
        """A ``data:`` config block with this schema, ready to save as ``my_data.yaml``
        and pass after a model config (``--config configs/models/deepfm.yaml --config my_data.yaml``)."""
        init_args: dict[str, Any] = dict(data_init_args or {})
        if self.file_format.columns is not None or self.file_format.has_header is False:
            init_args["file_format"] = _plain_format(self.file_format)
            if self.file_format.columns is not None:
                init_args["file_format"]["columns"] = _FlowList(self.file_format.columns)
        schema: dict[str, Any] = {"label": self.schema.label}
        if self.schema.label_mapping is not None:
            schema["label_mapping"] = self.schema.label_mapping
        schema["fields"] = [_FlowDict(field_dict(f)) for f in self.schema.fields or []]
        init_args["schema"] = schema
        config = {"data": {"class_path": "CTRDataModule", "init_args": init_args}}
        return yaml.dump(config, Dumper=_Dumper, sort_keys=False, width=120)


def field_dict(f: Field) -> dict[str, Any]:
    """The field's non-default settings (``{name: user}``, ``{name: price, kind: numeric, ...}``)."""
    out: dict[str, Any] = {"name": f.name}
    defaults = Field(name=f.name)
    for key in ("kind", "min_count", "transform", "fill_value", "clip", "separator", "max_len", "value_weights"):
        if getattr(f, key) != getattr(defaults, key):
            out[key] = getattr(f, key)
    return out


def infer_schema(
    path: str | Path,
    label: str,
    *,
    exclude: Sequence[str] = (),
    keep: Sequence[str] = (),
    file_format: FileFormat | None = None,
    label_mapping: dict[str, float] | None = None,
    sample_rows: int = SAMPLE_ROWS,
) -> InferredSchema:
    """Infer the fields of ``path`` (a CSV/TSV/Parquet file, or a glob: its first file)
    from its first ``sample_rows`` rows.

    Raises:
        DataError: the file cannot be read, or lacks the label or a column named in
            ``exclude``/``keep``, or no feature column is left.
    """
    fmt = file_format or FileFormat()
    file = _first_file(path)
    frame, fmt = _sample(file, fmt, sample_rows, label)
    columns = frame.columns
    where = str(file)
    if label not in columns:
        raise DataError(f"schema.label: no column {label!r} in the file; its columns are {columns}", file=where)
    for key, names in (("exclude", exclude), ("keep", keep)):
        missing = [n for n in names if n not in columns]
        if missing:
            raise DataError(f"schema.{key}: no column(s) {missing} in the file; its columns are {columns}", file=where)
    fields: list[Field] = []
    left_out: list[LeftOut] = []
    for name in columns:
        if name == label or name in exclude:
            continue
        column = frame[name]
        inferred = _field(column)
        if name not in keep:
            problem = _uninformative(column, inferred)
            if problem is not None:
                left_out.append(problem)
                continue
        fields.append(inferred)
    if not fields:
        raise DataError(
            f"no feature column left to infer (label {label!r}, excluded {list(exclude)}, left out "
            f"{[o.column for o in left_out]}); list the fields under schema.fields or keep some with schema.keep",
            file=where,
        )
    schema = Schema(
        fields=fields,
        label=label,
        label_mapping=label_mapping,
        exclude=list(exclude) or None,
        keep=list(keep) or None,
    )
    return InferredSchema(schema, fmt, left_out, where, frame.height)


# A cell holding a list: values joined by one of these, in at least this share of the cells.
_LIST_SEPARATORS = ("|", ";")
_LIST_SHARE = 0.2
_LONGEST_INFERRED_LIST = 50
# ``value:weight`` with a plain or scientific number after the last colon.
_WEIGHTED_VALUE = r"^.+:[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _field(column: pl.Series) -> Field:
    multi = _multi_field(column)
    if multi is not None:
        return multi
    if column.dtype.is_float():
        values = column.drop_nulls().drop_nans()
        finite = values.filter(values.is_finite())
        if finite.len() == values.len() and (finite == finite.round(0)).all():
            return Field(name=column.name)  # whole numbers stored as floats: ids or counts
        return Field(name=column.name, kind="numeric", transform="log1p")
    return Field(name=column.name)  # strings, booleans, integers, dates


def _multi_field(column: pl.Series) -> Field | None:
    """A ``multi`` field when the column holds lists (a list dtype, or strings joined by
    ``|`` or ``;`` in at least a fifth of its non-empty cells); otherwise None."""
    if isinstance(column.dtype, pl.List):
        lists, separator = column.drop_nulls().cast(pl.List(pl.String)), "|"
    elif column.dtype == pl.String:
        cells = column.drop_nulls()
        cells = cells.filter(cells.str.len_chars() > 0)
        found = [
            sep
            for sep in _LIST_SEPARATORS
            if cells.len() and cells.str.contains(sep, literal=True).mean() >= _LIST_SHARE
        ]
        if not found:
            return None
        separator = found[0]
        lists = cells.str.split(separator)
    else:
        return None
    if lists.is_empty():
        return None
    longest = lists.list.len().quantile(0.99, interpolation="higher") or 1
    values = lists.explode().drop_nulls().str.strip_chars()
    weighted = bool(values.len()) and values.str.contains(_WEIGHTED_VALUE).mean() >= 0.9
    return Field(
        name=column.name,
        kind="multi",
        separator=separator,
        max_len=int(min(max(longest, 1), _LONGEST_INFERRED_LIST)),
        value_weights=weighted,
    )


def _uninformative(column: pl.Series, inferred: Field) -> LeftOut | None:
    distinct = column.n_unique()  # null counts as one value
    if distinct <= 1:
        example = None if column.is_empty() or column[0] is None else str(column[0])
        return LeftOut(column.name, "constant", example)
    # Unique floats are ordinary measurements, and lists of tags differ from row to row;
    # unique ids are categorical columns.
    if not inferred.is_categorical or column.len() < 2:
        return None
    if column.null_count() == 0 and distinct == column.len():
        return LeftOut(column.name, "unique")
    return None


def _first_file(path: str | Path) -> Path:
    import glob

    text = str(path)
    if glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError("the glob matches no file", file=text)
        return files[0]
    file = Path(text)
    if not file.is_file():
        raise DataError("is a directory, expected a file or a glob" if file.is_dir() else "no such file", file=text)
    return file


def _sample(file: Path, fmt: FileFormat, rows: int, label: str) -> tuple[pl.DataFrame, FileFormat]:
    """The first ``rows`` rows of ``file`` with polars' types, and the layout with the
    column names of a headerless file filled in (``has_header: auto``: the first line is
    a header when it names the ``label``: no field is known yet)."""
    kind = fmt.kind if fmt.kind != "auto" else _EXTENSIONS.get(file.suffix.lower())
    if kind == "libfm":
        raise DataError(
            "schema.fields: a libFM file has no column names to infer fields from; list them", file=str(file)
        )
    if kind is None:
        raise DataError(
            f"cannot tell the format from the extension {file.suffix!r}; set file_format.kind to one of csv, tsv, parquet",
            file=str(file),
        )
    try:
        if kind == "parquet":
            return pl.scan_parquet(file).head(rows).collect(), fmt
        separator = fmt.separator or ("\t" if kind == "tsv" else ",")
        has_header = fmt.has_header if fmt.has_header is not None else kind == "csv"
        if has_header == "auto":
            has_header = label in [v.strip() for v in first_line_values(file, separator) or []]
        _check_widths(file, separator, rows)
        frame = pl.read_csv(
            file,
            has_header=has_header,
            separator=separator,
            n_rows=rows,
            infer_schema_length=None,  # every sampled row: a float late in the file is still a float
            null_values=fmt.null_values or None,
            new_columns=fmt.columns if not has_header else None,
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = " ".join(str(exc).split())  # one line
        raise DataError(f"cannot read a sample of rows to infer the schema ({reason})", file=str(file)) from exc
    if not has_header:
        if fmt.columns is None:
            names = [f"column_{i}" for i in range(1, frame.width + 1)]
            frame.columns = names
            fmt = FileFormat(**{**fmt.to_dict(), "kind": kind, "has_header": False, "columns": names})
        elif len(fmt.columns) != frame.width:
            raise DataError(
                f"file_format.columns names {len(fmt.columns)} columns; the file has {frame.width}", file=str(file)
            )
    return frame, fmt


def _check_widths(file: Path, separator: str, rows: int) -> None:
    """Raise on the first of the sampled lines whose number of fields differs from the
    first line's (polars would pad short rows with nulls, and not name the line)."""
    import csv
    import itertools

    with open(file, newline="", encoding="utf-8-sig", errors="replace") as handle:
        lines = itertools.islice(handle, rows + 1)
        expected = None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            width = len(next(csv.reader([line.rstrip("\r\n")], delimiter=separator)))
            if expected is None:
                expected = width
            elif width != expected:
                raise DataError(
                    f"expected {expected} fields separated by {separator!r}, found {width}", file=str(file), line=number
                )


def _plain_format(fmt: FileFormat) -> dict[str, Any]:
    defaults = FileFormat().to_dict()
    return {k: v for k, v in fmt.to_dict().items() if v != defaults[k]}


class _FlowDict(dict):
    """A mapping written on one line (``{name: user}``)."""


class _FlowList(list):
    """A list written on one line (``[a, b]``)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        super().increase_indent(flow, False)  # list items indented under their key


_Dumper.add_representer(_FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))
_Dumper.add_representer(_FlowDict, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


# --- the lit-ctr command ------------------------------------------------------------------


def complete_data_config(config: Any) -> None:
    """Fill in ``data.init_args.schema.fields`` (and a headerless file's column names) in
    a parsed ``lit-ctr`` config when they are not given, before instantiation, so the saved
    ``config.yaml`` holds them. Takes them from ``--ckpt_path``'s checkpoint when there is
    one (validate/test/predict), otherwise infers them from ``train_path`` (or ``path``).
    A config with fields, or a data module without a schema, is left as it is."""
    data: Any = config.get("data") if hasattr(config, "get") else None
    init_args: Any = data.get("init_args") if hasattr(data, "get") else None
    schema: Any = init_args.get("schema") if hasattr(init_args, "get") else None
    if not hasattr(schema, "get") or schema.get("fields") is not None:
        return
    ckpt_path = config.get("ckpt_path")
    if ckpt_path:
        from lit_ctr.checkpoint import read_checkpoint

        saved = (read_checkpoint(ckpt_path).preprocessing or {}).get("schema")
        if saved and saved.get("fields"):
            schema.fields = [_namespace(Field(**f)) for f in saved["fields"]]
            return
    source = init_args.get("train_path") or init_args.get("path")
    if not source:
        raise SchemaError(
            "schema.fields: not given, and there is no train_path (or path) to infer them from; "
            "list the fields or pass --ckpt_path"
        )
    fmt_config = init_args.get("file_format")
    fmt = FileFormat(**_plain(fmt_config)) if fmt_config is not None else None
    inferred = infer_schema(
        source,
        schema.get("label"),
        exclude=schema.get("exclude") or (),
        keep=schema.get("keep") or (),
        file_format=fmt,
        label_mapping=schema.get("label_mapping"),
    )
    schema.fields = [_namespace(f) for f in inferred.schema.fields or []]
    if inferred.file_format.columns is not None and (fmt is None or fmt.columns is None):
        from jsonargparse import Namespace

        init_args.file_format = Namespace(**inferred.file_format.to_dict())
    for line in inferred.report_lines():
        log.info(line)
    log.info(
        "lit-ctr: inferred the schema from the first %d rows of %s (saved in the run's config.yaml):\n%s",
        inferred.rows,
        inferred.file,
        yaml.dump(
            {
                "schema": {
                    "label": inferred.schema.label,
                    "fields": [_FlowDict(field_dict(f)) for f in inferred.schema.fields or []],
                }
            },
            Dumper=_Dumper,
            sort_keys=False,
            width=120,
        ).rstrip(),
    )


def _namespace(f: Field) -> Any:
    import dataclasses

    from jsonargparse import Namespace

    return Namespace(**dataclasses.asdict(f))  # every setting: a multi field's separator and max_len too


def _plain(value: Any) -> dict[str, Any]:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return dict(value)


def main(argv: Sequence[str] | None = None) -> None:
    """``lit-ctr schema FILE --label click [--exclude id ...] [--keep col ...]``: print the
    inferred ``data:`` config block on stdout (the left-out columns on stderr)."""
    parser = argparse.ArgumentParser(
        prog="lit-ctr schema",
        description="Print the schema inferred from a CSV/TSV/Parquet file as a data config "
        "(save it as my_data.yaml and run: lit-ctr fit --config configs/models/deepfm.yaml --config my_data.yaml).",
    )
    parser.add_argument("file", help="the training file (or a glob: its first file is read)")
    parser.add_argument("--label", required=True, help="the label column")
    parser.add_argument("--exclude", nargs="*", default=[], help="columns that are not features (ids, leaks)")
    parser.add_argument("--keep", nargs="*", default=[], help="keep these although constant or unique per row")
    parser.add_argument("--no_header", action="store_true", help="the file has no header line (columns column_1..n)")
    parser.add_argument("--separator", default=None, help="field separator (default: ',' for CSV, a tab for TSV)")
    parser.add_argument("--sample_rows", type=int, default=SAMPLE_ROWS, help="rows read from the top of the file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    fmt = FileFormat(has_header=False if args.no_header else None, separator=args.separator)
    inferred = infer_schema(
        args.file,
        args.label,
        exclude=args.exclude,
        keep=args.keep,
        file_format=fmt,
        sample_rows=args.sample_rows,
    )
    for line in inferred.report_lines(keep_option="--keep {column}"):
        print(line, file=sys.stderr)
    init_args: dict[str, Any] = {"train_path": args.file}
    sys.stdout.write(inferred.to_yaml(init_args))
