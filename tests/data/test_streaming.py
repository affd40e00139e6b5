"""Data larger than memory: chunked reading and encoding, appended .npy files, block shuffling."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_ctr.data import DataError, Field, FileFormat, Schema, encoding, pipeline, readers
from lit_ctr.data.batching import BatchIndexSampler, BlockShuffleSampler, BlockSplit, EncodedSplit
from lit_ctr.data.cache import SplitWriter, load_split, save_split
from lit_ctr.data.encoding import EncodedArrays, Encoder, encode, map_codes_to_ids
from lit_ctr.data.readers import read_tables
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, RESERVED_IDS, VocabularyCounter, fit_vocabulary

SCHEMA = Schema(
    fields=[
        Field("user", min_count=2),
        Field("item"),
        Field("count", kind="numeric", transform="bucketize"),
        Field("price", kind="numeric", transform="log1p"),
    ]
)
HEADER = ["label", "user", "item", "count", "price"]


def random_rows(rng: random.Random, n: int, users: int = 12) -> list[list[str]]:
    rows = []
    for _ in range(n):
        rows.append(
            [
                str(rng.randrange(2)),
                "" if rng.random() < 0.1 else f"u{rng.randrange(users)}",
                "" if rng.random() < 0.1 else f"i{rng.randrange(30)}",
                "" if rng.random() < 0.1 else str(rng.randrange(200)),
                str(round(rng.uniform(0, 50), 2)),
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]], sep: str = ",", header: bool = True, blank_every: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(HEADER)] if header else []
    for i, row in enumerate(rows):
        lines.append(sep.join(row))
        if blank_every and i % blank_every == blank_every - 1:
            lines.append("")  # blank lines are skipped, and shift the lines of later rows
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Train as a glob of three CSV parts (one with blank lines), valid and test CSVs."""
    rng = random.Random(0)
    write_csv(tmp_path / "train" / "part-0.csv", random_rows(rng, 37))
    write_csv(tmp_path / "train" / "part-1.csv", random_rows(rng, 1))
    write_csv(tmp_path / "train" / "part-2.csv", random_rows(rng, 50), blank_every=7)
    return {
        "train_path": str(tmp_path / "train" / "part-*.csv"),
        "valid_path": str(write_csv(tmp_path / "valid.csv", random_rows(rng, 23, users=20))),
        "test_path": str(write_csv(tmp_path / "test.csv", random_rows(rng, 11, users=20))),
    }


def encoded(dm) -> dict[str, EncodedArrays]:
    dm.setup("fit")
    dm.setup("test")
    return dm.splits


def assert_same_entry(first, second) -> None:
    assert first.vocabulary == second.vocabulary
    assert first.meta["rows"] == second.meta["rows"]
    assert first.meta["positive_rate"] == pytest.approx(second.meta["positive_rate"])
    a, b = encoded(first), encoded(second)
    assert sorted(a) == sorted(b)
    for split in a:
        for name in ("ids", "numeric", "labels"):
            x, y = getattr(a[split], name), getattr(b[split], name)
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_array_equal(x, y)


# ----------------------------------------------------------------------------- chunked encoding
@pytest.fixture(params=["kept", "re-read"])
def large(request, monkeypatch) -> str:
    """Run as small inputs (kept in memory between passes) and as large ones (read on every pass)."""
    if request.param == "re-read":
        monkeypatch.setattr(pipeline, "KEEP_BYTES", 0)
    return request.param


@pytest.mark.parametrize("chunk_rows", [1, 3, 16])
def test_chunked_encoding_gives_the_same_arrays_as_one_chunk(tmp_path, files, make_dm, chunk_rows, large):
    whole = make_dm(schema=SCHEMA, cache_dir=str(tmp_path / "c1"), **files)
    whole.prepare_data()
    chunked = make_dm(schema=SCHEMA, cache_dir=str(tmp_path / "c2"), chunk_rows=chunk_rows, **files)
    assert_same_entry(whole, chunked)
    assert chunked.entry.name == whole.entry.name  # the chunk size is not part of the cache key


