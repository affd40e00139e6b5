"""Small fixtures for the data tests: every file is written by the test into tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
import pytest

from lit_ctr.data import CTRDataModule, Field, FileFormat, Schema
from lit_ctr.data.checks import prepare
from lit_ctr.data.encoding import EncodedArrays, encode
from lit_ctr.data.readers import read_table
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write(name, text)``: a text file under tmp_path (folders created)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write


@pytest.fixture
def write_rows(write) -> Callable[..., Path]:
    """``write_rows(name, rows, header=None, sep=",")``: a delimited file, one row a line."""

    def _write_rows(
        name: str, rows: Sequence[Sequence[object]], header: Sequence[str] | None = None, sep: str = ","
    ) -> Path:
        lines = [sep.join(header)] if header is not None else []
        lines += [sep.join(str(c) for c in row) for row in rows]
        return write(name, "\n".join(lines) + "\n")

    return _write_rows


@pytest.fixture
def schema() -> Schema:
    """Two categorical fields and one plain numeric field."""
    return Schema(fields=[Field("user"), Field("item"), Field("price", kind="numeric")])


@pytest.fixture
def train_csv(write_rows) -> Path:
    """Six rows for ``schema``: users a×3, b×2, c×1; items x×4, y×2."""
    return write_rows(
        "train.csv",
        [
            (1, "a", "x", 1.0),
            (0, "a", "x", 2.0),
            (1, "b", "y", 3.0),
            (0, "a", "y", 4.0),
            (0, "b", "x", 5.0),
            (1, "c", "x", 6.0),
        ],
        header=["label", "user", "item", "price"],
    )


@pytest.fixture
def valid_csv(write_rows) -> Path:
    return write_rows(
        "valid.csv",
        [(1, "a", "x", 1.5), (0, "z", "y", 2.5), (1, "c", "w", 3.5)],
        header=["label", "user", "item", "price"],
    )


@pytest.fixture
def make_dm(tmp_path: Path) -> Callable[..., CTRDataModule]:
    """``make_dm(**kwargs)``: a CTRDataModule caching under tmp_path/cache by default."""

    def _make(**kwargs) -> CTRDataModule:
        kwargs.setdefault("cache_dir", str(tmp_path / "cache"))
        kwargs.setdefault("batch_size", 4)
        return CTRDataModule(**kwargs)

    return _make


@pytest.fixture
def prepared() -> Callable[..., pl.DataFrame]:
    """``prepared(path, schema, fmt=None, require_label=True)``: read + checked frame of one file."""

    def _prepared(path: Path, schema: Schema, fmt: FileFormat | None = None, require_label: bool = True):
        table = read_table(Path(path), schema, fmt or FileFormat(), require_label=require_label)
        return prepare(table, schema, require_label=require_label)

    return _prepared


@pytest.fixture
def fit_encode(prepared) -> Callable[..., tuple[Vocabulary, EncodedArrays]]:
    """``fit_encode(path, schema, fmt=None)``: fit on one file and encode it."""

    def _fit_encode(path: Path, schema: Schema, fmt: FileFormat | None = None):
        frame = prepared(path, schema, fmt)
        vocabulary = fit_vocabulary([frame], schema)
        return vocabulary, encode([frame], schema, vocabulary)

    return _fit_encode
