"""``CTRDataModule``: raw files → cached encoded arrays → index-gather batches.

Data flows one way: files are read with polars, checked, the vocabulary is fitted on
the training split, every split is encoded once into contiguous arrays in a cache
entry keyed by the schema, the settings and the input files' identity, and batches are
sliced from those arrays. The model learns the sizes it needs (``field_dims``,
``num_numeric``) from this module, never from a config a person typed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from lit_ctr.data import cache
from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit
from lit_ctr.data.encoding import EncodedArrays, encode, prepare
from lit_ctr.data.errors import DataError
from lit_ctr.data.readers import RawTable, expand_paths, read_table
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import Vocabulary, fit_vocabulary

log = logging.getLogger("lit_ctr")

SPLITS = ("train", "valid", "test")


class CTRDataModule(LightningDataModule):
    """Categorical and numeric CTR data from CSV/TSV, Parquet or libFM files.

    Give either separate ``train_path``/``valid_path``/``test_path`` (each a file or a
    glob), or one ``path`` cut by ``split_fractions`` with ``split_seed``.

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
        if path is None and train_path is None and predict_path is None:
            raise DataError("data: expected train_path (with valid_path/test_path) or path")
        if path is not None and train_path is not None:
            raise DataError("data: give either path (split by fractions) or train_path, not both")
        fractions = tuple(float(x) for x in split_fractions)
        if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
            raise DataError(
                f"data.split_fractions: expected three non-negative fractions summing to 1, got {split_fractions}"
            )
        self.split_fractions = fractions
        if batch_size < 1:
            raise DataError(f"data.batch_size: expected a positive integer, got {batch_size}")
        self.paths = {"train": train_path, "valid": valid_path, "test": test_path}
        self.predict_path = predict_path
        self.path = path
        self.split_seed = split_seed
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or 4 * batch_size
        self.shuffle_seed = shuffle_seed
        self.num_workers = num_workers
        self._entry: Path | None = None
        self._meta: dict[str, Any] | None = None
        self._vocabulary: Vocabulary | None = None
        self.splits: dict[str, EncodedArrays] = {}

    # ----------------------------------------------------------------- what the model needs
    @property
    def field_dims(self) -> list[int]:
        """Ids per categorical field (OOV and missing ids included), in schema order."""
        return list(self.meta["field_dims"])

    @property
    def num_numeric(self) -> int:
        """Number of numeric (non-bucketized) fields."""
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

    # ----------------------------------------------------------------- cache
    def _inputs(self) -> dict[str, list[Path]]:
        if self.path is not None:
            return {"all": expand_paths(self.path)}
        inputs = {}
        for split, pattern in self.paths.items():
            if pattern is not None:
                inputs[split] = expand_paths(pattern)
        if "train" not in inputs:
            raise DataError("data.train_path: expected the training rows (the vocabulary is fitted on them)")
        return inputs

    def _description(self, inputs: dict[str, list[Path]]) -> dict[str, Any]:
        return {
            "schema": self.schema.to_dict(),
            "file_format": self.file_format.to_dict(),
            "inputs": {k: [cache.file_identity(p) for p in v] for k, v in inputs.items()},
            "split": {"fractions": list(self.split_fractions), "seed": self.split_seed}
            if self.path is not None
            else None,
        }

    @property
    def entry(self) -> Path:
        """The cache entry of these inputs, built on first use."""
        if self._entry is None:
            inputs = self._inputs()
            description = self._description(inputs)
            entry = self.cache_dir / cache.cache_key(description)
            if cache.is_complete(entry):
                log.info("lit-ctr: reusing the encoded cache %s", entry)
            else:
                log.info("lit-ctr: encoding %s into %s", ", ".join(str(p) for v in inputs.values() for p in v), entry)
                cache.build_entry(entry, lambda tmp: self._write_entry(tmp, inputs, description))
            self._entry = entry
        return self._entry

    def _read(
        self, paths: list[Path], require_label: bool = True, file_format: FileFormat | None = None
    ) -> list[tuple[RawTable, pl.DataFrame]]:
        out = []
        for p in paths:
            table = read_table(p, self.schema, file_format or self.file_format, require_label=require_label)
            out.append((table, prepare(table, self.schema, require_label=require_label)))
        return out

    def _split_frames(self, inputs: dict[str, list[Path]]) -> dict[str, list[pl.DataFrame]]:
        if self.path is None:
            return {split: [f for _, f in self._read(paths)] for split, paths in inputs.items()}
        frame = pl.concat([f for _, f in self._read(inputs["all"])])
        n = frame.height
        order = np.random.default_rng(self.split_seed).permutation(n)
        cuts = np.floor(np.cumsum(self.split_fractions) * n + 1e-9).astype(int)
        bounds = [0, *cuts[:2].tolist(), n]
        return {
            split: [frame[np.sort(order[bounds[i] : bounds[i + 1]])]]
            for i, split in enumerate(SPLITS)
            if bounds[i + 1] > bounds[i]
        }

    def _write_entry(self, tmp: Path, inputs: dict[str, list[Path]], description: dict[str, Any]) -> None:
        frames = self._split_frames(inputs)
        for split, parts in frames.items():
            if sum(f.height for f in parts) == 0:
                files = ", ".join(str(p) for p in inputs.get(split, inputs.get("all", [])))
                raise DataError(f"the {split} split has no rows", file=files)
        if "train" not in frames:
            raise DataError("the train split has no rows", file=str(self.path))
        vocabulary = fit_vocabulary(frames["train"], self.schema)
        rows = {}
        for split, parts in frames.items():
            arrays = encode(parts, self.schema, vocabulary)
            cache.save_split(tmp / split, arrays)
            rows[split] = len(arrays)
        cache.write_json(tmp / "vocabulary.json", vocabulary.to_dict())
        cache.write_json(
            tmp / "meta.json",
            {
                "description": description,
                "rows": rows,
                "field_dims": vocabulary.sizes,
                "num_numeric": len(self.schema.numeric),
                "positive_rate": {
                    s: float(np.mean(np.load(tmp / s / "labels.npy"))) for s in rows
                },
            },
        )

    # ----------------------------------------------------------------- Lightning hooks
    def prepare_data(self) -> None:
        """Encode into the cache (runs on one process per node under DDP)."""
        _ = self.entry

    def setup(self, stage: str | None = None) -> None:
        """Memory-map the encoded splits (every rank)."""
        for split in SPLITS:
            if split not in self.splits and (self.entry / split).is_dir():
                self.splits[split] = cache.load_split(self.entry / split)
        if stage == "predict" and "predict" not in self.splits:
            self.splits["predict"] = self.encode_rows(self.predict_path)

    def encode_rows(self, pattern: str | None) -> EncodedArrays:
        """Encode other raw rows (label optional) with the fitted vocabulary."""
        if pattern is None:
            raise DataError("data.predict_path: expected the rows to score")
        paths = expand_paths(pattern)
        frames = [f for _, f in self._read(paths, require_label=False, file_format=self.predict_file_format)]
        return encode(frames, self.schema, self.vocabulary)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.splits:
            raise DataError(f"data: no {split} split is configured ({split}_path or path)")
        arrays = self.splits[split]
        trainer = self.trainer
        sampler = BatchIndexSampler(
            len(arrays),
            self.batch_size if shuffle else self.eval_batch_size,
            shuffle=shuffle,
            seed=self.shuffle_seed,
            num_replicas=trainer.world_size if trainer is not None else 1,
            rank=trainer.global_rank if trainer is not None else 0,
        )
        return DataLoader(
            EncodedSplit(arrays),
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