@pytest.mark.parametrize("chunk_rows", [1, 7])
def test_chunked_split_by_fractions_gives_the_same_splits(tmp_path, files, make_dm, chunk_rows, large):
    kwargs = {"schema": SCHEMA, "path": files["train_path"], "split_fractions": (0.6, 0.25, 0.15), "split_seed": 3}
    whole = make_dm(cache_dir=str(tmp_path / "c1"), **kwargs)
    chunked = make_dm(cache_dir=str(tmp_path / "c2"), chunk_rows=chunk_rows, **kwargs)
    assert_same_entry(whole, chunked)
    assert sum(whole.meta["rows"].values()) == 88


def spy_on_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    original = readers.read_tables

    def spy(path, *args, **kwargs):
        reads.append(Path(path).name)
        yield from original(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_tables", spy)
    return reads


@pytest.mark.parametrize("keep_bytes", [pipeline.KEEP_BYTES, 0])
def test_a_separate_train_file_is_read_once_whatever_its_size(files, make_dm, monkeypatch, keep_bytes):
    monkeypatch.setattr(pipeline, "KEEP_BYTES", keep_bytes)
    reads = spy_on_reads(monkeypatch)
    make_dm(schema=SCHEMA, chunk_rows=10, **files).prepare_data()
    assert reads.count("part-0.csv") == 1  # counted and written as codes in one pass
    assert reads.count("valid.csv") == 1


@pytest.mark.parametrize(("keep_bytes", "reads_of_path"), [(pipeline.KEEP_BYTES, 1), (0, 3)])
def test_one_path_cut_by_fractions_is_read_once_when_small_once_per_pass_when_large(
    tmp_path, make_dm, monkeypatch, keep_bytes, reads_of_path
):
    monkeypatch.setattr(pipeline, "KEEP_BYTES", keep_bytes)
    path = write_csv(tmp_path / "all.csv", random_rows(random.Random(4), 60))
    reads = spy_on_reads(monkeypatch)
    make_dm(schema=SCHEMA, path=str(path), chunk_rows=10).prepare_data()
    assert reads.count("all.csv") == reads_of_path  # count rows, count values, encode


def test_chunked_headerless_tsv_and_parquet_give_the_same_arrays(tmp_path, make_dm):
    rng = random.Random(1)
    rows = random_rows(rng, 40)
    tsv = write_csv(tmp_path / "a.tsv", rows, sep="\t", header=False, blank_every=5)
    parquet = tmp_path / "a.parquet"
    pl.DataFrame({name: [r[i] or None for r in rows] for i, name in enumerate(HEADER)}).write_parquet(
        parquet, row_group_size=6
    )
    for path in (tsv, parquet):
        whole = make_dm(schema=SCHEMA, train_path=str(path), cache_dir=str(tmp_path / f"{path.name}-1"))
        chunked = make_dm(schema=SCHEMA, train_path=str(path), cache_dir=str(tmp_path / f"{path.name}-2"), chunk_rows=4)
        assert_same_entry(whole, chunked)


def test_encoding_matches_a_plain_dictionary_lookup(tmp_path, files, make_dm):
    """Frequency-ordered ids (ties by value), min_count, OOV 0 and missing 1, per field offsets."""
    dm = make_dm(schema=SCHEMA, chunk_rows=5, **files)
    splits = encoded(dm)
    train = pl.concat(
        [pl.read_csv(p, infer_schema=False) for p in sorted(Path(files["train_path"]).parent.glob("*.csv"))]
    )
    for column, field in enumerate(dm.vocabulary.fields):
        if field.name == "count":
            continue  # bucketized: checked by the encoding tests
        counts: dict[str, int] = {}
        for value in train[field.name].drop_nulls():
            counts[value] = counts.get(value, 0) + 1
        min_count = 2 if field.name == "user" else 1
        kept = sorted((v for v, c in counts.items() if c >= min_count), key=lambda v: (-counts[v], v))
        assert field.values == kept
        ids = {v: RESERVED_IDS + j for j, v in enumerate(kept)}
        offset = dm.vocabulary.offsets[column]
        valid = pl.read_csv(files["valid_path"], infer_schema=False)[field.name].to_list()
        expected = [offset + (MISSING_ID if v is None else ids.get(v, OOV_ID)) for v in valid]
        assert splits["valid"].ids[:, column].tolist() == expected


def test_predict_rows_are_encoded_chunk_by_chunk_like_at_once(tmp_path, files, write, make_dm):
    rows = write("score.csv", "user,item,count,price\n" + "".join(f"u{i % 5},i{i % 9},{i},1.5\n" for i in range(25)))
    whole = make_dm(schema=SCHEMA, predict_path=str(rows), cache_dir=str(tmp_path / "c"), **files)
    chunked = make_dm(schema=SCHEMA, predict_path=str(rows), cache_dir=str(tmp_path / "c"), chunk_rows=4, **files)
    a, b = whole.encode_rows(str(rows)), chunked.encode_rows(str(rows))
    assert a.labels is None and b.labels is None
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.numeric, b.numeric)


