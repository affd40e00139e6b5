"""The preprocessing pipeline: raw files → checked rows → vocabulary → encoded arrays in a
cache entry.

Data flows one way, one stage per module: files are read in chunks
(:mod:`~lit_ctr.data.readers`), checked and typed (:mod:`~lit_ctr.data.checks`), the
vocabulary is fitted on the training split (:mod:`~lit_ctr.data.vocabulary`), every split
is encoded (:mod:`~lit_ctr.data.encoding`) and stored once in a cache entry keyed by the
schema, the settings and the input files' content (:mod:`~lit_ctr.data.cache`).
:class:`Pipeline` runs these stages; the DataModule only calls it.

Encoding streams, so splits may be larger than memory: files are read in chunks of
``chunk_rows`` rows; the training split's values are counted and written as per-field
codes in one pass (memory grows with the vocabulary, not the rows), the codes are mapped
to ids in place once the vocabulary is fitted, then the other splits are encoded chunk by
chunk, appending to their ``.npy`` files. Inputs of at most ``KEEP_BYTES`` are read once
and kept between passes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lit_ctr.data import cache
from lit_ctr.data.checks import prepare
from lit_ctr.data.encoding import EncodedArrays, Encoder, map_codes_to_ids, numeric_and_labels, weights_of
from lit_ctr.data.errors import DataError
from lit_ctr.data.files import read_json, write_json
from lit_ctr.data.multi import column_fields, log_truncated
from lit_ctr.data.progress import Progress, size
from lit_ctr.data.read_ahead import read_ahead
from lit_ctr.data.readers import expand_paths, file_header, read_tables
from lit_ctr.data.scaling import scaled_fields
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.splits import DEFAULT_SPLIT_FRACTIONS
from lit_ctr.data.vocabulary import Vocabulary, VocabularyCounter

log = logging.getLogger("lit_ctr")

SPLITS = ("train", "valid", "test")

# Inputs up to this size are read once and kept, prepared, in memory between the
# encoding passes (about 2M Criteo rows as TSV, ~1.4 GB prepared); larger ones are read
# again on each pass, so that memory stays at a few chunks. Parquet and gzip files are
# compressed: they count 5 times their size.
KEEP_BYTES = 512 * 2**20


@dataclass
class Pipeline:
    """What to encode and how: the settings of one cache entry.

    Attributes:
        schema: label and feature fields.
        file_format: layout of the split files.
        cache_dir: where entries are kept.
        paths: ``{"train", "valid", "test"}`` → file or glob (or None).
        path: one file or glob cut by ``split_fractions`` instead of ``paths``; then
            ``paths`` may still name the files of a split that gets no rows of ``path``
            (``valid_fraction``: the training files cut into train and valid, the test
            split from its own file).
        split_fractions: train/valid/test fractions of ``path``.
        split_seed: seed of the row permutation that cuts ``path``.
        chunk_rows: rows read, checked and encoded at a time.
        vocabulary: a fitted vocabulary to encode with (a checkpoint's): then only the
            validation and test splits are encoded and the train split is never read.
        split_formats: the layout of one split's files where it differs from
            ``file_format`` (e.g. ``{"test": FileFormat(has_header=False)}``).
    """

    schema: Schema
    file_format: FileFormat
    cache_dir: Path
    paths: dict[str, str | None] = field(default_factory=dict)
    path: str | None = None
    split_fractions: tuple[float, float, float] = DEFAULT_SPLIT_FRACTIONS
    split_seed: int = 2021
    chunk_rows: int = 100_000
    vocabulary: Vocabulary | None = None
    split_formats: dict[str, FileFormat] = field(default_factory=dict)

    @property
    def _weighted(self) -> bool:
        """Whether the splits carry sample weights (``schema.weight``)."""
        return self.schema.weight is not None

    def has_splits(self) -> bool:
        """Whether there is anything to encode (not so for a checkpoint's vocabulary and
        rows to predict only)."""
        return self.vocabulary is None or self.path is not None or any(self.paths.get(s) for s in ("valid", "test"))

    def entry(self) -> Path:
        """The checked cache entry of these inputs: reused, or encoded afresh (saying why)."""
        return self._reuse_or_build()

    def _inputs(self) -> dict[str, list[Path]]:
        if self.path is not None:  # cut by fractions; a split without rows there may have its own files
            routed = {"all": expand_paths(self.path)}
            return routed | {s: expand_paths(p) for s, p in self.paths.items() if p is not None and s != "train"}
        inputs = {}
        for split, pattern in self.paths.items():
            if pattern is not None and not (split == "train" and self.vocabulary is not None):
                inputs[split] = expand_paths(pattern)
        if "train" not in inputs and self.vocabulary is None:
            raise DataError("data.train_path: expected the training rows (the vocabulary is fitted on them)")
        return inputs

    def _format(self, split: str, inputs: dict[str, list[Path]]) -> FileFormat:
        """The layout of ``split``'s files (``all``: of ``path``). A validation or test file
        without a header and without ``columns`` takes the training file's header as its
        column names, when the training file has one."""
        fmt = self.split_formats.get(split, self.file_format)
        train = inputs.get("train") or inputs.get("all")
        if split in ("train", "all") or fmt.columns is not None or not train:
            return fmt
        columns = file_header(train[0], self.schema, self.split_formats.get("train", self.file_format))
        return replace(fmt, columns=columns) if columns else fmt

    def _description(self, inputs: dict[str, list[Path]]) -> dict[str, Any]:
        hashes = self.cache_dir / cache.HASHES_DIR
        description: dict[str, Any] = {
            "schema": self.schema.to_dict(),
            "file_format": self.file_format.to_dict(),
            "inputs": {k: [cache.file_identity(p, hashes) for p in v] for k, v in inputs.items()},
            "split": {"fractions": list(self.split_fractions), "seed": self.split_seed}
            if self.path is not None
            else None,
        }
        if self.split_formats:  # only then: entries of one shared format keep their keys
            description["split_formats"] = {k: v.to_dict() for k, v in sorted(self.split_formats.items())}
        if self.vocabulary is not None:  # evaluation splits only, with a given vocabulary
            description["vocabulary"] = vocabulary_fingerprint(self.vocabulary.to_dict())
        return description

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
        write = self._write_eval_entry if self.vocabulary is not None else self._write_entry
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

    def _prepared(self, paths: list[Path], fmt: FileFormat) -> Iterator[pl.DataFrame]:
        """The checked and typed rows of ``paths`` (laid out as ``fmt``), in order, in chunks
        of about ``chunk_rows`` rows."""
        sizes = [p.stat().st_size for p in paths]
        progress = Progress(sum(sizes))
        done = 0  # bytes of the files read completely
        for i, (p, file_size) in enumerate(zip(paths, sizes), 1):
            start = time.perf_counter()
            rows = 0
            for table in read_tables(p, self.schema, fmt, require_label=True, chunk_rows=self.chunk_rows):
                rows += table.frame.height
                yield prepare(table, self.schema)
                if progress.due():  # a line every PROGRESS_SECONDS inside large inputs
                    # bytes read: the file's share of rows read (polars does not say its offset)
                    read = done + file_size * min(rows / table.file_rows, 1.0) if table.file_rows else done
                    log.info(
                        "lit-ctr: reading %s: %d of %s rows, %s of %s read (%s, %.0f rows/s)",
                        p,
                        rows,
                        table.file_rows if table.file_rows is not None else "?",
                        size(read),
                        size(progress.total),
                        progress.share(read),
                        rows / max(time.perf_counter() - start, 1e-9),
                    )
            done += file_size
            log.info(
                "lit-ctr: read %s: %d rows in %.1f s (file %d of %d)",
                p,
                rows,
                time.perf_counter() - start,
                i,
                len(paths),
            )

    def _chunks(self, paths: list[Path], passes: int, fmt: FileFormat) -> _Chunks:
        """The prepared chunks of ``paths`` for ``passes`` passes (kept between them when small)."""
        size = sum(p.stat().st_size * (5 if p.suffix.lower() in (".parquet", ".pq", ".gz") else 1) for p in paths)
        return _Chunks(lambda: self._prepared(paths, fmt), keep=passes > 1 and size <= KEEP_BYTES)

    def _write_entry(self, tmp: Path, inputs: dict[str, list[Path]], description: dict[str, Any]) -> None:
        """Encode every split into ``tmp``, chunk by chunk.

        With separate split files the train split is read once (twice with ``standard`` or
        ``minmax`` numeric fields, whose statistics come first): its values are counted
        and written as per-field codes in the same pass, and the codes are mapped to ids
        in place once the vocabulary is fitted; valid and test are then encoded. With one
        ``path`` cut by fractions, the rows are counted, the train rows' values counted,
        then every row is encoded and routed to its split.
        """
        counter = VocabularyCounter(self.schema)
        num_ids, num_numeric = self.schema.id_columns, len(self.schema.numeric)
        num_floats = num_numeric + self.schema.weight_columns  # numeric values, then value weights
        written: dict[str, cache.SplitWriter] = {}
        if self.path is None:
            sources = {
                split: self._chunks(paths, 1, self._format(split, inputs))
                for split, paths in inputs.items()
                if split != "train"
            }
            routes: np.ndarray | None = None
            routed: list[str] = []
            train = cache.SplitWriter(tmp / "train", np.dtype(np.int32), num_ids, num_floats, self._weighted)
            scaled = bool(scaled_fields(self.schema))
            train_chunks = self._chunks(inputs["train"], 2 if scaled else 1, self._format("train", inputs))
            if scaled:  # standard/minmax need the split's statistics before its first row is written
                for frame in train_chunks:
                    counter.update_numeric(frame)
            self._write({"train": train}, read_ahead(train_chunks), self._coder(counter))
            log_truncated("train", self.schema, counter.truncated)
            written["train"] = train
            train_rows = train.rows
        else:
            sources = {
                "all": self._chunks(inputs["all"], 3, self._format("all", inputs))
            }  # count rows, count values, encode
            sources |= {
                split: self._chunks(paths, 1, self._format(split, inputs))
                for split, paths in inputs.items()
                if split != "all"
            }
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
        write_json(tmp / "vocabulary.json", vocabulary.to_dict())
        field_dims = vocabulary.sizes
        if written:
            start = time.perf_counter()
            map_codes_to_ids(
                tmp / "train" / "ids.npy",
                counter.code_ids(vocabulary.offsets, vocabulary.id_dtype),
                column_fields(self.schema),
            )
            log.info("lit-ctr: mapped the train split's values to ids in %.1f s", time.perf_counter() - start)
        del counter  # a count per distinct training value: not needed while encoding
        encoder = Encoder(self.schema, vocabulary) if sources else None
        del vocabulary  # its values as Python strings; the encoder keeps a compact copy

        for source, chunks in sources.items():
            assert encoder is not None  # built above whenever there are sources
            splits = routed if source == "all" else [source]
            writers = {
                split: cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_floats, self._weighted)
                for split in splits
            }
            self._write(writers, read_ahead(chunks), encoder, routes if source == "all" else None)
            log_truncated(" and ".join(splits), self.schema, encoder.truncated)
            written.update(writers)
        for split, writer in written.items():
            if writer.rows == 0:
                paths = inputs.get(split, inputs.get("all", []))
                raise DataError(f"the {split} split has no rows", file=", ".join(str(p) for p in paths))
        _write_meta(tmp, description, written, field_dims, num_numeric)

    def _write_eval_entry(self, tmp: Path, inputs: dict[str, list[Path]], description: dict[str, Any]) -> None:
        """Encode the validation and test splits into ``tmp`` with the checkpoint's vocabulary
        (``preprocessing_from``); the rows ``path`` sends to the train split are dropped."""
        vocabulary = self.vocabulary
        assert vocabulary is not None
        encoder = Encoder(self.schema, vocabulary)
        num_ids, num_numeric = self.schema.id_columns, len(self.schema.numeric)
        num_floats = num_numeric + self.schema.weight_columns  # numeric values, then value weights
        write_json(tmp / "vocabulary.json", vocabulary.to_dict())
        written: dict[str, cache.SplitWriter] = {}
        for split, paths in inputs.items():
            if split != "all":
                writer = cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_floats, self._weighted)
                self._write({split: writer}, read_ahead(self._chunks(paths, 1, self._format(split, inputs))), encoder)
                log_truncated(split, self.schema, encoder.truncated)
                written[split] = writer
        if self.path is not None:
            chunks = self._chunks(inputs["all"], 2, self._format("all", inputs))  # count rows, encode
            _, routes, routed = self._split_rows(chunks)
            writers = {
                split: cache.SplitWriter(tmp / split, encoder.id_dtype, num_ids, num_floats, self._weighted)
                for split in routed
                if split != "train"
            }
            if writers:
                self._write(writers, read_ahead(chunks), encoder, routes)
                log_truncated(" and ".join(writers), self.schema, encoder.truncated)
            written.update(writers)
        for split, writer in written.items():
            if writer.rows == 0:
                files = inputs.get(split, inputs.get("all", []))
                raise DataError(f"the {split} split has no rows", file=", ".join(str(p) for p in files))
        _write_meta(tmp, description, written, vocabulary.sizes, num_numeric)

    def _coder(self, counter: VocabularyCounter) -> Callable[[pl.DataFrame], EncodedArrays]:
        """Training chunks → arrays whose ``ids`` are ``counter``'s value codes (counted) and
        whose scaled numeric fields use the statistics ``counter`` holds now."""

        stats = counter.numeric_stats()  # complete: counted in a pass before this one

        def code(frame: pl.DataFrame) -> EncodedArrays:
            return EncodedArrays(
                counter.codes(frame), *numeric_and_labels(frame, self.schema, stats), weights_of(frame, self.schema)
            )

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
    write_json(
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
        meta = read_json(entry / "meta.json")
        read_json(entry / "vocabulary.json")
    except (OSError, ValueError) as error:
        return f"meta.json or vocabulary.json is unreadable ({error})"
    manifest = meta.get("arrays")
    if not isinstance(manifest, dict):
        return "meta.json lists no arrays"
    return cache.damage(entry, manifest)


def log_splits(meta: dict[str, Any], splits: list[str]) -> None:
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


def _take(arrays: EncodedArrays, mask: np.ndarray) -> EncodedArrays:
    """The rows of ``arrays`` where ``mask`` (``[N]`` bool) is true."""
    labels = arrays.labels[mask] if arrays.labels is not None else None
    weights = arrays.weights[mask] if arrays.weights is not None else None
    return EncodedArrays(arrays.ids[mask], arrays.numeric[mask], labels, weights)
