"""Hypothesis strategies, file writers and the round-trip oracle of the fuzz tests.

A generated table knows, cell by cell, what the pipeline must make of it: the key a
categorical cell maps to (``None`` = the missing id), the float a numeric cell becomes
after its transform, or that the cell is bad and the file must raise ``DataError``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from hypothesis import HealthCheck, Phase, reject, settings
from hypothesis import strategies as st

from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.errors import SchemaError
from lit_ctr.data.schema import Field, Schema
from lit_ctr.data.vocabulary import MISSING_ID, RESERVED_IDS, Vocabulary

# ---------------------------------------------------------------------- settings
# CI runs a bounded, derandomized number of examples; LIT_CTR_FUZZ_EXAMPLES=N explores
# N fresh random examples per test instead (e.g. a long local run before a release).
_EXPLORE = int(os.environ.get("LIT_CTR_FUZZ_EXAMPLES", "0"))


def fuzz_settings(max_examples: int) -> settings:
    """Bounded settings for one fuzz test (``max_examples`` in CI)."""
    return settings(
        max_examples=_EXPLORE or max_examples,
        derandomize=not _EXPLORE,
        deadline=None,
        database=None,
        print_blob=True,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no explain phase
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# ---------------------------------------------------------------------- text
# What polars' str.strip_chars() strips: the Unicode White_Space characters (Python's
# str.isspace() also counts \x1c-\x1f, which polars keeps).
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)

# Any Unicode scalar value except surrogates (which no UTF-8 file can hold) and line
# breaks (a quoted value may not span lines: tested separately, as allowed errors).
_ANY_CHAR = st.characters(codec="utf-8", exclude_characters="\r\n")
_TRICKY = [
    '"',
    "'",
    ",",
    ";",
    "|",
    "\t",
    " ",
    '""',
    '","',
    '"a,b"',
    'a"b',
    "\\",
    ":",
    "NA",
    "null",
    "None",
    "\ufeff",
    "\x00",
]


def _long(piece: str, times: int) -> str:
    return piece * times


text_values = st.one_of(
    st.text(_ANY_CHAR, max_size=12),
    st.lists(st.sampled_from(_TRICKY + ["a", "é", "漢", "🙂"]), min_size=1, max_size=6).map("".join),
    st.builds(_long, st.text(_ANY_CHAR, min_size=1, max_size=4), st.integers(100, 3000)),  # very long strings
    st.integers(-(10**30), 10**30).map(str),  # huge and negative integers
    st.sampled_from(["", " ", "\t", "\u3000", " a ", "\xa0b\xa0"]),  # blank or padded
)

# Field and label names: printable, one line, and a few that collide with helper
# columns the readers use internally.
_RESERVED_LOOKING = [
    "row",
    "line",
    "label",
    "n",
    "value",
    "idx",
    "val",
    "pos",
    "pair",
    "field",
    "blank",
    "index",
    "len",
]
names = st.one_of(
    st.sampled_from(_RESERVED_LOOKING),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=1, max_size=10).filter(
        # a leading byte-order mark in a header is dropped as an encoding mark
        lambda s: s.strip(WHITE_SPACE) == s and not s.startswith("\ufeff")
    ),
)


def strip(value: str | None) -> str | None:
    """The key a categorical cell maps to: stripped text, ``None`` when missing."""
    if value is None:
        return None
    value = value.strip(WHITE_SPACE)
    return value or None


# ---------------------------------------------------------------------- cells
@dataclass(frozen=True)
class Cell:
    """One written cell and what it must become.

    ``text`` is what goes into a text file (``None`` = empty); ``raw`` is the Python
    value for typed formats (Parquet, in-memory rows); ``expected`` is the categorical
    key or the transformed float; ``bad`` marks a cell that must raise ``DataError``;
    ``multiline`` a value the readers may reject (a line break inside quotes).
    """

    text: str | None
    raw: Any
    expected: Any
    bad: bool = False
    multiline: bool = False


_JUNK_NUMBERS = [
    "abc",
    "1..2",
    "--1",
    "1e",
    "n/a",
    "½",
    "1 2",
    "0x1F",
    "١٢",
    "1_000",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e400",
    "-1e999",
]
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _transform(x: float, transform: str) -> Any:
    if transform == "log1p":
        return math.copysign(math.log1p(abs(x)), x) if x else 0.0
    if transform == "bucketize":
        return str(int(math.floor(math.log(x) ** 2)) if x > 2 else int(x))
    return x


@st.composite
def numeric_cell(draw: st.DrawFn, f: Field, allow_missing: bool = True) -> Cell:
    """A valid numeric cell: a float or a (huge, negative) integer within what the
    field's transform accepts, maybe padded with spaces, or missing."""
    kind = draw(st.sampled_from(["float", "int", "padded"] + (["missing"] if allow_missing else [])))
    if kind == "missing":
        blank = draw(st.sampled_from([None, "", "  "]))
        expected = None if f.transform == "bucketize" else float(np.float32(f.fill_value))
        return Cell(blank, None, expected)
    low, high = -1e300, 1e300
    if f.transform == "none":  # the model gets float32: larger values are rejected
        low, high = -_FLOAT32_MAX, _FLOAT32_MAX
    elif f.transform == "bucketize":  # buckets are 64-bit integers
        low = -(2.0**63)
    if kind == "int":
        value: float | int = draw(st.integers(max(-(10**30), int(low)), 10**30))
        text, x = str(value), float(value)
    else:
        value = x = draw(st.floats(low, high))
        text = repr(value)
    if kind == "padded":
        text = f" {text}\t"
    return Cell(text, value, _transform(x, f.transform))