# ----------------------------------------------------------------------------- errors in later chunks
def test_bad_value_in_a_later_chunk_reports_its_file_line(write, make_dm):
    lines = [",".join(HEADER)] + [f"1,u{i},i{i},{i},1.0" for i in range(10)]
    lines[9] = "0,u8,i8,8,cheap"  # line 10 of the file: the 9th row, in chunk 3 of 3 rows
    path = write("a.csv", "\n".join(lines) + "\n")
    dm = make_dm(schema=SCHEMA, train_path=str(path), chunk_rows=3)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    assert (info.value.file, info.value.line, info.value.column) == (str(path), 10, "price")


def test_bad_value_after_blank_lines_in_a_later_chunk_reports_its_own_line(write, make_dm):
    lines = [f"1\tu{i}\ti{i}\t{i}\t1.0" for i in range(8)]
    lines[2:2] = ["", ""]  # lines 3 and 4 are blank
    lines.append("1\tu9\ti9\t9\tnope")  # line 11
    path = write("a.tsv", "\n".join(lines) + "\n")
    dm = make_dm(schema=SCHEMA, train_path=str(path), chunk_rows=2)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    assert (info.value.line, info.value.column) == (11, "price")


def test_bad_label_in_a_later_chunk_of_the_second_file_names_that_file(tmp_path, make_dm):
    write_csv(tmp_path / "d" / "part-0.csv", [["1", "a", "x", "1", "1"]] * 5)
    bad = write_csv(tmp_path / "d" / "part-1.csv", [["0", "a", "x", "1", "1"]] * 6 + [["7", "a", "x", "1", "1"]])
    dm = make_dm(schema=SCHEMA, train_path=str(tmp_path / "d" / "part-*.csv"), chunk_rows=2)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    assert (info.value.file, info.value.line, info.value.column) == (str(bad), 8, "label")


def test_bad_value_in_a_later_parquet_chunk_reports_its_row(tmp_path, make_dm):
    path = tmp_path / "a.parquet"
    prices = ["1"] * 9
    prices[7] = "n/a"
    pl.DataFrame(
        {"label": ["1"] * 9, "user": ["a"] * 9, "item": ["x"] * 9, "count": ["1"] * 9, "price": prices}
    ).write_parquet(path, row_group_size=2)
    dm = make_dm(schema=SCHEMA, train_path=str(path), chunk_rows=3)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    assert info.value.file == f"{path} (row 7)" and info.value.column == "price"


def test_bad_value_in_a_later_valid_chunk_leaves_no_cache_entry(tmp_path, files, write, make_dm):
    valid = write("bad_valid.csv", ",".join(HEADER) + "\n" + "1,a,x,1,1\n" * 6 + "1,a,x,1,oops\n")
    dm = make_dm(schema=SCHEMA, train_path=files["train_path"], valid_path=str(valid), chunk_rows=2)
    with pytest.raises(DataError) as info:
        dm.prepare_data()
    assert (info.value.file, info.value.line) == (str(valid), 8)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".inputs"]  # only the memoised input hashes


def test_read_tables_locates_every_chunk_in_the_file(write, schema):
    path = write("a.csv", "label,user,item,price\n" + "".join(f"1,u{i},x,{i}\n" for i in range(7)))
    tables = list(read_tables(path, schema, FileFormat(), require_label=True, chunk_rows=3))
    assert [t.frame.height for t in tables] == [3, 3, 1]
    assert [t.locate(0)["line"] for t in tables] == [2, 5, 8]
    assert pl.concat([t.frame for t in tables])["user"].to_list() == [f"u{i}" for i in range(7)]


def test_read_tables_of_a_file_without_rows_yields_one_empty_table(write, schema):
    path = write("a.csv", "label,user,item,price\n")
    (table,) = read_tables(path, schema, FileFormat(), require_label=True, chunk_rows=3)
    assert table.frame.height == 0 and table.frame.columns == ["label", "user", "item", "price"]


