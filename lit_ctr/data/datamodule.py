"""``CTRDataModule``: raw files → cached encoded arrays → index-gather batches.

Data flows one way: files are read with polars, checked, the vocabulary is fitted on
the training split, every split is encoded once into contiguous arrays in a cache
entry keyed by the schema, the settings and the input files' identity, and batches are
sliced from those arrays. The model learns the sizes it needs (``field_dims``,
``num_numeric``) from this module, never from a config a person typed.

Encoding streams, so splits may be larger than memory: files are read in chunks of
``chunk_rows`` rows; a first pass counts the categorical values of the training split
chunk by chunk (memory grows with the vocabulary, not the rows), a second encodes
every split chunk by chunk, appending to its ``.npy`` files. Inputs of at most
``KEEP_BYTES`` are read once and kept between the passes, as before streaming.
Training splits above ``in_memory_rows`` rows are read in shuffled blocks
(:class:`~lit_ctr.data.batching.BlockShuffleSampler`) instead of gathered from a
memory map, which keeps resident memory bounded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from lit_ctr.data import cache
from lit_ctr.data.batching import BatchIndexSampler, BlockShuffleSampler, BlockSplit, EncodedSplit
from lit_ctr.data.encoding import EncodedArrays, Encoder, numeric_and_labels, prepare
from lit_ctr.data.errors import DataError
from lit_ctr.data.read_ahead import read_ahead
from lit_ctr.data.readers import expand_paths, read_tables
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary, VocabularyCounter

log = logging.getLogger("lit_ctr")

SPLITS = ("train", "valid", "test")
PROGRESS_SECONDS = 10.0

# Inputs up to this size are read once and kept, prepared, in memory between the
# encoding passes (about 2M Criteo rows as TSV, ~1.4 GB prepared); larger ones are read
# again on each pass, so that memory stays at a few chunks. Parquet is compressed:
# its files count 5 times their size.
KEEP_BYTES = 512 * 2**20
"""Seconds between progress lines while one large file is read and encoded."""


class CTRDataModule(LightningDataModule):
    """Categorical and numeric CTR data from CSV/TSV, Parquet or libFM files.

    Give either separate ``train_path``/``valid_path``/``test_path`` (each a file or a
    glob), or one ``path`` cut by ``split_fractions`` with ``split_seed``.

    Data larger than memory: CSV, TSV and Parquet files stream through encoding in
    chunks of ``chunk_rows`` rows, also with ``path`` (which then takes an extra pass to
    count the rows, and a ``[rows]`` int8 split assignment in memory). libFM files are
    read whole, one file at a time: split a large libFM data set into several files.
    Rows to predict are read in chunks but their encoded arrays are kept in memory.

    Args:
        schema: label and feature fields (see :class:`~lit_ctr.data.schema.Schema`).
        train_path: training rows; the vocabulary is fitted on these only.
        valid_path: validation rows (optional).
        test_path: test rows (optional).
        predict_path: rows to score with ``lit-ctr predict`` (label column optional).
        path: one file or glob to split instead of separate paths.
        split_fractions: train/valid/test fractions of ``path``.
        split_seed: seed of the row shuffle that cuts ``path``.
        file_format: layout of the files (see :class:`~lit_ctr.data.schema.FileFormat`).
        predict_file_format: layout of ``predict_path`` when it differs (e.g. a CSV with
            a header and no label); default: ``file_format``.
        cache_dir: where encoded arrays are kept between runs.
        batch_size: rows per training batch.
        eval_batch_size: rows per validation/test/predict batch (default: 4 × batch_size).
        shuffle_seed: seed of the per-epoch training order (the epoch is added to it).
        num_workers: DataLoader worker processes; 0 is usually fastest since a batch
            is a single gather.
        chunk_rows: rows read, checked and encoded at a time; results do not depend on
            it. Resident memory while encoding large inputs grows with it; 1M
            Criteo-shaped rows take about a quarter fewer fresh pages from the kernel with
            100k-row chunks than with 250k-row ones, in the same time within noise
            (``bench/throughput/preprocess_chunks.py``).
        shuffle: how training rows are shuffled. ``global``: a fresh permutation of all
            rows each epoch, gathered from a memory map of the split (the split's pages
            end up resident). ``block``: blocks of ``block_rows`` consecutive rows in a
            fresh order each epoch, rows shuffled within windows of ``window_blocks``
            blocks, read with plain file reads; resident memory stays at about
            ``window_blocks × block_rows`` rows. Validation and test rows are then read
            in blocks too. ``auto``: ``block`` for splits of more than
            ``in_memory_rows`` rows, ``global`` otherwise.
        in_memory_rows: the ``auto`` threshold (10M Criteo rows are 1.6 GB encoded).
        block_rows: rows per block for ``block`` shuffling.
        window_blocks: blocks whose rows are shuffled together for ``block`` shuffling.
        preprocessing_from: a checkpoint whose schema, file format and vocabulary are used
            instead of fitting them on ``train_path``: validation, test and predict rows
            are encoded as the checkpoint's model saw its training rows, and
            ``train_path`` is neither needed nor read. ``lit-ctr validate|test|predict
            --ckpt_path X`` sets it to X.
    """

    def __init__(
        self,
        schema: Schema,
        train_path: str | None = None,
        valid_path: str | None = None,
        test_path: str | None = None,
        predict_path: str | None = None,
        path: str | None = None,
        split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        split_seed: int = 2021,
        file_format: FileFormat | None = None,
        predict_file_format: FileFormat | None = None,
        cache_dir: str = ".lit_ctr_cache",
        batch_size: int = 4096,
        eval_batch_size: int | None = None,
        shuffle_seed: int = 0,
        num_workers: int = 0,
        chunk_rows: int = 100_000,
        shuffle: Literal["auto", "global", "block"] = "auto",
        in_memory_rows: int = 10_000_000,
        block_rows: int = 32_768,
        window_blocks: int = 32,
        preprocessing_from: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(schema, dict):
            schema = Schema(**schema)
        self.schema = schema
        if isinstance(file_format, dict):
            file_format = FileFormat(**file_format)
        self.file_format = file_format or FileFormat()
        if isinstance(predict_file_format, dict):
            predict_file_format = FileFormat(**predict_file_format)
        self.predict_file_format = predict_file_format or self.file_format
        self.preprocessing_from = preprocessing_from
        if (
            path is None
            and train_path is None
            and predict_path is None
            and (preprocessing_from is None or (valid_path is None and test_path is None))
        ):
            raise DataError("data: expected train_path (with valid_path/test_path) or path")
        if path is not None and train_path is not None:
            raise DataError("data: give either path (split by fractions) or train_path, not both")
        fractions = tuple(float(x) for x in split_fractions)
        if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
            raise DataError(
                f"data.split_fractions: expected three non-negative fractions summing to 1, got {split_fractions}"
            )
        self.split_fractions = fractions
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"data.batch_size: expected a positive integer, got {batch_size!r}")
        for name, value, least in (
            ("eval_batch_size", 1 if eval_batch_size is None else eval_batch_size, 1),
            ("num_workers", num_workers, 0),
            ("chunk_rows", chunk_rows, 1),
            ("in_memory_rows", in_memory_rows, 0),
            ("block_rows", block_rows, 1),
            ("window_blocks", window_blocks, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise DataError(f"data.{name}: expected an integer >= {least}, got {value!r}")
        if shuffle not in ("auto", "global", "block"):
            raise DataError(f"data.shuffle: expected 'auto', 'global' or 'block', got {shuffle!r}")
        self.paths = {"train": train_path, "valid": valid_path, "test": test_path}
        self.predict_path = predict_path
        self.path = path
        self.split_seed = split_seed
        self.cache_dir = Path(cache_dir)
        _check_cache_dir(self.cache_dir)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or 4 * batch_size
        self.shuffle_seed = shuffle_seed
        self.num_workers = num_workers
        self.chunk_rows = chunk_rows
        self.shuffle = shuffle
        self.in_memory_rows = in_memory_rows
        self.block_rows = block_rows
        self.window_blocks = window_blocks
        self._entry: Path | None = None
        self._meta: dict[str, Any] | None = None
        self._vocabulary: Vocabulary | None = None
        self.splits: dict[str, EncodedArrays] = {}
        if preprocessing_from is not None:
            self._adopt_checkpoint(preprocessing_from)

    def _adopt_checkpoint(self, checkpoint: str) -> None:
        """Take the schema, file format and vocabulary of ``checkpoint`` instead of fitting them."""
        from lit_ctr.checkpoint import read_checkpoint  # torch: imported only when used

        state = read_checkpoint(checkpoint).preprocessing
        if state is None:
            raise DataError(
                "data.preprocessing_from: the checkpoint holds no preprocessing (schema and vocabulary); "
                "it was not written by a fit with a lit-ctr data module",
                file=str(checkpoint),
            )
        schema = Schema.from_dict(state["schema"])
        if schema.to_dict() != self.schema.to_dict():
            log.info("lit-ctr: using the schema saved in %s, which differs from data.schema", checkpoint)
        predict_own = self.predict_file_format is not self.file_format
        self.schema = schema
        self.file_format = FileFormat(**state["file_format"])
        if not predict_own:
            self.predict_file_format = self.file_format
        self._vocabulary = Vocabulary.from_dict(state["vocabulary"])

    # ----------------------------------------------------------------- what the model needs
    @property
    def field_dims(self) -> list[int]:
        """Ids per categorical field (OOV and missing ids included), in schema order."""
        if self.preprocessing_from is not None:
            return self.vocabulary.sizes
        return list(self.meta["field_dims"])

    @property
    def num_numeric(self) -> int:
        """Number of numeric (non-bucketized) fields."""
        if self.preprocessing_from is not None:
            return len(self.schema.numeric)
        return int(self.meta["num_numeric"])

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary fitted on the training split."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.from_dict(cache.read_json(self.entry / "vocabulary.json"))
        return self._vocabulary

    @property
    def meta(self) -> dict[str, Any]:
        """Row counts, sizes and the description the cache entry was keyed by."""
        if self._meta is None:
            self._meta = cache.read_json(self.entry / "meta.json")
        return self._meta

    def preprocessing_state(self) -> dict[str, Any]:
        """Schema, file format and vocabulary as plain data, for checkpoints."""
        return {
            "schema": self.schema.to_dict(),
            "file_format": self.file_format.to_dict(),
            "vocabulary": self.vocabulary.to_dict(),
        }

    def state_dict(self) -> dict[str, Any]:
        """What Lightning stores in checkpoints for this module: the preprocessing
        (``{"preprocessing": {"schema", "file_format", "vocabulary"}}``, plain data), so that
        a checkpoint alone can score raw rows (:mod:`lit_ctr.checkpoint`)."""
        return {"preprocessing": self.preprocessing_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Check a checkpoint's preprocessing state (see :meth:`state_dict`) against this module's.

        Raises:
            DataError: the checkpoint's vocabulary is not the one this module uses (fitted
                on the training files now, or taken from ``preprocessing_from``): its ids
                would mean other values than the model's weights learnt.
        """
        state = state_dict.get("preprocessing")
        self.loaded_preprocessing = state
        if not isinstance(state, dict) or "vocabulary" not in state:
            return
        if vocabulary_fingerprint(state["vocabulary"]) != vocabulary_fingerprint(self.vocabulary.to_dict()):
            raise DataError(
                "the checkpoint's vocabulary differs from the one fitted on the training files: "
                "the training data changed since this checkpoint was written; restore the training files, "
                "fit from scratch without --ckpt_path, or evaluate with data.preprocessing_from=<checkpoint>"
            )

    # ----------------------------------------------------------------- cache
    def _inputs(self) -> dict[str, list[Path]]:
        if self.path is not None:
            return {"all": expand_paths(self.path)}
        inputs = {}
        for split, pattern in self.paths.items():
            if pattern is not None and not (split == "train" and self.preprocessing_from is not None):
                inputs[split] = expand_paths(pattern)
        if "train" not in inputs and self.preprocessing_from is None:
            raise DataError("data.train_path: expected the training rows (the vocabulary is fitted on them)")
        return inputs

    def _description(self, inputs: dict[str, list[Path]]) -> dict[str, Any]:
        hashes = self.cache_dir / cache.HASHES_DIR
        description = {
            "schema": self.schema.to_dict(),
            "file_format": self.file_format.to_dict(),
            "inputs": {k: [cache.file_identity(p, hashes) for p in v] for k, v in inputs.items()},
            "split": {"fractions": list(self.split_fractions), "seed": self.split_seed}
            if self.path is not None
            else None,
        }
        if self.preprocessing_from is not None:  # evaluation splits only, with a given vocabulary
            description["vocabulary"] = vocabulary_fingerprint(self.vocabulary.to_dict())
        return description

    @property
    def entry(self) -> Path:
        """The cache entry of these inputs, built on first use (see :meth:`prepare_data`)."""
        if self._entry is None:
            self._entry = self._reuse_or_build()
        return self._entry

    def _reuse_or_build(self) -> Path:
        """Find this configuration's cache entry, checked, or encode it afresh, saying why."""
        inputs = self._inputs()
        try:
            description = self._description(inputs)
        except OSError as error:
            raise DataError(f"cannot read the file to fingerprint it ({error.strerror})", file=error.filename) from None
        entry = self.cache_dir / cache.cache_key(description)
        if cache.is_complete(entry):
            problem = _entry_damage(entry)
            if problem is None:
                log.info("lit-ctr: reusing the encoded cache %s (inputs unchanged: same content hash)", entry)
                return entry
            log.warning("lit-ctr: the encoded cache %s is damaged (%s); encoding it afresh", entry, problem)
            shutil.rmtree(entry, ignore_errors=True)
        else:
            log.info("lit-ctr: encoding afresh: %s", cache.why_new(self.cache_dir, description))
        log.info("lit-ctr: encoding %s into %s", ", ".join(str(p) for v in inputs.values() for p in v), entry)
        write = self._write_eval_entry if self.preprocessing_from is not None else self._write_entry
        try:
            cache.build_entry(entry, lambda tmp: write(tmp, inputs, description))
        except OSError as error:
            if error.filename is None or not str(error.filename).startswith(str(self.cache_dir)):
                raise
            raise DataError(
                f"data.cache_dir: cannot write the encoded cache ({error.strerror})", file=error.filename
            ) from None
        cache.remember(self.cache_dir, description, entry)
        return entry

    def _prepared(
        self, paths: list[Path], require_label: bool = True, file_format: FileFormat | None = None
    ) -> Iterator[pl.DataFrame]:
        """The checked and typed rows of ``paths``, in order, in chunks of about ``chunk_rows`` rows."""
        for i, p in enumerate(paths, 1):
            start = time.perf_counter()
            rows = 0
            tables = read_tables(
                p, self.schema, file_format or self.file_format, require_label=require_label, chunk_rows=self.chunk_rows
            )
            last = start
            for table in tables:
                rows += table.frame.height
                yield prepare(table, self.schema, require_label=require_label)
                if time.perf_counter() - last >= PROGRESS_SECONDS:  # progress inside a large file
                    last = time.perf_counter()
                    log.info("lit-ctr: reading %s: %d rows so far (%.0f rows/s)", p, rows, rows / (last - start))
            log.info(
                "lit-ctr: read %s: %d rows in %.1f s (file %d of %d)",
                p,
                rows,
                time.perf_counter() - start,
                i,
                len(paths),
            )

    def _chunks(self, paths: list[Path], passes: int) -> _Chunks:
        """The prepared chunks of ``paths`` for ``passes`` passes (kept between them when small)."""
        size = sum(p.stat().st_size * (5 if p.suffix.lower() in (".parquet", ".pq", ".gz") else 1) for p in paths)
        return _Chunks(lambda: self._prepared(paths), keep=passes > 1 and size <= KEEP_BYTES)

    def _write_entry(self, tmp: Path, inputs: dict[str, list[Path]], description: dict[str, Any]) -> None:
        """Encode every split into ``tmp``, chunk by chunk.

        With separate split files the train split is read once: its values are counted
        and written as per-field codes in the same pass, and the codes are mapped to ids
        in place once the vocabulary is fitted; valid and test are then encoded. With one
        ``path`` cut by fractions, the rows are counted, the train rows' values counted,
        then every row is encoded and routed to its split.
        """
        counter = VocabularyCounter(self.schema)
        num_ids, num_numeric = len(self.schema.categorical), len(self.schema.numeric)
        written: dict[str, cache.SplitWriter] = {}
        if self.path is None:
            sources = {split: self._chunks(paths, 1) for split, paths in inputs.items() if split != "train"}
            routes, routed = None, []
            train = cache.SplitWriter(tmp / "train", np.int32, num_ids, num_numeric)
            self._write({"train": train}, read_ahead(self._chunks(inputs["train"], 1)), self._coder(counter))
            written["train"] = train
            train_rows = train.rows
        else:
            sources = {"all": self._chunks(inputs["all"], 3)}  # count rows, count values, encode
            train_frames, routes, routed = self._split_rows(sources["all"])
            train_rows = 0
            for frame in train_frames:
                counter.update(frame)
                train_rows += frame.height
        if train_rows == 0:
            files = ", ".join(str(p) for p in inputs["train"]) if self.path is None else str(self.path)
            raise DataError("the train split has no rows", file=files)
        vocabulary = counter.vocabulary()
        log.info(
            "lit-ctr: fitted the vocabulary on the train split: %d ids over %d categorical fields",
            vocabulary.total_size,
            len(vocabulary.fields),
        )
        cache.write_json(tmp / "vocabulary.json", vocabulary.to_dict())
        field_dims = vocabulary.sizes
        if written:
            start = time.perf_counter()
            cache.map_codes_to_ids(tmp / "train" / "ids.npy", counter.code_ids(vocabulary.offsets, vocabulary.id_dtype))
            log.info("lit-ctr: mapped the train split's values to ids in %.1f s", time.perf_counter() - start)
        del counter  # a count per distinct training value: not needed while encoding
        encoder = Encoder(self.schema, vocabulary) if sources else None
        del vocabulary  # its values as Python strings; the encoder keeps a compact copy

        for source, chunks in sources.items():
            splits = [source] if routes is None else routed
            writers = {
                split: cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_numeric) for split in splits
            }
            self._write(writers, read_ahead(chunks), encoder, routes)
            written.update(writers)
        for split, writer in written.items():
            if writer.rows == 0:
                files = inputs.get(split, inputs.get("all", []))
                raise DataError(f"the {split} split has no rows", file=", ".join(str(p) for p in files))
        _write_meta(tmp, description, written, field_dims, num_numeric)

    def _write_eval_entry(self, tmp: Path, inputs: dict[str, list[Path]], description: dict[str, Any]) -> None:
        """Encode the validation and test splits into ``tmp`` with the checkpoint's vocabulary
        (``preprocessing_from``); the rows ``path`` sends to the train split are dropped."""
        vocabulary = self.vocabulary
        encoder = Encoder(self.schema, vocabulary)
        num_ids, num_numeric = len(self.schema.categorical), len(self.schema.numeric)
        cache.write_json(tmp / "vocabulary.json", vocabulary.to_dict())
        written: dict[str, cache.SplitWriter] = {}
        if self.path is None:
            for split, paths in inputs.items():
                writer = cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_numeric)
                self._write({split: writer}, read_ahead(self._chunks(paths, 1)), encoder)
                written[split] = writer
        else:
            chunks = self._chunks(inputs["all"], 2)  # count rows, encode
            _, routes, routed = self._split_rows(chunks)
            writers = {
                split: cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_numeric)
                for split in routed
                if split != "train"
            }
            if writers:
                self._write(writers, read_ahead(chunks), encoder, routes)
            written.update(writers)
        for split, writer in written.items():
            if writer.rows == 0:
                files = inputs.get(split, inputs.get("all", []))
                raise DataError(f"the {split} split has no rows", file=", ".join(str(p) for p in files))
        _write_meta(tmp, description, written, vocabulary.sizes, num_numeric)

    def _coder(self, counter: VocabularyCounter) -> Callable[[pl.DataFrame], EncodedArrays]:
        """Training chunks → arrays whose ``ids`` are ``counter``'s value codes (counted)."""

        def code(frame: pl.DataFrame) -> EncodedArrays:
            return EncodedArrays(counter.codes(frame), *numeric_and_labels(frame, self.schema))

        return code

    @staticmethod
    def _write(
        writers: dict[str, cache.SplitWriter],
        chunks: Iterable[pl.DataFrame],
        encode: Callable[[pl.DataFrame], EncodedArrays],
        routes: np.ndarray | None = None,
    ) -> None:
        """Encode ``chunks`` into ``writers`` (one, or one per split that ``routes`` sends
        rows to) and close them; abort them all on any error."""
        start = time.perf_counter()
        try:
            offset = 0
            for frame in chunks:
                arrays = encode(frame)
                if routes is None:
                    (writer,) = writers.values()
                    writer.append(arrays)
                else:
                    route = routes[offset : offset + len(arrays)]
                    for split, writer in writers.items():
                        writer.append(_take(arrays, route == SPLITS.index(split)))
                offset += len(arrays)
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        for split, writer in writers.items():
            writer.close()
            log.info(
                "lit-ctr: encoded the %s split: %d rows in %.1f s", split, writer.rows, time.perf_counter() - start
            )

    def _split_rows(self, chunks: _Chunks) -> tuple[Iterator[pl.DataFrame], np.ndarray, list[str]]:
        """Cut ``path`` by ``split_fractions``: the train rows (chunk by chunk), every
        row's route (``[rows]`` int8, the index in ``SPLITS`` of its split) and the
        splits that get rows.

        The split is a seeded permutation of all rows, cut by the fractions; each split
        keeps file order. Counting the rows first costs one more read of large inputs.
        """
        n = sum(frame.height for frame in chunks)
        order = np.random.default_rng(self.split_seed).permutation(n)
        cuts = np.floor(np.cumsum(self.split_fractions) * n + 1e-9).astype(int)
        bounds = [0, *cuts[:2].tolist(), n]
        routes = np.full(n, -1, dtype=np.int8)
        for i in range(len(SPLITS)):
            routes[order[bounds[i] : bounds[i + 1]]] = i
        del order  # 8 bytes a row: not kept while encoding
        routed = [split for i, split in enumerate(SPLITS) if bounds[i + 1] > bounds[i]]

        def train() -> Iterator[pl.DataFrame]:
            offset = 0
            for frame in chunks:
                mask = routes[offset : offset + frame.height] == 0
                offset += frame.height
                yield frame.filter(pl.Series(mask))

        return train(), routes, routed

    # ----------------------------------------------------------------- Lightning hooks
    def _needs_entry(self) -> bool:
        """Whether there are split files to encode into the cache (not so when a checkpoint's
        preprocessing is used to predict only)."""
        return (
            self.preprocessing_from is None
            or self.path is not None
            or any(self.paths[s] is not None for s in ("valid", "test"))
        )

    def prepare_data(self) -> None:
        """Encode into the cache (runs on one process per node under DDP)."""
        if self._needs_entry():
            _ = self.entry

    def setup(self, stage: str | None = None) -> None:
        """Memory-map the encoded splits (every rank) and log each one's rows and positives."""
        if self._needs_entry():
            fresh = [s for s in SPLITS if s not in self.splits and (self.entry / s).is_dir()]
            for split in fresh:
                self.splits[split] = cache.load_split(self.entry / split)
            if fresh:
                _log_splits(self.meta, fresh)
        if stage == "predict" and "predict" not in self.splits:
            self.splits["predict"] = self.encode_rows(self.predict_path)

    def encode_rows(self, pattern: str | None) -> EncodedArrays:
        """Encode other raw rows (label optional) with the fitted vocabulary.

        Files are read chunk by chunk, but the encoded arrays are returned in memory.
        """
        if pattern is None:
            raise DataError("data.predict_path: expected the rows to score")
        paths = expand_paths(pattern)
        encoder = Encoder(self.schema, self.vocabulary)
        parts = [encoder(f) for f in self._prepared(paths, require_label=False, file_format=self.predict_file_format)]
        if len(parts) == 1:
            return parts[0]
        labelled = all(p.labels is not None for p in parts)
        return EncodedArrays(
            np.concatenate([p.ids for p in parts]),
            np.concatenate([p.numeric for p in parts]),
            np.concatenate([p.labels for p in parts]) if labelled else None,
        )

    def _block_read(self, split: str) -> bool:
        """Whether ``split`` is read in blocks with plain reads (see ``shuffle``)."""
        arrays = self.splits[split]
        if split == "predict" or not isinstance(arrays.labels, np.memmap):
            return False  # in memory already
        if self.shuffle == "auto":
            return len(arrays) > self.in_memory_rows
        return self.shuffle == "block"

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.splits:
            raise DataError(f"data: no {split} split is configured ({split}_path or path)")
        arrays = self.splits[split]
        trainer = self.trainer
        batch_size = self.batch_size if shuffle else self.eval_batch_size
        world = trainer.world_size if trainer is not None else 1
        rank = trainer.global_rank if trainer is not None else 0
        dataset: EncodedSplit | BlockSplit
        if self._block_read(split) and shuffle:
            sampler = BlockShuffleSampler(
                len(arrays),
                batch_size,
                block_rows=self.block_rows,
                window_blocks=self.window_blocks,
                seed=self.shuffle_seed,
                num_replicas=world,
                rank=rank,
            )
            dataset = BlockSplit(arrays, self.block_rows, max_blocks=sampler.blocks_per_window)
        else:
            sampler = BatchIndexSampler(
                len(arrays), batch_size, shuffle=shuffle, seed=self.shuffle_seed, num_replicas=world, rank=rank
            )
            if self._block_read(split):  # in order: each block is read once
                dataset = BlockSplit(arrays, self.block_rows, max_blocks=math.ceil(batch_size / self.block_rows) + 1)
            else:
                dataset = EncodedSplit(arrays)
        return DataLoader(
            dataset,
            sampler=sampler,
            batch_size=None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        # No validation split configured: Lightning skips validation on an empty list.
        return self._loader("valid", shuffle=False) if "valid" in self.splits else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", shuffle=False)


class _Chunks:
    """The prepared chunks of some files, in order; iterable once per encoding pass.

    Every pass reads the files again, unless ``keep``: then the first complete pass
    keeps the chunks in memory, so small inputs are read and checked once.
    """

    def __init__(self, read: Callable[[], Iterator[pl.DataFrame]], keep: bool) -> None:
        self._read = read
        self._keep = keep
        self._kept: list[pl.DataFrame] | None = None

    def __iter__(self) -> Iterator[pl.DataFrame]:
        if self._kept is not None:
            yield from self._kept
            return
        kept = []
        for frame in self._read():
            if self._keep:
                kept.append(frame)
            yield frame
        if self._keep:
            self._kept = kept


def vocabulary_fingerprint(vocabulary: dict[str, Any]) -> str:
    """A short hash of a vocabulary as plain data (``Vocabulary.to_dict()``)."""
    return hashlib.sha256(json.dumps(vocabulary, sort_keys=True).encode()).hexdigest()[:20]


def _write_meta(
    tmp: Path,
    description: dict[str, Any],
    written: dict[str, cache.SplitWriter],
    field_dims: list[int],
    num_numeric: int,
) -> None:
    """``meta.json`` of an entry: what keyed it, the splits' rows and positives, the sizes
    the model needs and every array's shape and checksum (:func:`cache.damage`)."""
    cache.write_json(
        tmp / "meta.json",
        indent=1,
        data={
            "description": description,
            "rows": {split: written[split].rows for split in SPLITS if split in written},
            "positives": {split: written[split].label_sum for split in SPLITS if split in written},
            "field_dims": field_dims,
            "num_numeric": num_numeric,
            "positive_rate": {
                split: written[split].label_sum / max(written[split].rows, 1) for split in SPLITS if split in written
            },
            "arrays": cache.array_manifest(tmp),
        },
    )


def _entry_damage(entry: Path) -> str | None:
    """What is wrong with a complete-marked entry (see :func:`cache.damage`), or None."""
    try:
        meta = cache.read_json(entry / "meta.json")
        cache.read_json(entry / "vocabulary.json")
    except (OSError, ValueError) as error:
        return f"meta.json or vocabulary.json is unreadable ({error})"
    manifest = meta.get("arrays")
    if not isinstance(manifest, dict):
        return "meta.json lists no arrays"
    return cache.damage(entry, manifest)


def _log_splits(meta: dict[str, Any], splits: list[str]) -> None:
    """One line per split: rows and positives; a warning where AUC is undefined (one class)."""
    for split in splits:
        rows = int(meta["rows"].get(split, 0))
        positives = int(round(meta.get("positives", {}).get(split, meta["positive_rate"][split] * rows)))
        log.info(
            "lit-ctr: %s split: %d rows, %d positives (%.2f%%)", split, rows, positives, 100 * positives / max(rows, 1)
        )
        if split != "train" and rows > 0 and positives in (0, rows):
            only = "positive" if positives else "negative"
            log.warning(
                "lit-ctr: warning: every row of the %s split is %s: AUC is undefined there (logged as NaN)",
                split,
                only,
            )


def _check_cache_dir(cache_dir: Path) -> None:
    """Raise a DataError naming ``data.cache_dir`` when it cannot be a folder we write in."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise DataError("data.cache_dir: is a file, expected a folder (or a path to create one)", file=str(cache_dir))
    ancestor = cache_dir.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DataError(
            f"data.cache_dir: lies under the file {ancestor}, cannot create a folder there", file=str(cache_dir)
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        what = (
            "is not writable" if ancestor == cache_dir.absolute() else f"cannot be created ({ancestor} is not writable)"
        )
        raise DataError(f"data.cache_dir: {what}", file=str(cache_dir))


def _take(arrays: EncodedArrays, mask: np.ndarray) -> EncodedArrays:
    """The rows of ``arrays`` where ``mask`` (``[N]`` bool) is true."""
    labels = arrays.labels[mask] if arrays.labels is not None else None
    return EncodedArrays(arrays.ids[mask], arrays.numeric[mask], labels)
