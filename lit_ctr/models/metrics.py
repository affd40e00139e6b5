"""The metrics every CTR model reports: exact AUC and mean logloss, one collection per stage;
with sample weights (``schema.weight``) also their weighted forms, and the weighted loss."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import MeanMetric, Metric, MetricCollection
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


def ctr_loss(logits: Tensor, labels: Tensor, weights: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of ``logits [batch]``: the mean, or with sample ``weights
    [batch]`` the weighted mean ``Σ w_i ℓ_i / Σ w_i`` (0 for a batch whose weights are all 0)."""
    if weights is None:
        return F.binary_cross_entropy_with_logits(logits, labels)
    losses = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    weights = weights.to(losses.dtype)
    return (losses * weights).sum() / weights.sum().clamp(min=torch.finfo(losses.dtype).tiny)


class WeightedAUC(Metric):
    """Exact ROC AUC with sample weights: the weighted share of (positive, negative) pairs
    ranked right, ``Σ w_p w_n ([s_p > s_n] + ½[s_p = s_n]) / (Σ w_p · Σ w_n)``; NaN when
    either class has no weight. ``update(scores [batch], labels [batch], weights [batch])``."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("scores", default=[], dist_reduce_fx="cat")
        self.add_state("labels", default=[], dist_reduce_fx="cat")
        self.add_state("weights", default=[], dist_reduce_fx="cat")

    def update(self, scores: Tensor, labels: Tensor, weights: Tensor) -> None:
        for name, value in (("scores", scores), ("labels", labels), ("weights", weights)):
            getattr(self, name).append(value.detach().double().reshape(-1))

    def compute(self) -> Tensor:
        scores, labels, weights = (_cat(getattr(self, name)) for name in ("scores", "labels", "weights"))
        return weighted_auc(scores, labels, weights)


def _cat(state: Any) -> Tensor:
    """A list-of-batches state (one process) or a tensor (synced across processes) as one tensor."""
    return dim_zero_cat(state) if len(state) else torch.zeros(0, dtype=torch.float64)


def weighted_auc(scores: Tensor, labels: Tensor, weights: Tensor) -> Tensor:
    """The exact weighted AUC of :class:`WeightedAUC` (ties count half)."""
    positive = weights * labels
    negative = weights * (1 - labels)
    total_positive, total_negative = positive.sum(), negative.sum()
    if scores.numel() == 0 or total_positive <= 0 or total_negative <= 0:
        return torch.tensor(float("nan"))
    unique, group = torch.unique(scores, sorted=True, return_inverse=True)  # ascending scores
    positive_per = torch.zeros(len(unique), dtype=weights.dtype).scatter_add_(0, group, positive)
    negative_per = torch.zeros(len(unique), dtype=weights.dtype).scatter_add_(0, group, negative)
    negative_below = torch.cumsum(negative_per, 0) - negative_per
    pairs = (positive_per * (negative_below + 0.5 * negative_per)).sum()
    return (pairs / (total_positive * total_negative)).float()


class WeightedMeanLogLoss(MeanMetric):
    """Weighted mean binary cross-entropy ``Σ w ℓ / Σ w``; ``update(logits, labels, weights)``."""

    def update(self, preds: Tensor, target: Tensor, weight: Tensor) -> None:  # type: ignore[override]
        losses = F.binary_cross_entropy_with_logits(preds.float(), target.float(), reduction="none")
        super().update(losses, weight.float())


def weighted_ctr_metrics(prefix: str) -> MetricCollection:
    """``{prefix}weighted_auc`` and ``{prefix}weighted_logloss``, updated with ``(logits, labels, weights)``."""
    collection = MetricCollection(
        {"weighted_auc": WeightedAUC(), "weighted_logloss": WeightedMeanLogLoss()}, compute_groups=False
    )
    return collection.clone(prefix=prefix)