# ----------------------------------------------------------------------------- counting and lookup
def test_vocabulary_counter_over_many_chunks_equals_fitting_at_once():
    rng = random.Random(2)
    schema = Schema(fields=[Field("n", min_count=2), Field("value")])  # names that clash with helper columns
    frames = [
        pl.DataFrame(
            {
                "n": [rng.choice(["a", "b", "c", None, "d"]) for _ in range(7)],
                "value": [f"v{rng.randrange(9)}" for _ in range(7)],
            }
        )
        for _ in range(15)
    ]
    counter = VocabularyCounter(schema)
    for frame in frames:
        counter.update(frame)
    assert counter.vocabulary() == fit_vocabulary([pl.concat(frames)], schema)


def test_codes_mapped_through_code_ids_equal_the_encoders_ids():
    rng = random.Random(3)
    schema = Schema(fields=[Field("n", min_count=2), Field("value")])
    frames = [
        pl.DataFrame(
            {
                "n": [rng.choice(["a", "b", "c", None, "d"]) for _ in range(7)],
                "value": [f"v{rng.randrange(9)}" for _ in range(7)],
            }
        )
        for _ in range(5)
    ]
    counter = VocabularyCounter(schema)
    codes = np.concatenate([counter.codes(frame) for frame in frames])
    vocab = counter.vocabulary()
    tables = counter.code_ids(vocab.offsets, np.int32)
    mapped = np.stack([table[codes[:, j]] for j, table in enumerate(tables)], axis=1)
    expected = Encoder(schema, vocab)(pl.concat(frames)).ids
    np.testing.assert_array_equal(mapped, expected)


def test_a_value_keeps_its_code_across_chunks_and_missing_is_minus_one():
    counter = VocabularyCounter(Schema(fields=[Field("user")]))
    first = counter.codes(pl.DataFrame({"user": ["a", "b", None]}))[:, 0].tolist()
    second = counter.codes(pl.DataFrame({"user": ["c", "b", "a"]}))[:, 0].tolist()
    assert first[2] == -1
    assert second[1:] == [first[1], first[0]]
    assert second[0] not in first


def test_encoder_starts_a_fresh_mapping_when_unseen_values_pile_up(monkeypatch):
    monkeypatch.setattr(encoding, "_UNSEEN_CODES", 5)
    schema = Schema(fields=[Field("user")])
    vocab = fit_vocabulary([pl.DataFrame({"user": ["a", "b", "b"]})], schema)
    encoder = Encoder(schema, vocab)
    lookup = encoder._lookups[0]
    first = lookup._mapping
    for k in range(6):  # 6 × 4 unseen values: more codes than size + 5
        arrays = encoder(pl.DataFrame({"user": [f"x{k}{j}" for j in range(4)] + ["b", "a", None]}))
        assert arrays.ids[:, 0].tolist() == [OOV_ID] * 4 + [2, 3, MISSING_ID]
    assert lookup._mapping is not first


# ----------------------------------------------------------------------------- appended .npy files
def written_codes(tmp_path, codes: np.ndarray) -> Path:
    writer = SplitWriter(tmp_path, np.int32, codes.shape[1], 0)
    for part in np.array_split(codes, 3):
        writer.append(EncodedArrays(part, np.zeros((len(part), 0), np.float32), np.zeros(len(part), np.float32)))
    writer.close()
    return tmp_path / "ids.npy"


@pytest.mark.parametrize("dtype", [np.int32, np.int64])  # int64: a new file replaces the codes
def test_codes_are_mapped_to_ids_block_by_block_missing_included(tmp_path, dtype):
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 5, size=(23, 2)).astype(np.int32)  # -1 = missing
    tables = [np.array([10, 11, 12, 13, 14, 1], dtype=dtype), np.array([20, 21, 22, 23, 24, 2], dtype=dtype)]
    path = written_codes(tmp_path, codes)
    map_codes_to_ids(path, tables, block_rows=4)
    ids = np.load(path)
    assert ids.dtype == dtype
    np.testing.assert_array_equal(ids, np.stack([tables[j][codes[:, j]] for j in range(2)], axis=1))


