"""The synthetic data's files: one raw file per split plus a ``synthetic.json`` manifest,
written atomically and reused when an identical data set is already there."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from lit_ctr.data.files import write_directory
from lit_ctr.data.progress import Progress
from lit_ctr.data.splits import check_fractions
from lit_ctr.synthetic.generator import (
    DEFAULT_SPLITS,
    SyntheticSpec,
    bayes_optimal_auc,
    generate_frame,
    spec_description,
)

log = logging.getLogger("lit_ctr")

FileFormat = Literal["tsv", "csv", "parquet"]
WRITE_ROWS = 500_000
"""Rows formatted and appended at a time when writing CSV/TSV (the output is the same
for any value); between slices a progress line is logged every ``PROGRESS_SECONDS``."""
MANIFEST_NAME = "synthetic.json"
_SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]+")


def write_synthetic(
    directory: str | Path,
    spec: SyntheticSpec,
    *,
    splits: Mapping[str, float] = DEFAULT_SPLITS,
    file_format: FileFormat = "tsv",
) -> dict[str, Path]:
    """Write one ``{split}.{file_format}`` file per split into ``directory``; return their paths.

    Rows are split in order by the given fractions (they are i.i.d.). TSV follows the
    Criteo raw layout: no header, tab-separated, empty cells for missing values. CSV has
    a header; both print counts as integers. ``synthetic.json`` records the spec, splits,
    format and each split's row count, positive rate and Bayes AUC.

    The dataset is written into a temporary directory beside ``directory`` and renamed
    into place, so an interrupted run never leaves a complete-looking dataset. If
    ``directory`` already holds a dataset written with the same spec, splits and format,
    it is reused without regenerating. A non-empty ``directory`` without
    ``synthetic.json`` is refused rather than overwritten.
    """
    spec.validate()
    _validate_splits(splits)
    if file_format not in ("tsv", "csv", "parquet"):
        raise ValueError(f"file_format must be one of 'tsv', 'csv', 'parquet', got {file_format!r}")
    ends = _split_ends(spec.rows, splits)
    target = Path(directory)
    request = _normalized({"spec": spec_description(spec), "splits": dict(splits), "file_format": file_format})
    paths = {name: target / f"{name}.{file_format}" for name in splits}
    if _is_existing_dataset(target, request, paths):
        return paths
    if target.exists() and any(target.iterdir()) and not (target / MANIFEST_NAME).exists():
        raise FileExistsError(f"{target} is not empty and holds no {MANIFEST_NAME}; refusing to replace it")
    start = time.perf_counter()
    frame, truth = generate_frame(spec)
    log.info(
        "lit-ctr: drew %d synthetic rows in %.1f s; writing them as %s",
        spec.rows,
        time.perf_counter() - start,
        file_format,
    )

    def write(staging: Path) -> None:
        stats = _write_splits(frame, truth.probabilities, staging, ends, file_format)
        # The manifest goes last: a directory holding one is complete.
        (staging / MANIFEST_NAME).write_text(json.dumps({**request, "stats": stats}, indent=2) + "\n")

    write_directory(target, write, replace=True)
    return paths


def _validate_splits(splits: Mapping[str, float]) -> None:
    check_fractions(splits, "splits", empty_ok=False)
    for name in splits:
        if not _SPLIT_NAME.fullmatch(name):
            raise ValueError(f"splits: name {name!r} must be letters, digits, '_' or '-'")


def _split_ends(rows: int, splits: Mapping[str, float]) -> dict[str, int]:
    """End row (exclusive) of each split, taken in order; every split must get a row."""
    ends = [round(rows * fraction) for fraction in np.cumsum(list(splits.values()))]
    ends[-1] = rows  # absorb rounding
    for name, start, end in zip(splits, [0, *ends[:-1]], ends, strict=True):
        if end <= start:
            raise ValueError(f"splits[{name!r}] gets no rows out of {rows}; use more rows or a larger fraction")
    return dict(zip(splits, ends, strict=True))


def _normalized(value: dict[str, Any]) -> dict[str, Any]:
    """The value as it reads back from JSON, so requests compare equal to manifests."""
    return json.loads(json.dumps(value))


def _is_existing_dataset(target: Path, request: dict[str, Any], paths: dict[str, Path]) -> bool:
    manifest = target / MANIFEST_NAME
    if not manifest.is_file():
        return False
    try:
        recorded = json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return False  # ours but damaged: regenerate
    same = all(recorded.get(key) == value for key, value in request.items())
    return same and all(path.is_file() for path in paths.values())


def _write_splits(
    frame: pl.DataFrame,
    probabilities: np.ndarray,
    directory: Path,
    ends: dict[str, int],
    file_format: FileFormat,
) -> dict[str, dict[str, Any]]:
    """Write each split's rows; return its file name, row count, positive rate and Bayes AUC."""
    stats = {}
    start = 0
    progress = Progress(frame.height)
    for name, end in ends.items():
        part = frame.slice(start, end - start)
        file_name = f"{name}.{file_format}"
        _write_frame(part, directory / file_name, file_format, progress, start)
        auc = bayes_optimal_auc(probabilities[start:end])
        stats[name] = {
            "file": file_name,
            "rows": part.height,
            "positive_rate": float(part["label"].cast(pl.Float64).mean() or 0.0),
            "bayes_auc": None if math.isnan(auc) else auc,
        }
        start = end
    return stats


def _write_frame(
    frame: pl.DataFrame, path: Path, file_format: FileFormat, progress: Progress | None = None, before: int = 0
) -> None:
    """Write one split's rows; CSV/TSV in slices of ``WRITE_ROWS`` rows, with a progress
    line (rows written of all splits' ``progress.total``, ``before`` of them in earlier
    splits, and an ETA) when one is due."""
    if file_format == "parquet":
        frame.write_parquet(path)
        return
    # Counts print as integers ("3", not "3.0"), as in the Criteo files.
    counts = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    text = frame.with_columns(pl.col(counts).cast(pl.Int64))
    tsv = file_format == "tsv"
    with open(path, "wb") as handle:
        for offset in range(0, max(text.height, 1), WRITE_ROWS):
            text.slice(offset, WRITE_ROWS).write_csv(
                handle, separator="\t" if tsv else ",", include_header=not tsv and offset == 0, null_value=""
            )
            written = before + min(offset + WRITE_ROWS, text.height)
            if progress is not None and progress.due():
                log.info(
                    "lit-ctr: writing synthetic rows: %d of %d (%s)",
                    written,
                    int(progress.total),
                    progress.share(written),
                )