@st.composite
def bad_numeric_cell(draw: st.DrawFn, f: Field) -> Cell:
    """Junk, a non-finite number, or a number out of the field's range."""
    choices = list(_JUNK_NUMBERS)
    if f.transform == "none":
        choices += ["3.5e38", "-1e39", str(10**40)]
    if f.transform == "bucketize":
        choices += ["-1e20", str(-(10**25))]
    text = draw(st.sampled_from(choices))
    return Cell(text, text, None, bad=True)


@st.composite
def categorical_cell(draw: st.DrawFn, allow_multiline: bool = False) -> Cell:
    if draw(st.integers(0, 9)) == 0:
        return Cell(None, None, None)
    if draw(st.integers(0, 9)) == 0:  # an integer id, as Parquet files often hold
        number = draw(st.integers(-(2**63), 2**63 - 1))
        return Cell(str(number), number, str(number))
    value = draw(text_values)
    multiline = False
    if allow_multiline and draw(st.integers(0, 4)) == 0:
        value = value + draw(st.sampled_from(["\n", "\r\n", "\r"])) + "x"
        multiline = True
    return Cell(value, value, strip(value), multiline=multiline)


@st.composite
def label_cell(draw: st.DrawFn) -> Cell:
    good = draw(st.sampled_from(["0", "1", "1.0", " 0 ", "0.0"]))
    return Cell(good, good, float(good))


BAD_LABELS = st.sampled_from(["2", "-1", "yes", "", "0.5", "nan", "1e400"]).map(
    lambda t: Cell(t or None, t, None, bad=True)
)


# ---------------------------------------------------------------------- tables
@dataclass
class Table:
    """A generated schema and its rows: ``rows[i][0]`` is the label, then one cell per
    field. ``bad_at`` is ``(row, column name)`` of the one bad cell, if any."""

    schema: Schema
    rows: list[list[Cell]] = field(default_factory=list)
    bad_at: tuple[int, str] | None = None

    @property
    def bad(self) -> bool:
        return self.bad_at is not None

    @property
    def multiline(self) -> bool:
        return any(c.multiline for row in self.rows for c in row)


@st.composite
def schemas(
    draw: st.DrawFn, max_fields: int = 5, kinds: tuple[str, ...] = ("categorical", "log1p", "none", "bucketize")
) -> Schema:
    """A valid schema: 1..max_fields uniquely named fields of random kinds."""
    label = draw(names)
    field_names = draw(st.lists(names.filter(lambda n: n != label), min_size=1, max_size=max_fields, unique=True))
    fields = []
    for name in field_names:
        kind = draw(st.sampled_from(kinds))
        if kind == "categorical":
            fields.append(Field(name, min_count=draw(st.sampled_from([1, 1, 1, 2]))))
        else:
            fill = draw(st.sampled_from([0.0, -1.5, 1e30]))
            fields.append(Field(name, kind="numeric", transform=kind, fill_value=fill))
    try:
        return Schema(fields=fields, label=label)
    except SchemaError:  # a name the schema refuses (tested in test_fuzz_schema.py)
        reject()