def test_split_writer_appends_chunks_into_files_equal_to_np_save(tmp_path):
    rng = np.random.default_rng(0)
    whole = EncodedArrays(
        rng.integers(0, 100, (23, 3)).astype(np.int32),
        rng.random((23, 2), dtype=np.float32),
        rng.integers(0, 2, 23).astype(np.float32),
    )
    writer = SplitWriter(tmp_path / "chunked", np.int32, 3, 2)
    for start in range(0, 23, 5):
        writer.append(
            EncodedArrays(
                whole.ids[start : start + 5], whole.numeric[start : start + 5], whole.labels[start : start + 5]
            )
        )
    assert writer.close() == 23
    save_split(tmp_path / "saved", whole)
    for name in ("ids", "numeric", "labels"):
        assert (tmp_path / "chunked" / f"{name}.npy").read_bytes() == (tmp_path / "saved" / f"{name}.npy").read_bytes()
    loaded = load_split(tmp_path / "chunked")
    np.testing.assert_array_equal(loaded.ids, whole.ids)


# ----------------------------------------------------------------------------- block shuffling
def block_epoch(sampler: BlockShuffleSampler, epoch: int = 0) -> list[int]:
    sampler.set_epoch(epoch)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    return torch.cat(batches).tolist() if batches else []


@settings(max_examples=80, deadline=None)
@given(
    num_rows=st.integers(0, 400),
    batch_size=st.integers(1, 50),
    block_rows=st.integers(1, 64),
    window_blocks=st.integers(1, 5),
    epoch=st.integers(0, 3),
)
def test_block_shuffle_yields_every_row_exactly_once_per_epoch(num_rows, batch_size, block_rows, window_blocks, epoch):
    sampler = BlockShuffleSampler(num_rows, batch_size, block_rows=block_rows, window_blocks=window_blocks, seed=5)
    assert sorted(block_epoch(sampler, epoch)) == list(range(num_rows))


def test_block_shuffle_order_differs_between_epochs_and_repeats_within_one():
    sampler = BlockShuffleSampler(1000, 32, block_rows=50, window_blocks=3, seed=1)
    first = block_epoch(sampler, 0)
    assert block_epoch(sampler, 1) != first
    assert block_epoch(sampler, 0) == first
    assert first != sorted(first)


