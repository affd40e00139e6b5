"""Writes ``lit-ctr predict`` probabilities to a CSV or Parquet file, in input row order,
with the input columns the user wants beside them (an id)."""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter

from lit_ctr.callbacks._common import run_directory
from lit_ctr.data.errors import DataError
from lit_ctr.data.readers import has_header as file_has_header

log = logging.getLogger("lit_ctr")

_DELIMITED = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet"}


class PredictionWriter(BasePredictionWriter):
    """Collects ``predict_step`` outputs and writes a ``probability`` column, after the
    ``keep_columns`` of the predict file, one row per input row in input order. A predict
    file without rows gives an output file with the columns and no rows.

    Args:
        output: the file to write; ``.parquet`` writes Parquet, anything else CSV.
            Default: ``predictions.csv`` in the run's folder (with a fit's checkpoint,
            that fit's run folder: the one holding its ``checkpoints/``).
        keep_columns: columns of ``data.predict_path`` copied into the output as they are
            in the file (e.g. ``[id]``: CSV/TSV values as written, Parquet values typed).
    """

    def __init__(self, output: str | None = None, keep_columns: list[str] | None = None) -> None:
        super().__init__(write_interval="epoch")
        if keep_columns is not None and (
            not isinstance(keep_columns, (list, tuple)) or not all(isinstance(c, str) and c for c in keep_columns)
        ):
            raise DataError(f"predictions.keep_columns: expected a list of column names, got {keep_columns!r}")
        self.output = output
        self.keep_columns = list(keep_columns or [])
        self._written = False

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._written = False
        if stage == "predict" and self.keep_columns:
            self._kept(trainer, rows=0)  # a column the file lacks is an error before any scoring

    def write_on_epoch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        predictions: Any,
        batch_indices: Any,
    ) -> None:
        if trainer.world_size > 1:
            raise RuntimeError("lit-ctr predict runs in one process; drop --trainer.devices/strategy")
        batches = predictions[0] if predictions and isinstance(predictions[0], list) else predictions
        probabilities = torch.cat([p.reshape(-1) for p in batches]).float().numpy() if batches else np.zeros(0)
        self._write(trainer, probabilities)

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        # Lightning skips the epoch hooks of a predict loop without batches: still write the
        # (empty) file, so that a pipeline reading it finds the columns it expects.
        if stage == "predict" and not self._written:
            self._write(trainer, np.zeros(0, dtype=np.float32))

    def _write(self, trainer: Trainer, probabilities: np.ndarray) -> None:
        target = Path(self.output or os.path.join(run_directory(trainer), "predictions.csv"))
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame({"probability": pl.Series(probabilities, dtype=pl.Float32)})
        if self.keep_columns:
            frame = pl.concat([self._kept(trainer, rows=len(probabilities)), frame], how="horizontal")
        tmp = target.with_name(f".{target.name}.tmp")
        if target.suffix.lower() == ".parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_csv(tmp)
        os.replace(tmp, target)  # never leave a half-written predictions file
        self._written = True
        log.info("lit-ctr: wrote %d predictions to %s", frame.height, target)

    def _kept(self, trainer: Trainer, rows: int) -> pl.DataFrame:
        """The ``keep_columns`` of the predict file(s), in row order (only the header when
        ``rows`` is 0); read here with polars, apart from the data module's encoding."""
        datamodule = getattr(trainer, "datamodule", None)
        pattern = getattr(datamodule, "predict_path", None)
        if not pattern:
            raise DataError("predictions.keep_columns: needs data.predict_path (the file whose columns to keep)")
        fmt = getattr(datamodule, "predict_file_format", None) or getattr(datamodule, "file_format", None)
        schema = getattr(datamodule, "schema", None)
        files = sorted(glob.glob(str(pattern), recursive=True)) if glob.has_magic(str(pattern)) else [str(pattern)]
        frames = [self._read(Path(f), fmt, schema, header_only=rows == 0) for f in files]
        kept = pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys(self.keep_columns, pl.String))
        if rows and kept.height != rows:
            raise DataError(
                f"predictions.keep_columns: the file has {kept.height} rows and {rows} were scored "
                "(blank lines?); remove blank lines to keep columns",
                file=str(pattern),
            )
        return kept

    def _read(self, file: Path, fmt: Any, schema: Any, header_only: bool) -> pl.DataFrame:
        kind = getattr(fmt, "kind", "auto")
        kind = _DELIMITED.get(file.suffix.lower(), "") if kind == "auto" else kind
        if kind == "parquet":
            available = pl.scan_parquet(file).collect_schema().names()
            self._check(available, file)
            query = pl.scan_parquet(file).select(self.keep_columns)
            return (query.head(0) if header_only else query).collect()
        if kind not in ("csv", "tsv"):
            raise DataError(f"predictions.keep_columns: reads CSV, TSV or Parquet files, not {kind or file.suffix}")
        separator = getattr(fmt, "separator", None) or ("\t" if kind == "tsv" else ",")
        has_header = getattr(fmt, "has_header", None)
        if has_header == "auto" and schema is not None:  # the data module's rule (lit_ctr.data.readers)
            has_header = file_has_header(file, schema, fmt, kind)
        has_header = kind == "csv" if has_header is None else has_header
        names = None
        if not has_header:
            names = getattr(fmt, "columns", None)
            if names is None and schema is not None:
                width = pl.read_csv(file, has_header=False, separator=separator, n_rows=1, infer_schema=False).width
                fields = [f.name for f in schema.fields]
                names = fields if width == len(fields) else [schema.label, *fields]
        try:
            frame = pl.read_csv(
                file,
                has_header=has_header,
                separator=separator,
                new_columns=names,
                infer_schema=False,  # ids stay as written ("007")
                null_values=list(getattr(fmt, "null_values", None) or []) or None,
                n_rows=0 if header_only else None,
                raise_if_empty=False,
            )
        except pl.exceptions.PolarsError as exc:
            raise DataError(f"predictions.keep_columns: cannot read the file ({exc})", file=str(file)) from exc
        self._check(frame.columns, file)
        return frame.select(self.keep_columns)

    def _check(self, available: list[str], file: Path) -> None:
        missing = [c for c in self.keep_columns if c not in available]
        if missing:
            raise DataError(
                f"predictions.keep_columns: no column(s) {missing} in the file; its columns are {available}",
                file=str(file),
            )
