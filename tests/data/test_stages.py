"""The shared pieces of the data stages, each specified on its own."""

from __future__ import annotations

import polars as pl
import pytest

from lit_ctr.data import CTRDataModule, DataError
from lit_ctr.data.categories import ValueCodes
from lit_ctr.data.files import write_directory
from lit_ctr.data.splits import check_fractions


def test_value_codes_number_registered_values_in_order_and_later_ones_after():
    codes = ValueCodes(pl.Series(["b", "a"]))
    frame = pl.DataFrame({"v": ["a", "z", None, "b", "z"]})
    assert codes.in_order
    assert frame.select(codes.codes(pl.col("v")))["v"].to_list() == [1, 2, None, 0, 2]
    assert codes.values(3).to_list() == ["b", "a", "z"]


def test_check_fractions_accepts_fractions_summing_to_one():
    assert check_fractions({"train": 0.8, "valid": 0.2, "test": 0}, "k", empty_ok=True) == {
        "train": 0.8,
        "valid": 0.2,
        "test": 0.0,
    }


@pytest.mark.parametrize(
    ("fractions", "empty_ok", "message"),
    [
        ({"a": 0.5, "b": 0.6}, True, "k: the fractions must sum to 1 (within 1e-6), got 1.1"),
        ({"a": 1.0, "b": 0.0}, False, "k['b']: expected a fraction > 0, got 0.0"),
        ({"a": 1.5, "b": -0.5}, True, "k['b']: expected a fraction >= 0, got -0.5"),
        ({"a": float("nan")}, True, "k['a']: expected a fraction >= 0, got nan"),
        ({}, True, "k: expected at least one split"),
    ],
)
def test_check_fractions_names_the_key_and_the_bad_fraction(fractions, empty_ok, message):
    with pytest.raises(DataError) as info:
        check_fractions(fractions, "k", empty_ok=empty_ok)
    assert str(info.value) == message


def test_write_directory_leaves_nothing_when_the_writer_fails(tmp_path):
    def fail(staging):
        (staging / "half").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_directory(tmp_path / "target", fail)
    assert list(tmp_path.iterdir()) == []


def test_write_directory_with_replace_swaps_in_the_new_folder(tmp_path):
    write_directory(tmp_path / "target", lambda staging: (staging / "old").write_text("1"))
    assert write_directory(tmp_path / "target", lambda staging: (staging / "new").write_text("2"), replace=True)
    assert [p.name for p in tmp_path.iterdir()] == ["target"]
    assert [p.name for p in (tmp_path / "target").iterdir()] == ["new"]


def test_write_directory_without_replace_keeps_the_folder_finished_first(tmp_path):
    write_directory(tmp_path / "target", lambda staging: (staging / "first").write_text("1"))
    assert not write_directory(tmp_path / "target", lambda staging: (staging / "second").write_text("2"))
    assert [p.name for p in (tmp_path / "target").iterdir()] == ["first"]


def test_prepare_inputs_runs_before_the_files_are_read(tmp_path, schema, train_csv):
    target = tmp_path / "made_later.csv"

    class MakesItsFiles(CTRDataModule):
        def prepare_inputs(self) -> None:
            target.write_text(train_csv.read_text())

    dm = MakesItsFiles(schema=schema, train_path=str(target), cache_dir=str(tmp_path / "cache"))
    assert dm.field_dims == [5, 4]