@settings(max_examples=60, deadline=None)
@given(
    num_rows=st.integers(0, 400),
    batch_size=st.integers(1, 40),
    block_rows=st.integers(1, 50),
    world=st.integers(1, 4),
    epoch=st.integers(0, 3),
)
def test_block_shuffle_ranks_get_disjoint_equal_shares(num_rows, batch_size, block_rows, world, epoch):
    shares = [
        block_epoch(
            BlockShuffleSampler(
                num_rows, batch_size, block_rows=block_rows, window_blocks=2, seed=9, num_replicas=world, rank=rank
            ),
            epoch,
        )
        for rank in range(world)
    ]
    assert all(len(s) == num_rows // world for s in shares)
    rows = [r for s in shares for r in s]
    assert len(set(rows)) == len(rows) == num_rows - num_rows % world
    lengths = {len(BlockShuffleSampler(num_rows, batch_size, block_rows=block_rows, window_blocks=2,
                                       num_replicas=world, rank=rank)) for rank in range(world)}  # fmt: skip
    assert len(lengths) == 1  # every rank runs the same number of steps


def test_block_shuffle_batches_of_a_window_come_from_few_blocks():
    sampler = BlockShuffleSampler(10_000, 64, block_rows=100, window_blocks=4, seed=0)
    assert sampler.window_rows == 384  # a multiple of the batch size
    batches = list(sampler)
    per_window = sampler.window_rows // 64
    for start in range(0, len(batches), per_window):
        rows = torch.cat(batches[start : start + per_window])
        assert len(torch.unique(rows // 100)) <= sampler.blocks_per_window


@pytest.fixture
def split_on_disk(tmp_path) -> EncodedArrays:
    n = 1000
    arrays = EncodedArrays(
        np.arange(n * 3, dtype=np.int32).reshape(n, 3),
        (np.arange(n * 2, dtype=np.float32) / 4).reshape(n, 2),
        (np.arange(n) % 2).astype(np.float32),
    )
    save_split(tmp_path / "train", arrays)
    return load_split(tmp_path / "train")


def test_block_split_gathers_the_same_rows_as_the_memory_map(split_on_disk):
    blocks = BlockSplit(split_on_disk, block_rows=64, max_blocks=3)
    mapped = EncodedSplit(split_on_disk)
    rng = np.random.default_rng(0)
    for size in (1, 5, 200, 1000):
        index = torch.from_numpy(rng.choice(1000, size, replace=False))
        a, b = blocks[index], mapped[index]
        assert set(a) == {"ids", "numeric", "label"}
        for name in a:
            assert a[name].dtype == b[name].dtype
            assert torch.equal(a[name], b[name])
        assert len(blocks._blocks) <= max(3, len(torch.unique(index // 64)))


def test_block_split_reads_in_memory_arrays_too():
    arrays = EncodedArrays(np.arange(20, dtype=np.int32).reshape(10, 2), np.zeros((10, 0), np.float32), None)
    batch = BlockSplit(arrays, block_rows=3, max_blocks=2)[torch.tensor([9, 0, 4])]
    assert batch["ids"].tolist() == [[18, 19], [0, 1], [8, 9]] and "label" not in batch


def test_block_split_survives_pickling_for_worker_processes(split_on_disk):
    import pickle

    blocks = BlockSplit(split_on_disk, block_rows=64, max_blocks=3)
    _ = blocks[torch.tensor([3])]
    copy = pickle.loads(pickle.dumps(blocks))
    assert copy._blocks == {} and copy._files == {}
    assert copy[torch.tensor([3, 999])]["ids"].tolist() == [[9, 10, 11], [2997, 2998, 2999]]


def test_datamodule_reads_large_splits_in_shuffled_blocks(files, make_dm):
    dm = make_dm(schema=SCHEMA, batch_size=8, shuffle="auto", in_memory_rows=40, block_rows=8, window_blocks=2, **files)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert isinstance(loader.sampler, BlockShuffleSampler) and isinstance(loader.dataset, BlockSplit)
    epochs = []
    for epoch in range(2):
        loader.sampler.set_epoch(epoch)
        batches = list(loader)
        labels = torch.cat([b["label"] for b in batches])
        assert len(labels) == 88
        ids = torch.cat([b["ids"] for b in batches])
        # every row once: the multiset of rows equals the split's
        assert sorted(map(tuple, ids.tolist())) == sorted(map(tuple, dm.splits["train"].ids.tolist()))
        epochs.append(ids.tolist())
    assert epochs[0] != epochs[1]
    # valid (23 rows) stays under the threshold: the memory-map path, in order
    valid = dm.val_dataloader()
    assert isinstance(valid.dataset, EncodedSplit) and isinstance(valid.sampler, BatchIndexSampler)


def test_block_mode_reads_evaluation_splits_in_order(files, make_dm):
    dm = make_dm(schema=SCHEMA, eval_batch_size=5, shuffle="block", block_rows=4, **files)
    dm.setup("fit")
    valid = dm.val_dataloader()
    assert isinstance(valid.dataset, BlockSplit)
    got = torch.cat([b["ids"] for b in valid]).numpy()
    np.testing.assert_array_equal(got, dm.splits["valid"].ids)


def test_small_splits_keep_the_global_shuffle(files, make_dm):
    dm = make_dm(schema=SCHEMA, **files)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert isinstance(loader.sampler, BatchIndexSampler) and isinstance(loader.dataset, EncodedSplit)


@pytest.mark.parametrize(
    ("name", "value"),
    [("chunk_rows", 0), ("block_rows", 0), ("window_blocks", -1), ("in_memory_rows", -5), ("shuffle", "random")],
)
def test_bad_streaming_settings_raise_data_error(files, make_dm, name, value):
    with pytest.raises(DataError, match=f"data.{name}"):
        make_dm(schema=SCHEMA, **files, **{name: value})


def test_encode_of_several_frames_equals_the_encoder_on_their_concatenation():
    schema = Schema(fields=[Field("user")])
    frames = [pl.DataFrame({"user": ["a", "b"]}), pl.DataFrame({"user": ["b", None, "z"]})]
    vocab = fit_vocabulary(frames[:1], schema)
    assert encode(frames, schema, vocab).ids[:, 0].tolist() == [2, 3, 3, MISSING_ID, OOV_ID]


def test_mapping_codes_of_a_split_without_categorical_fields_leaves_it_unchanged(tmp_path):
    path = written_codes(tmp_path, np.zeros((5, 0), dtype=np.int32))
    map_codes_to_ids(path, [])
    ids = np.load(path)
    assert ids.shape == (5, 0) and ids.dtype == np.int32
