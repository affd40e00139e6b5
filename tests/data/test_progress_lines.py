"""Preprocessing says how far it is: rows and bytes read of the input's total, with an ETA."""

from __future__ import annotations

import logging
import re

import pytest

import lit_ctr.data.progress as progress
from lit_ctr.data.progress import duration, eta


@pytest.fixture
def every_chunk(monkeypatch):
    """A progress line after every chunk instead of every 10 s."""
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)


def _progress_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "lit-ctr: reading " in r.getMessage()]


def test_encoding_logs_rows_and_bytes_read_of_the_total_with_an_eta(every_chunk, make_dm, schema, write_rows, caplog):
    path = write_rows(
        "big.csv", [(i % 2, f"u{i % 7}", "x", float(i)) for i in range(40)], ["label", "user", "item", "price"]
    )
    total = path.stat().st_size
    with caplog.at_level(logging.INFO, logger="lit_ctr"):
        make_dm(schema=schema, train_path=str(path), chunk_rows=10).setup("fit")
    lines = _progress_lines(caplog)
    assert lines, caplog.text
    pattern = rf"reading .*big\.csv: \d+ of 40 rows, [\d.]+ (B|kB) of {total} B read \(\d+%, ETA (\?|\d+s)"
    assert all(re.search(pattern, line) for line in lines), lines


def test_encoding_progress_reaches_the_whole_input(every_chunk, make_dm, schema, write_rows, caplog):
    path = write_rows("all.csv", [(i % 2, "u", "x", float(i)) for i in range(30)], ["label", "user", "item", "price"])
    with caplog.at_level(logging.INFO, logger="lit_ctr"):
        make_dm(schema=schema, train_path=str(path), chunk_rows=10).setup("fit")
    assert "30 of 30 rows" in _progress_lines(caplog)[-1] and "(100%" in _progress_lines(caplog)[-1]


def test_eta_is_the_remaining_share_at_the_rate_so_far():
    assert eta(done=25, total=100, elapsed=10.0) == "ETA 30s"


def test_eta_before_anything_is_done_is_unknown():
    assert eta(done=0, total=100, elapsed=3.0) == "ETA ?"


@pytest.mark.parametrize(("seconds", "text"), [(42, "42s"), (185, "3m05s"), (7620, "2h07m")])
def test_duration_reads_as_hours_minutes_and_seconds(seconds, text):
    assert duration(seconds) == text
