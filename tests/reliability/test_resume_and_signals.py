"""``--ckpt_path last`` resumes the run's newest last.ckpt or stops; SIGTERM and SIGINT end a
run with a non-zero status and one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
import yaml
from conftest import LARGE_SCHEMA, STEPS_PER_EPOCH
from crash_helpers import HERE, error_lines, run_console
from lit_ctr.cli import main

from lit_ctr.errors import ConfigError


def unpinned(config):
    """The config with a CSVLogger that makes a new version_N folder on every run (as shipped)."""
    data = yaml.safe_load(config.read_text())
    del data["trainer"]["logger"]["init_args"]["version"]
    config.write_text(yaml.safe_dump(data))
    return config


def callback(class_path: str, **init_args: object) -> str:
    return "--trainer.callbacks+=" + json.dumps({"class_path": class_path, "init_args": init_args})


def test_ckpt_path_last_without_any_last_checkpoint_stops_instead_of_training_from_scratch(fit_config):
    config = unpinned(fit_config())
    with pytest.raises(ConfigError, match=r"^--ckpt_path last: no last\.ckpt under .*runs/test/version_\*/checkpoints"):
        main(["fit", "--config", str(config), "--ckpt_path", "last"])
    assert not list((config.parent / "runs").glob("test/version_*/checkpoints/*.ckpt"))


def test_ckpt_path_last_resumes_the_newest_version_folder_of_an_unpinned_logger(fit_config):
    config = unpinned(fit_config())
    main(["fit", "--config", str(config), "--trainer.max_epochs", "1"])
    main(["fit", "--config", str(config), "--trainer.max_epochs", "1"])  # version_1: the newest
    main(["fit", "--config", str(config), "--trainer.max_epochs", "2", "--ckpt_path", "last"])
    runs = config.parent / "runs" / "test"
    assert sorted(p.name for p in runs.iterdir()) == ["version_0", "version_1"]  # no new folder
    last = torch.load(runs / "version_1" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 2 * STEPS_PER_EPOCH  # one epoch more than version_1 had
    assert (runs / "version_1" / "metrics.before-resume-1.csv").is_file()  # the first part's metrics kept


def test_sigterm_during_fit_exits_143_with_one_line_after_keeping_the_checkpoints(fit_config):
    config = fit_config()
    result = run_console("fit", "--config", str(config), callback("crash_helpers.SignalAt", epoch=1, batch=3))
    assert result.returncode == 128 + signal.SIGTERM, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith("lit-ctr: error: stopped by SIGTERM (exit status 143)")
    last = torch.load(config.parent / "runs/test/version_0/checkpoints/last.ckpt", weights_only=True)
    assert last["epoch"] == 0  # the finished epoch's checkpoint is there to resume from


def test_sigint_during_fit_exits_130_with_one_line(fit_config):
    args = (
        "fit",
        "--config",
        str(fit_config()),
        callback("crash_helpers.SignalAt", epoch=0, batch=2, signal_name="SIGINT"),
    )
    result = run_console(*args)
    assert result.returncode == 128 + signal.SIGINT, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert [line[:40] for line in error_lines(result.stderr)] == ["lit-ctr: error: stopped by SIGINT (exit "]


# Runs the console script, pausing (for the signal) once the train split's arrays are written.
PAUSED_CONSOLE = textwrap.dedent(
    """
    import sys, time
    from lit_ctr.data import cache
    close = cache.SplitWriter.close
    def paused_close(writer):
        rows = close(writer)
        print("paused", flush=True)
        time.sleep(120)
        return rows
    cache.SplitWriter.close = paused_close
    from lit_ctr.cli import console_main
    sys.argv = ["lit-ctr", *sys.argv[1:]]
    console_main()
    """
)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_signal_while_encoding_exits_non_zero_with_one_line_and_leaves_no_cache_entry(large_tsv, tmp_path, signal_name):
    cache_dir = tmp_path / "cache"
    data = {"class_path": "CTRDataModule", "init_args": {
        "schema": LARGE_SCHEMA, "train_path": str(large_tsv["train"]), "valid_path": str(large_tsv["valid"]),
        "file_format": {"kind": "tsv", "has_header": False}, "cache_dir": str(cache_dir)}}  # fmt: skip
    args = ["fit", "--model", "FM", "--data", json.dumps(data), "--trainer.logger", "false"]
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CONSOLE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(HERE)},
    )  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "paused"
        process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + getattr(signal, signal_name), stderr[-2000:]
    assert "Traceback" not in stderr and len(error_lines(stderr)) == 1
    # The temporary folder is gone and no entry was completed (.inputs memoises input hashes only).
    assert [p.name for p in cache_dir.iterdir() if p.name != ".inputs"] == []
