"""Validation, test and prediction steps: one metric collection per stage."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lit_ctr.models.metrics import ctr_metrics, weighted_ctr_metrics


class Evaluation:
    """Mixin of :class:`~lit_ctr.models.CTRModule`: exact AUC and logloss per stage
    (``val/auc``, ``test/logloss``, ...), and, for data with sample weights
    (``schema.weight``), their weighted forms next to them; click probabilities in predict."""

    metric_prefix = ""  # of every metric name: "" logs train/loss, val/auc, ...
    log_dict: Any

    def set_metrics(self) -> None:
        """One collection per stage, so validation never mixes into test."""
        self.val_metrics = ctr_metrics(f"{self.metric_prefix}val/")
        self.test_metrics = ctr_metrics(f"{self.metric_prefix}test/")
        self.val_weighted_metrics = weighted_ctr_metrics(f"{self.metric_prefix}val/")
        self.test_weighted_metrics = weighted_ctr_metrics(f"{self.metric_prefix}test/")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_metrics, self.val_weighted_metrics)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_metrics, self.test_weighted_metrics)

    def _evaluate(self, batch: dict[str, Tensor], metrics: Any, weighted: Any = None) -> None:
        logits = self(batch["ids"], batch["numeric"]).float()  # type: ignore[operator]
        metrics.update(logits, batch["label"])
        self.log_dict(metrics, prog_bar=True)
        if weighted is not None and "weight" in batch:
            weighted.update(logits, batch["label"], batch["weight"])
            self.log_dict(weighted)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int, dataloader_idx: int = 0) -> Tensor:
        """Click probabilities ``[batch]``."""
        return torch.sigmoid(self(batch["ids"], batch["numeric"]).float())  # type: ignore[operator]
