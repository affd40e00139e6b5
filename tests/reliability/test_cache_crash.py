"""A process SIGKILLed while encoding leaves no cache entry that a later run trusts."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import LARGE_SCHEMA

from lit_ctr.data import CTRDataModule

FORMAT = {"kind": "tsv", "has_header": False}

# Encodes the files into a cache, pausing (for the kill) at a chosen point of the write.
ENCODER = textwrap.dedent(
    """
    import json, sys, time
    from lit_ctr.data import CTRDataModule, cache, pipeline
    train, valid, cache_dir, pause_at, schema, fmt = sys.argv[1:]

    def pause():
        print("paused", flush=True)
        time.sleep(120)

    close, write_json = cache.SplitWriter.close, pipeline.write_json
    def paused_close(writer):  # the train split's arrays are complete on disk
        rows = close(writer)
        if pause_at == "after the train arrays":
            pause()
        return rows
    def paused_write_json(path, data, **options):  # everything is written but the completion marker
        write_json(path, data, **options)
        if pause_at == "before the completion marker" and path.name == "meta.json":
            pause()
    cache.SplitWriter.close, pipeline.write_json = paused_close, paused_write_json
    CTRDataModule(schema=json.loads(schema), train_path=train, valid_path=valid, cache_dir=cache_dir,
                  file_format=json.loads(fmt)).prepare_data()
    print("finished", flush=True)
    """
)


def datamodule(files, cache_dir) -> CTRDataModule:
    return CTRDataModule(
        schema=LARGE_SCHEMA, train_path=str(files["train"]), valid_path=str(files["valid"]),
        cache_dir=str(cache_dir), file_format=FORMAT,
    )  # fmt: skip


@pytest.mark.parametrize("pause_at", ["after the train arrays", "before the completion marker"])
def test_encoding_killed_midway_leaves_no_trusted_entry_and_the_next_run_encodes_afresh(
    pause_at, large_tsv, tmp_path, caplog
):
    cache_dir = tmp_path / "cache"
    args = [
        str(large_tsv["train"]),
        str(large_tsv["valid"]),
        str(cache_dir),
        pause_at,
        json.dumps(LARGE_SCHEMA),
        json.dumps(FORMAT),
    ]
    encoder = subprocess.Popen([sys.executable, "-c", ENCODER, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert encoder.stdout.readline().strip() == "paused"
    finally:
        encoder.send_signal(signal.SIGKILL)
        encoder.wait(timeout=30)
    assert encoder.returncode == -signal.SIGKILL
    left = [p for p in cache_dir.iterdir() if p.name != ".inputs"]  # memoised input hashes
    assert len(left) == 1 and left[0].name.startswith(".") and ".tmp-" in left[0].name  # only a temporary folder

    logger = logging.getLogger("lit_ctr")  # the CLI may have stopped it propagating to caplog
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="lit_ctr")
    try:
        after = datamodule(large_tsv, cache_dir)
        after.setup("fit")
    finally:
        logger.removeHandler(caplog.handler)
    assert any("encoding" in r.getMessage() for r in caplog.records)
    assert not any("reusing" in r.getMessage() for r in caplog.records)
    clean = datamodule(large_tsv, tmp_path / "clean_cache")
    clean.setup("fit")
    for split in ("train", "valid"):
        np.testing.assert_array_equal(after.splits[split].ids, clean.splits[split].ids)
        np.testing.assert_array_equal(after.splits[split].numeric, clean.splits[split].numeric)
        np.testing.assert_array_equal(after.splits[split].labels, clean.splits[split].labels)
    assert after.splits["train"].ids.shape == (200_000, 4)
