import logging
import os
from pathlib import Path

import numpy as np
import pytest

from lit_ctr.data import DataError, Field, Schema
from lit_ctr.data.cache import COMPLETE, build_entry, is_complete
from lit_ctr.data.pipeline import Pipeline


def array_mtimes(entry: Path) -> dict[str, int]:
    return {str(p.relative_to(entry)): p.stat().st_mtime_ns for p in entry.rglob("*.npy")}


def cache_entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def encode_again(*args, **kwargs):
    raise AssertionError("the cache entry was encoded again")


def test_second_datamodule_reuses_the_cache_entry(train_csv, valid_csv, make_dm, schema, caplog, monkeypatch):
    first = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    first.prepare_data()
    mtimes = array_mtimes(first.entry)
    assert len(mtimes) == 6  # ids, numeric, labels for train and valid

    caplog.set_level(logging.INFO, logger="lit_ctr")
    monkeypatch.setattr(Pipeline, "_write_entry", encode_again)
    second = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    second.prepare_data()
    assert second.entry == first.entry
    assert array_mtimes(second.entry) == mtimes
    assert any("reusing" in r.getMessage() and r.name == "lit_ctr" for r in caplog.records)


def test_reused_entry_holds_the_same_arrays(train_csv, valid_csv, make_dm, schema):
    first = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    first.setup("fit")
    second = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    second.setup("fit")
    for split in ("train", "valid"):
        np.testing.assert_array_equal(first.splits[split].ids, second.splits[split].ids)
        np.testing.assert_array_equal(first.splits[split].numeric, second.splits[split].numeric)
        np.testing.assert_array_equal(first.splits[split].labels, second.splits[split].labels)
    assert second.vocabulary == first.vocabulary


