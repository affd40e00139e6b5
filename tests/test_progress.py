"""Progress output: a bar on a terminal, a line every so often in a log file."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from lit_ctr.cli import main

from lit_ctr.callbacks import SamplesPerSecondProgressBar


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 600
    user = rng.choice(["a", "b", "c", "d"], n)
    path = tmp_path / "data.csv"
    pl.DataFrame({"user": user, "ad": rng.choice(["x", "y"], n), "click": (user == "a").astype(int)}).write_csv(path)
    return path


def fit_args(csv: Path, tmp_path: Path) -> list[str]:
    return [
        "fit", "--model", "FM",
        "--data.train_path", str(csv), "--data.valid_path", str(csv), "--data.schema.label", "click",
        "--data.schema.fields", "[{name: user}, {name: ad}]",
        "--data.batch_size", "8", "--data.cache_dir", str(tmp_path / "cache"),
        "--trainer.max_epochs", "2", "--trainer.enable_model_summary", "false",
        "--trainer.default_root_dir", str(tmp_path),
    ]  # fmt: skip


def test_a_fit_logged_to_a_file_writes_lines_not_bar_redraws(small_csv, tmp_path):
    log = tmp_path / "fit.log"
    with open(log, "w") as out:  # not a terminal: stdout and stderr into one file, as nohup does
        subprocess.run(
            ["lit-ctr", *fit_args(small_csv, tmp_path)], stdout=out, stderr=subprocess.STDOUT, check=True, timeout=300
        )
    text = log.read_text()
    assert "\r" not in text  # a bar redraw starts with a carriage return
    assert "it/s]" not in text
    assert len(text) < 20_000  # 150 steps of bar would be far more
    done = [line for line in text.splitlines() if line.startswith("epoch ") and " done in " in line]
    assert len(done) == 2
    assert "val/auc=" in done[-1]


def test_lines_come_every_log_interval_seconds_during_an_epoch(small_csv, tmp_path, capsys):
    main(
        [
            *fit_args(small_csv, tmp_path),
            "--trainer.callbacks+=lit_ctr.callbacks.SamplesPerSecondProgressBar",
            "--trainer.callbacks.log_interval", "0",
        ]
    )  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    progress = [line for line in lines if line.startswith("epoch 0: batch ")]
    assert len(progress) == 75  # 600 rows / 8 per batch, one line each at interval 0
    assert progress[0].startswith("epoch 0: batch 1/75 (1%), 0:00:")
    assert "left" in progress[0] and "train/loss=" in progress[0]


def test_a_long_interval_writes_only_the_epoch_lines(small_csv, tmp_path, capsys):
    main(fit_args(small_csv, tmp_path))  # default interval: 30 s, longer than this fit
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.startswith("epoch 0: batch")]
    assert "epoch 0 done in 0:00:" in out


def test_a_terminal_keeps_the_bar(monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", terminal)
    assert SamplesPerSecondProgressBar().lines is False


def test_output_that_is_not_a_terminal_gets_lines(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert SamplesPerSecondProgressBar().lines is True
    assert SamplesPerSecondProgressBar(lines=False).lines is False


def test_a_negative_log_interval_is_an_error():
    with pytest.raises(ValueError, match=r"log_interval: expected seconds >= 0, got -1"):
        SamplesPerSecondProgressBar(log_interval=-1)
