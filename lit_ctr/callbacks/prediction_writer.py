"""Writes ``lit-ctr predict`` probabilities to a CSV or Parquet file, in input row order."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import polars as pl
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter

log = logging.getLogger("lit_ctr")


class PredictionWriter(BasePredictionWriter):
    """Collects ``predict_step`` outputs and writes one ``probability`` column.

    Args:
        output: the file to write; ``.parquet`` writes Parquet, anything else CSV.
            Default: ``predictions.csv`` in the run's log directory.
    """

    def __init__(self, output: str | None = None) -> None:
        super().__init__(write_interval="epoch")
        self.output = output

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
        probabilities = torch.cat([p.reshape(-1) for p in batches]).float().numpy() if batches else []
        target = Path(self.output or os.path.join(trainer.log_dir or ".", "predictions.csv"))
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame({"probability": probabilities})
        tmp = target.with_name(f".{target.name}.tmp")
        if target.suffix.lower() == ".parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_csv(tmp)
        os.replace(tmp, target)  # never leave a half-written predictions file
        log.info("lit-ctr: wrote %d predictions to %s", frame.height, target)