def test_changed_input_file_gives_a_new_entry(train_csv, make_dm, schema):
    first = make_dm(schema=schema, train_path=str(train_csv)).entry
    stat = train_csv.stat()
    train_csv.write_text(train_csv.read_text() + "1,d,z,7.0\n")
    os.utime(train_csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    second = make_dm(schema=schema, train_path=str(train_csv))
    assert second.entry != first
    assert second.meta["rows"]["train"] == 7
    assert "d" in second.vocabulary.fields[0].values


def test_touched_input_file_with_the_same_content_reuses_the_entry(train_csv, make_dm, schema):
    first = make_dm(schema=schema, train_path=str(train_csv)).entry
    stat = train_csv.stat()
    os.utime(train_csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert make_dm(schema=schema, train_path=str(train_csv)).entry == first


def test_file_edited_in_place_with_size_and_mtime_restored_is_encoded_afresh(train_csv, make_dm, schema, caplog):
    first = make_dm(schema=schema, train_path=str(train_csv))
    assert first.meta["positive_rate"]["train"] == pytest.approx(0.5)
    stat = train_csv.stat()
    flipped = train_csv.read_text().replace("\n0,", "\n2,").replace("\n1,", "\n0,").replace("\n2,", "\n1,")
    train_csv.write_text(flipped)  # labels flipped: same size
    os.utime(train_csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # what touch -r or a sync tool does
    assert train_csv.stat().st_size == stat.st_size and train_csv.stat().st_mtime_ns == stat.st_mtime_ns
    caplog.set_level(logging.INFO, logger="lit_ctr")
    second = make_dm(schema=schema, train_path=str(train_csv))
    assert second.entry != first.entry
    assert np.asarray(second.setup("fit") or second.splits["train"].labels).tolist() == [0, 1, 0, 1, 1, 0]
    assert any(f"encoding afresh: {train_csv.resolve()} changed since" in r.getMessage() for r in caplog.records)


def test_reused_entry_says_the_inputs_are_unchanged(train_csv, make_dm, schema, caplog):
    make_dm(schema=schema, train_path=str(train_csv)).prepare_data()
    caplog.set_level(logging.INFO, logger="lit_ctr")
    make_dm(schema=schema, train_path=str(train_csv)).prepare_data()
    assert any("(inputs unchanged: same content hash)" in r.getMessage() for r in caplog.records)


def test_content_hash_of_an_unchanged_file_is_read_from_its_memo(train_csv, tmp_path, monkeypatch):
    from lit_ctr.data import cache

    first = cache.content_hash(train_csv, tmp_path / "hashes")
    monkeypatch.setattr(cache, "stream_hash", encode_again)
    assert cache.content_hash(train_csv, tmp_path / "hashes") == first


def test_changed_schema_gives_a_new_entry(train_csv, make_dm, schema):
    first = make_dm(schema=schema, train_path=str(train_csv)).entry
    other = Schema(fields=[Field("user", min_count=2), Field("item"), Field("price", kind="numeric")])
    second = make_dm(schema=other, train_path=str(train_csv))
    assert second.entry != first
    assert second.vocabulary.fields[0].values == ["a", "b"]
    assert len(cache_entries(first.parent)) == 2


def test_failed_encoding_leaves_no_entry_and_no_temporary_directory(tmp_path, train_csv, write, make_dm, schema):
    bad_valid = write("valid.csv", "label,user,item,price\n1,a,x,1.0\n0,b,y,cheap\n")
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(bad_valid))
    with pytest.raises(DataError, match="cheap"):
        dm.prepare_data()
    cache_dir = tmp_path / "cache"
    assert cache_entries(cache_dir) == [] and not [p for p in cache_dir.iterdir() if ".tmp-" in p.name]


def test_leftover_temporary_directory_is_ignored(train_csv, make_dm, schema):
    entry = make_dm(schema=schema, train_path=str(train_csv)).entry
    expected = np.load(entry / "train" / "ids.npy")
    for p in sorted(entry.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    entry.rmdir()
    # a run killed mid-encoding: partial arrays under the temporary name
    leftover = entry.parent / f".{entry.name}.tmp-dead1234"
    (leftover / "train").mkdir(parents=True)
    np.save(leftover / "train" / "ids.npy", np.zeros((1, 1), dtype=np.int32))

    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.setup("fit")
    assert dm.entry == entry
    assert is_complete(entry)
    np.testing.assert_array_equal(dm.splits["train"].ids, expected)
    assert leftover.is_dir()  # left alone: it may belong to a live process


def test_entry_without_complete_marker_is_rebuilt(train_csv, make_dm, schema):
    entry = make_dm(schema=schema, train_path=str(train_csv)).entry
    (entry / COMPLETE).unlink()
    np.save(entry / "train" / "ids.npy", np.zeros((1, 1), dtype=np.int32))
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.setup("fit")
    assert is_complete(entry)
    assert dm.splits["train"].ids.shape == (6, 2)


def test_build_entry_writes_the_complete_marker_last(tmp_path):
    entry = tmp_path / "cache" / "key"

    def write(tmp: Path) -> None:
        assert not (tmp / COMPLETE).exists()
        (tmp / "data.txt").write_text("x")

    assert build_entry(entry, write) is True
    assert is_complete(entry)
    assert (entry / "data.txt").read_text() == "x"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["key"]


def test_build_entry_keeps_the_copy_of_a_process_that_finished_first(tmp_path):
    entry = tmp_path / "cache" / "key"

    def write(tmp: Path) -> None:
        (tmp / "data.txt").write_text("ours")
        # another process completes the same entry meanwhile
        entry.mkdir()
        (entry / "data.txt").write_text("theirs")
        (entry / COMPLETE).write_text("ok\n")

    assert build_entry(entry, write) is False
    assert (entry / "data.txt").read_text() == "theirs"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["key"]


def test_build_entry_removes_its_temporary_directory_on_error(tmp_path):
    def write(tmp: Path) -> None:
        (tmp / "partial.npy").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        build_entry(tmp_path / "cache" / "key", write)
    assert list((tmp_path / "cache").iterdir()) == []


def damage_train_ids(entry: Path, how: str) -> None:
    ids = entry / "train" / "ids.npy"
    if how == "truncated":
        os.truncate(ids, ids.stat().st_size - 8)
    elif how == "overwritten":
        data = bytearray(ids.read_bytes())
        data[-4:] = (999_999).to_bytes(4, "little")
        ids.write_bytes(bytes(data))
    elif how == "missing":
        ids.unlink()
    elif how == "reshaped":
        np.save(ids, np.zeros((2, 2), dtype=np.int32))


@pytest.mark.parametrize("how", ["truncated", "overwritten", "missing", "reshaped"])
def test_damaged_cache_array_is_rebuilt_with_a_log_line(how, train_csv, valid_csv, make_dm, schema, caplog):
    first = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    first.setup("fit")
    expected = np.array(first.splits["train"].ids)
    damage_train_ids(first.entry, how)
    caplog.set_level(logging.INFO, logger="lit_ctr")
    second = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    second.setup("fit")
    np.testing.assert_array_equal(second.splits["train"].ids, expected)
    assert any("is damaged (train/ids.npy" in r.getMessage() for r in caplog.records)


def test_overwritten_block_of_a_large_array_is_found_by_its_sampled_checksum(train_csv, make_dm, schema, monkeypatch):
    from lit_ctr.data import cache

    monkeypatch.setattr(cache, "FULL_HASH_BYTES", 16)  # every array counts as large
    monkeypatch.setattr(cache, "HASH_BLOCK", 8)
    dm = make_dm(schema=schema, train_path=str(train_csv))
    manifest = dm.meta["arrays"]
    assert "sampled_xxh3" in manifest["train/ids.npy"]
    assert cache.damage(dm.entry, manifest) is None
    damage_train_ids(dm.entry, "overwritten")  # the last bytes: inside the last sampled block
    assert "does not match its checksum" in cache.damage(dm.entry, manifest)