@st.composite
def tables(
    draw: st.DrawFn,
    max_rows: int = 8,
    allow_bad: bool = True,
    allow_multiline: bool = False,
    schema: Schema | None = None,
) -> Table:
    """Valid rows for a random schema; with ``allow_bad``, one time in three one cell
    (a label or a numeric value) is replaced by a bad one."""
    schema = schema or draw(schemas())
    rows = []
    for _ in range(draw(st.integers(1, max_rows))):
        row = [draw(label_cell())]
        for f in schema.fields:
            row.append(draw(numeric_cell(f) if f.kind == "numeric" else categorical_cell(allow_multiline)))
        rows.append(row)
    table = Table(schema, rows)
    if allow_bad and draw(st.integers(0, 2)) == 0:
        i = draw(st.integers(0, len(rows) - 1))
        numeric = [j for j, f in enumerate(schema.fields, 1) if f.kind == "numeric"]
        j = draw(st.sampled_from([0, *numeric]))
        rows[i][j] = draw(BAD_LABELS if j == 0 else bad_numeric_cell(schema.fields[j - 1]))
        table.bad_at = (i, schema.label if j == 0 else schema.fields[j - 1].name)
    return table


# ---------------------------------------------------------------------- writers
def write_delimited(table: Table, path: Path, separator: str, header: bool) -> None:
    """CSV/TSV through Python's csv writer: values holding the separator, a quote or a
    line break are quoted, quotes doubled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    if header:
        writer.writerow([table.schema.label] + [f.name for f in table.schema.fields])
    for row in table.rows:
        writer.writerow(["" if c.text is None else c.text for c in row])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_parquet(table: Table, path: Path, typed: bool) -> None:
    """Parquet columns: typed (Float64/Int64 where the cells allow) or all strings."""
    columns = {}
    for j, name in enumerate([table.schema.label] + [f.name for f in table.schema.fields]):
        cells = [row[j] for row in table.rows]
        raws = [c.raw for c in cells]
        if typed and all(isinstance(r, int) and -(2**63) <= r < 2**63 for r in raws if r is not None):
            columns[name] = pl.Series(name, raws, dtype=pl.Int64)
        elif typed and all(isinstance(r, float) for r in raws if r is not None):
            columns[name] = pl.Series(name, raws, dtype=pl.Float64)
        else:
            columns[name] = pl.Series(name, [c.text for c in cells], dtype=pl.String)
    pl.DataFrame(list(columns.values())).write_parquet(path)


def write_libfm(lines: list[str], path: Path) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- oracle
def check_round_trip(table: Table, arrays: EncodedArrays, vocabulary: Vocabulary) -> None:
    """Every categorical key maps to its own id (missing → the missing id), numerics equal
    the written floats after their transform, labels equal the written labels."""
    schema = table.schema
    assert len(arrays) == len(table.rows)
    np.testing.assert_array_equal(arrays.labels, np.array([row[0].expected for row in table.rows], dtype=np.float32))
    position = {f.name: j + 1 for j, f in enumerate(schema.fields)}
    for j, (f, vocab, offset) in enumerate(zip(schema.categorical, vocabulary.fields, vocabulary.offsets)):
        assert vocab.name == f.name
        keys = [row[position[f.name]].expected for row in table.rows]
        ids = np.asarray(arrays.ids[:, j]).astype(np.int64) - offset
        counts: dict[str, int] = {}
        for key in keys:
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        kept = {k for k, n in counts.items() if n >= f.min_count}
        assert set(vocab.values) == kept, (f.name, vocab.values, kept)
        for key, local in zip(keys, ids.tolist()):
            if key is None:
                assert local == MISSING_ID, (f.name, key, local)
            elif key in kept:
                assert local >= RESERVED_IDS and vocab.values[local - RESERVED_IDS] == key, (f.name, key, local)
            else:
                assert local == 0, (f.name, key, local)
    for j, f in enumerate(schema.numeric):
        expected = np.array([row[position[f.name]].expected for row in table.rows], dtype=np.float32)
        np.testing.assert_allclose(np.asarray(arrays.numeric[:, j]), expected, rtol=1e-6, atol=0, err_msg=f.name)
