"""The metrics every CTR model reports: exact AUC and mean logloss, one collection per stage."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import BinaryAUROC
from torchmetrics.utilities import dim_zero_cat


class BinaryAUC(BinaryAUROC):
    """Exact ROC AUC (no thresholds binning) that is NaN when the labels hold one class.

    torchmetrics returns 0.0 there, which reads as a model that ranks every click last;
    the AUC is undefined, and a NaN is not mistaken for a result (issue 12). ``update``
    takes logits or probabilities ``[batch]`` (the AUC depends on their order only) and
    labels ``[batch]``.
    """

    def __init__(self) -> None:
        super().__init__(thresholds=None)

    def compute(self) -> Tensor:  # type: ignore[override]  # BinaryAUROC's own compute returns a Tensor too
        # A list of batches in one process; one tensor once synced across processes (DDP).
        state: Tensor | list[Tensor] = self.target
        target = (dim_zero_cat(state) if state else torch.zeros(0)) if isinstance(state, list) else state
        if target.numel() == 0 or bool(target.min() == target.max()):
            return torch.tensor(float("nan"))
        return super().compute()


class MeanLogLoss(MeanMetric):
    """Mean binary cross-entropy over rows; ``update(logits [batch], labels [batch])``."""

    def update(self, preds: Tensor, target: Tensor) -> None:  # type: ignore[override]
        super().update(F.binary_cross_entropy_with_logits(preds.float(), target.float(), reduction="none"))


def ctr_metrics(prefix: str) -> MetricCollection:
    """``{prefix}auc`` and ``{prefix}logloss``, updated with ``(logits, labels)``.

    One definition cloned per stage (``val/``, ``test/``, FNN's ``fm/val/``)."""
    collection = MetricCollection({"auc": BinaryAUC(), "logloss": MeanLogLoss()}, compute_groups=False)
    return collection.clone(prefix=prefix)
