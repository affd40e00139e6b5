"""``CTRDataModule``: the Lightning glue around the preprocessing pipeline.

``prepare_data`` runs the pipeline (:mod:`lit_ctr.data.pipeline`: files → checks →
vocabulary → encoded arrays in a cache entry), ``setup`` memory-maps the entry's splits,
and the loaders slice batches from them (:mod:`lit_ctr.data.batching`). The model learns
the sizes it needs (``field_dims``, ``num_numeric``) from this module, never from a config
a person typed.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from lit_ctr.data import cache
from lit_ctr.data.batching import BatchIndexSampler, BlockShuffleSampler, BlockSplit, EncodedSplit
from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.errors import DataError
from lit_ctr.data.files import read_json
from lit_ctr.data.pipeline import SPLITS, Pipeline, log_splits, vocabulary_fingerprint
from lit_ctr.data.readers import expand_paths, file_header
from lit_ctr.data.rows import encode_with
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.splits import DEFAULT_SPLIT_FRACTIONS, check_fractions
from lit_ctr.data.vocabulary import Vocabulary

log = logging.getLogger("lit_ctr")


class CTRDataModule(LightningDataModule):
    """Categorical and numeric CTR data from CSV/TSV, Parquet or libFM files.

    Give either separate ``train_path``/``valid_path``/``test_path`` (each a file or a
    glob), or one ``path`` cut by ``split_fractions`` with ``split_seed``, or
    ``train_path`` + ``valid_fraction`` (validation rows carved out of the training
    files with ``split_seed``) + ``test_path``.

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
        split_fractions: train/valid/test fractions of ``path`` (default ``None``: 0.8,
            0.1, 0.1). Only ``path`` is cut by them: fractions other than that default
            beside ``train_path`` are an error, not ignored (to hold validation rows out
            of ``train_path``, give ``valid_fraction``).
        split_seed: seed of the row shuffle that cuts ``path`` (or carves ``valid_fraction``).
        valid_fraction: the fraction of ``train_path``'s rows held out as the validation
            split (a seeded permutation of all its rows, cut like ``split_fractions``;
            the vocabulary is fitted on the rest); instead of ``valid_path``. The test
            split still comes from ``test_path``.
        file_format: layout of the files (see :class:`~lit_ctr.data.schema.FileFormat`).
        valid_file_format: layout of ``valid_path`` when it differs from ``file_format``
            (e.g. no header); default: ``file_format``.
        test_file_format: layout of ``test_path`` when it differs, like ``valid_file_format``.
        predict_file_format: layout of ``predict_path`` when it differs (e.g. a CSV with
            a header and no label); default: ``file_format``.
        cache_dir: where encoded arrays are kept between runs.
        batch_size: rows per training batch.
        eval_batch_size: rows per validation/test/predict batch (default: 4 × batch_size).
        shuffle_seed: seed of the per-epoch training order (the epoch is added to it).
            Default ``None``: the global seed that ``seed_everything`` set (Lightning
            writes it to the ``PL_GLOBAL_SEED`` environment variable), or 0 when none
            was set; so a different ``seed_everything`` also gives a different data order.
            A number given here wins over ``seed_everything``.
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
        split_fractions: tuple[float, float, float] | None = None,
        split_seed: int = 2021,
        valid_fraction: float | None = None,
        file_format: FileFormat | None = None,
        valid_file_format: FileFormat | None = None,
        test_file_format: FileFormat | None = None,
        predict_file_format: FileFormat | None = None,
        cache_dir: str = ".lit_ctr_cache",
        batch_size: int = 4096,
        eval_batch_size: int | None = None,
        shuffle_seed: int | None = None,
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
        # The splits whose files are laid out unlike the training files.
        self.split_formats = {
            split: FileFormat(**fmt) if isinstance(fmt, dict) else fmt
            for split, fmt in (("valid", valid_file_format), ("test", test_file_format))
            if fmt is not None
        }
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
        if path is not None and (valid_path is not None or test_path is not None):
            given = " and ".join(k for k, v in (("valid_path", valid_path), ("test_path", test_path)) if v is not None)
            raise DataError(
                f"data: path is cut into train/valid/test by split_fractions, so {given} would be ignored; "
                "give either path + split_fractions, or train_path + valid_path/test_path "
                "(or train_path + valid_fraction + test_path to carve validation rows out of the training file)"
            )
        self.valid_fraction = _check_valid_fraction(valid_fraction, train_path, valid_path, path)
        given_fractions = _check_split_fractions_have_a_path(split_fractions, path)
        if len(given_fractions) != 3:
            raise DataError(
                f"data.split_fractions: expected three fractions (train, valid, test), got {given_fractions}"
            )
        fractions = check_fractions(dict(zip(SPLITS, given_fractions)), "data.split_fractions", empty_ok=True)
        train, valid, test = fractions.values()
        self.split_fractions = (train, valid, test)
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
        if shuffle_seed is not None and (isinstance(shuffle_seed, bool) or not isinstance(shuffle_seed, int)):
            raise DataError(f"data.shuffle_seed: expected an integer or null, got {shuffle_seed!r}")
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
        """Ids per categorical field (OOV and missing ids included), in schema order; the
        multi-valued fields last."""
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
    def multi_fields(self) -> list[dict[str, Any]]:
        """The multi-valued fields' ``{name, max_len, pooling}``, in order (the model's
        ``multi_fields``): the last ``len(multi_fields)`` of ``field_dims``, each taking
        ``max_len`` columns of ``ids``."""
        return self.schema.multi_layout()

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary fitted on the training split."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.from_dict(read_json(self.entry / "vocabulary.json"))
        return self._vocabulary

    @property
    def meta(self) -> dict[str, Any]:
        """Row counts, sizes and the description the cache entry was keyed by."""
        if self._meta is None:
            self._meta = read_json(self.entry / "meta.json")
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

    @property
    def data_order_seed(self) -> int:
        """The seed of the training order: ``shuffle_seed``, else the global seed of
        ``seed_everything`` (``PL_GLOBAL_SEED``, read when the loader is built), else 0."""
        if self.shuffle_seed is not None:
            return self.shuffle_seed
        try:
            return int(os.environ.get("PL_GLOBAL_SEED", "0"))
        except ValueError:  # not Lightning's value: the default order
            return 0

    # ----------------------------------------------------------------- the pipeline
    def prepare_inputs(self) -> None:
        """Make the input files exist before they are read (nothing here). A subclass that
        produces its files, like :class:`~lit_ctr.synthetic.SyntheticCTRDataModule`,
        overrides it."""

    def pipeline(self) -> Pipeline:
        """The preprocessing pipeline of this module's settings (see :mod:`lit_ctr.data.pipeline`)."""
        paths, path, fractions = dict(self.paths), self.path, self.split_fractions
        if self.valid_fraction is not None:  # the training files cut in two; test from its own file
            paths, path = {"test": self.paths["test"]}, self.paths["train"]
            fractions = (1.0 - self.valid_fraction, self.valid_fraction, 0.0)
        return Pipeline(
            schema=self.schema,
            file_format=self.file_format,
            cache_dir=self.cache_dir,
            paths=paths,
            path=path,
            split_fractions=fractions,
            split_seed=self.split_seed,
            chunk_rows=self.chunk_rows,
            vocabulary=self._vocabulary if self.preprocessing_from is not None else None,
            split_formats=dict(self.split_formats),
        )

    @property
    def entry(self) -> Path:
        """The cache entry of the splits: :meth:`prepare_data`'s result. The CLI reads the
        data's sizes while it builds the model, before Lightning calls ``prepare_data``:
        asked first, this runs it."""
        if self._entry is None:
            self.prepare_data()
        if self._entry is None:
            raise DataError("data: no split files to encode (valid_path or test_path)")
        return self._entry

    # ----------------------------------------------------------------- Lightning hooks
    def prepare_data(self) -> None:
        """Run the pipeline: reuse or build the cache entry (one process per node under DDP)."""
        if self._entry is None:
            self.prepare_inputs()
            pipeline = self.pipeline()
            if pipeline.has_splits():
                self._entry = pipeline.entry()

    def setup(self, stage: str | None = None) -> None:
        """Memory-map the encoded splits (every rank) and log each one's rows and positives;
        for ``predict``, encode the rows to score."""
        self.prepare_data()  # other ranks: finds the complete entry
        if self._entry is not None:
            fresh = [s for s in SPLITS if s not in self.splits and (self._entry / s).is_dir()]
            for split in fresh:
                self.splits[split] = cache.load_split(self._entry / split)
            if fresh:
                log_splits(self.meta, fresh)
        if stage == "predict" and "predict" not in self.splits:
            self.splits["predict"] = self.encode_rows(self.predict_path)

    def encode_rows(self, pattern: str | None) -> EncodedArrays:
        """Encode other raw rows (label optional) with this module's vocabulary, read with
        ``predict_file_format`` chunk by chunk; the arrays are returned in memory."""
        if pattern is None:
            raise DataError("data.predict_path: expected the rows to score")
        fmt = self.predict_file_format
        train = self.paths["train"]
        if fmt.columns is None and train is not None and self.preprocessing_from is None:
            # a headerless file to score takes the training file's header as its column names
            columns = file_header(expand_paths(train)[0], self.schema, self.file_format)
            fmt = replace(fmt, columns=columns) if columns else fmt
        return encode_with(self.schema, self.vocabulary, pattern, fmt, chunk_rows=self.chunk_rows)

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
        sampler: BlockShuffleSampler | BatchIndexSampler
        if self._block_read(split) and shuffle:
            sampler = BlockShuffleSampler(
                len(arrays),
                batch_size,
                block_rows=self.block_rows,
                window_blocks=self.window_blocks,
                seed=self.data_order_seed,
                num_replicas=world,
                rank=rank,
            )
            dataset = BlockSplit(arrays, self.block_rows, max_blocks=sampler.blocks_per_window)
        else:
            sampler = BatchIndexSampler(
                len(arrays), batch_size, shuffle=shuffle, seed=self.data_order_seed, num_replicas=world, rank=rank
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


def _check_split_fractions_have_a_path(split_fractions: Sequence[float] | None, path: str | None) -> Sequence[float]:
    """``split_fractions`` cut ``path`` only; without one, fractions a user chose would be
    silently ignored. The old default (0.8, 0.1, 0.1) passes: every config that ``lit-ctr
    fit`` saved before the default became ``None`` carries it beside ``train_path``."""
    if split_fractions is None:
        return DEFAULT_SPLIT_FRACTIONS
    if path is None and tuple(split_fractions) != DEFAULT_SPLIT_FRACTIONS:
        raise DataError(
            f"data.split_fractions: cut only path (one file into train/valid/test), so {list(split_fractions)} "
            "would be ignored here; with train_path, hold validation rows out with valid_fraction "
            "(test rows come from test_path), or give path + split_fractions instead"
        )
    return split_fractions


def _check_valid_fraction(
    fraction: float | None, train_path: str | None, valid_path: str | None, path: str | None
) -> float | None:
    """``valid_fraction`` as a float in (0, 1), or a DataError naming what it cannot go with."""
    if fraction is None:
        return None
    key = "data.valid_fraction"
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise DataError(f"{key}: expected a fraction between 0 and 1 (exclusive), got {fraction!r}")
    if path is not None:
        raise DataError(f"{key}: carves validation rows out of train_path; with path, use split_fractions")
    if valid_path is not None:
        raise DataError(f"{key}: give either valid_path or valid_fraction, not both")
    if train_path is None:
        raise DataError(f"{key}: needs train_path (the file the validation rows are taken from)")
    return float(fraction)


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
