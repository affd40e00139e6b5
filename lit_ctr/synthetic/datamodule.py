"""``SyntheticCTRDataModule``: the embedded default data set, generated on first use."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Literal

from lit_ctr.data.datamodule import CTRDataModule
from lit_ctr.data.schema import Field, FileFormat, Schema
from lit_ctr.synthetic.files import MANIFEST_NAME, write_synthetic
from lit_ctr.synthetic.generator import SyntheticSpec, criteo_like_cardinalities, spec_description

log = logging.getLogger("lit_ctr")


class SyntheticCTRDataModule(CTRDataModule):
    """Criteo-shaped rows whose labels come from a planted FM (see :mod:`lit_ctr.synthetic.generator`).

    The rows are written once as raw TSV files (label, ``I1..In``, ``C1..Cm``, no header)
    under ``data_dir`` and then read through the same reader, vocabulary and cache path
    as any user file. ``bayes_auc`` reports the best AUC any model can reach on each split.

    Args:
        rows: rows generated in all (split 80/10/10 into train/valid/test).
        numeric_fields: number of numeric fields ``I1..In``.
        categorical_fields: number of categorical fields ``C1..Cm``.
        max_cardinality: ids in the largest categorical field (Criteo-like spread below).
        latent_dim: rank of the planted FM.
        zipf_exponent: id popularity skew within a field.
        missing_rate: fraction of empty cells.
        seed: seed of the planted model and the rows.
        numeric_transform: how the numeric fields are fed: ``log1p``, ``none`` or
            ``bucketize`` (Criteo's log² buckets, as categorical fields).
        data_dir: where the generated files are kept.
        cache_dir: where encoded arrays are kept.
        batch_size: rows per training batch.
        eval_batch_size: rows per evaluation batch (default 4 × batch_size).
        shuffle_seed: seed of the per-epoch training order (default: ``seed_everything``'s,
            see :class:`~lit_ctr.data.CTRDataModule`).
        num_workers: DataLoader worker processes.
        preprocessing_from: a checkpoint whose schema and vocabulary are used instead of
            fitting them (see :class:`~lit_ctr.data.CTRDataModule`).
        multi_cardinalities: values of each planted multi-valued field ``M1..Mj``
            (``kind: multi``, ``|``-separated, mean-pooled in the planted FM).
        multi_mean_lengths: mean values per row of each multi field (default 5 each).
        multi_max_len: the multi fields' ``max_len``.
        hash_buckets: categorical and multi fields with more values than this are read as
            hashed fields (``hash_buckets``) of this many buckets.
        use_multi_fields: whether the model sees the multi fields (false: they are left out
            of the schema while the labels still depend on them, for with/without comparisons).
        multi_value_weights: whether each multi value carries a planted weight
            (``token:weight``, read with ``value_weights: true``; see
            :class:`~lit_ctr.synthetic.SyntheticSpec`).
    """

    def __init__(
        self,
        rows: int = 100_000,
        numeric_fields: int = 13,
        categorical_fields: int = 26,
        max_cardinality: int = 30,
        latent_dim: int = 4,
        zipf_exponent: float = 1.1,
        missing_rate: float = 0.02,
        seed: int = 0,
        numeric_transform: Literal["none", "log1p", "bucketize"] = "log1p",
        data_dir: str = ".lit_ctr_cache/synthetic",
        cache_dir: str = ".lit_ctr_cache",
        batch_size: int = 4096,
        eval_batch_size: int | None = None,
        shuffle_seed: int | None = None,
        num_workers: int = 0,
        preprocessing_from: str | None = None,
        multi_cardinalities: list[int] | None = None,
        multi_mean_lengths: list[float] | None = None,
        multi_max_len: int = 20,
        hash_buckets: int | None = None,
        use_multi_fields: bool = True,
        multi_value_weights: bool = False,
    ) -> None:
        self.spec = SyntheticSpec(
            rows=rows,
            num_numeric=numeric_fields,
            cardinalities=criteo_like_cardinalities(categorical_fields, max_cardinality),
            latent_dim=latent_dim,
            zipf_exponent=zipf_exponent,
            missing_rate=missing_rate,
            seed=seed,
            multi_cardinalities=list(multi_cardinalities or []),
            multi_mean_lengths=multi_mean_lengths,
            multi_value_weights=multi_value_weights,
        )
        described = spec_description(self.spec)
        if not self.spec.multi_cardinalities:  # specs without multi fields keep their folders
            del described["multi_cardinalities"], described["multi_mean_lengths"]
        digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:12]
        self.data_dir = Path(data_dir) / f"rows{rows}-{digest}"

        def hashed(cardinality: int) -> int | None:
            return hash_buckets if hash_buckets is not None and cardinality > hash_buckets else None

        multi = [
            Field(
                f"M{j + 1}",
                kind="multi",
                max_len=multi_max_len,
                hash_buckets=hashed(c),
                value_weights=multi_value_weights,
            )
            for j, c in enumerate(self.spec.multi_cardinalities)
        ]
        schema = Schema(
            fields=[Field(f"I{i + 1}", kind="numeric", transform=numeric_transform) for i in range(numeric_fields)]
            + [Field(f"C{i + 1}", hash_buckets=hashed(c)) for i, c in enumerate(self.spec.cardinalities)]
            + (multi if use_multi_fields else []),
            label="label",
        )
        super().__init__(
            schema=schema,
            train_path=str(self.data_dir / "train.tsv"),
            valid_path=str(self.data_dir / "valid.tsv"),
            test_path=str(self.data_dir / "test.tsv"),
            file_format=FileFormat(
                kind="tsv",
                has_header=False,
                # every column the files hold (the multi fields may be left out of the schema)
                columns=["label", *(f"I{i + 1}" for i in range(numeric_fields))]
                + [f"C{i + 1}" for i in range(categorical_fields)]
                + [f"M{j + 1}" for j in range(len(self.spec.multi_cardinalities))]
                if self.spec.multi_cardinalities
                else None,
            ),
            cache_dir=cache_dir,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            shuffle_seed=shuffle_seed,
            num_workers=num_workers,
            preprocessing_from=preprocessing_from,
        )

    def generate(self) -> None:
        """Write the raw files unless an identical data set is already there."""
        if not (self.data_dir / MANIFEST_NAME).exists():
            log.info("lit-ctr: generating %d synthetic rows into %s", self.spec.rows, self.data_dir)
        write_synthetic(self.data_dir, self.spec, file_format="tsv")

    @property
    def bayes_auc(self) -> dict[str, float]:
        """Bayes-optimal AUC of the planted model on each split."""
        self.generate()
        stats = json.loads((self.data_dir / MANIFEST_NAME).read_text())["stats"]
        return {split: float(s["bayes_auc"]) for split, s in stats.items()}

    def prepare_inputs(self) -> None:
        """Generate the files before the pipeline reads them."""
        self.generate()
