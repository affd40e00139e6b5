"""Test-time plots: ROC curve, calibration (reliability) plot, predicted probabilities by label.

:class:`EvaluationPlots` collects the test probabilities and labels, and at the end of
``lit-ctr test`` always writes ``roc.png``, ``calibration.png`` and ``probabilities.png``
into the run's log directory; with a W&B logger it also logs them as images
(``test/roc``, ``test/calibration``, ``test/probabilities``) and an interactive ROC line
chart (``test/roc_curve``). The plotting functions take plain arrays and work on their own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torchmetrics.functional.classification import binary_auroc, binary_calibration_error, binary_roc

from lit_ctr.callbacks._common import run_directory, wandb_loggers

log = logging.getLogger("lit_ctr")

PLOT_FILES = {"roc": "roc.png", "calibration": "calibration.png", "probabilities": "probabilities.png"}


class EvaluationPlots(Callback):
    """Plots the test split's predictions at the end of ``lit-ctr test``.

    Probabilities come from the test step's output when it returns them (a tensor, or a
    dict with ``probabilities``), otherwise from one more forward pass over the batch's
    ``ids`` and ``numeric`` (CTRModule's test step returns nothing). Under several
    processes the predictions of every rank are gathered to rank 0, which draws.

    Args:
        bins: equal-width probability bins of the calibration plot.
        output_dir: where the PNG files go (default: the run's log directory).
        max_curve_points: points of the interactive W&B ROC chart.
    """

    def __init__(self, bins: int = 10, output_dir: str | None = None, max_curve_points: int = 200) -> None:
        self.bins = bins
        self.output_dir = output_dir
        self.max_curve_points = max_curve_points
        self.files: dict[str, Path] = {}
        self._probabilities: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []

    def on_test_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._probabilities, self._labels = [], []

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(batch, dict) or "label" not in batch:
            return
        probabilities = outputs.get("probabilities") if isinstance(outputs, dict) else outputs
        if not isinstance(probabilities, torch.Tensor):
            with torch.no_grad():
                probabilities = torch.sigmoid(pl_module(batch["ids"], batch["numeric"]).float())
        self._probabilities.append(probabilities.detach().reshape(-1).float().cpu())
        self._labels.append(batch["label"].detach().reshape(-1).float().cpu())

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        probabilities = torch.cat(self._probabilities).numpy() if self._probabilities else np.zeros(0, np.float32)
        labels = torch.cat(self._labels).numpy() if self._labels else np.zeros(0, np.float32)
        self._probabilities, self._labels = [], []
        if trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            parts: list[Any] = [None] * trainer.world_size
            torch.distributed.all_gather_object(parts, (probabilities, labels))
            probabilities = np.concatenate([p for p, _ in parts])
            labels = np.concatenate([y for _, y in parts])
        if not trainer.is_global_zero or len(labels) == 0:
            return
        directory = Path(self.output_dir or run_directory(trainer))
        self.files = write_plots(probabilities, labels, directory, bins=self.bins)
        log.info("lit-ctr: wrote %s", ", ".join(str(p) for p in self.files.values()))
        for logger in wandb_loggers(trainer):
            _log_to_wandb(logger, self.files, probabilities, labels, trainer.global_step, self.max_curve_points)


def _log_to_wandb(
    logger: Any, files: dict[str, Path], probabilities: np.ndarray, labels: np.ndarray, step: int, points: int
) -> None:
    import wandb

    fpr, tpr, _ = roc_curve(probabilities, labels)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(points, len(fpr))).round().astype(int))
    table = wandb.Table(
        columns=["false positive rate", "true positive rate"], data=np.stack([fpr[keep], tpr[keep]], 1).tolist()
    )
    payload: dict[str, Any] = {f"test/{name}": wandb.Image(str(path)) for name, path in files.items()}
    payload["test/roc_curve"] = wandb.plot.line(table, "false positive rate", "true positive rate", title="ROC (test)")
    payload["trainer/global_step"] = step
    logger.experiment.log(payload)


# --------------------------------------------------------------------------- numbers


def roc_curve(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates at every distinct threshold, and the exact AUC
    (torchmetrics' ``binary_roc`` and ``binary_auroc``).

    Rates start at (0, 0) and end at (1, 1); AUC is NaN when a label is absent.
    """
    p = torch.as_tensor(np.asarray(probabilities, dtype=np.float64).reshape(-1))
    y = torch.as_tensor(np.asarray(labels).reshape(-1)).long()
    if len(y) == 0 or bool(y.min() == y.max()):
        return np.array([0.0, 1.0]), np.array([0.0, 1.0]), float("nan")
    fpr, tpr, _ = binary_roc(p, y)
    return fpr.numpy(), tpr.numpy(), float(binary_auroc(p, y))


def calibration_bins(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> dict[str, np.ndarray | float]:
    """Per equal-width bin: mean predicted probability, observed click rate, row count;
    and torchmetrics' expected calibration error (``binary_calibration_error``, L1: the
    count-weighted mean gap).

    Rows fall into bins as torchmetrics bins them (``[lo, hi)``), except that a probability
    of exactly 1, a bin of its own there, is drawn in the last bin.
    """
    p = torch.as_tensor(np.asarray(probabilities, dtype=np.float64).reshape(-1))
    y = torch.as_tensor(np.asarray(labels, dtype=np.float64).reshape(-1))
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    index = (torch.bucketize(p, edges, right=True) - 1).clamp(0, bins - 1)
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, torch.ones_like(p))
    predicted = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, p) / counts  # NaN where empty
    observed = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, y) / counts
    ece = float(binary_calibration_error(p, y.long(), n_bins=bins, norm="l1")) if len(p) else 0.0
    return {
        "edges": edges.numpy(),
        "predicted": predicted.numpy(),
        "observed": observed.numpy(),
        "counts": counts.numpy(),
        "ece": ece,
    }


# --------------------------------------------------------------------------- figures


def _figure(rows: int = 1, height_ratios: list[int] | None = None) -> tuple[Any, Any]:
    # The object API with the Agg canvas: no pyplot state, no display, any thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 5.5 if rows == 1 else 6.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(
        rows, 1, sharex=rows > 1, gridspec_kw={"height_ratios": height_ratios} if height_ratios else None
    )
    return figure, axes


def plot_roc(probabilities: np.ndarray, labels: np.ndarray, path: str | Path) -> float:
    """Write the ROC curve to ``path``; returns the AUC."""
    fpr, tpr, auc = roc_curve(probabilities, labels)
    figure, ax = _figure()
    ax.plot(fpr, tpr, color="C0", lw=2, label=f"model (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="chance (AUC = 0.5)")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate")
    ax.set_title(f"ROC curve — test split, {len(labels):,} rows")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    figure.savefig(path, dpi=110)
    return auc


def plot_calibration(probabilities: np.ndarray, labels: np.ndarray, path: str | Path, bins: int = 10) -> float:
    """Write the reliability diagram (observed click rate per predicted-probability bin,
    with the bins' row counts below) to ``path``; returns the expected calibration error."""
    stats = calibration_bins(probabilities, labels, bins)
    figure, (ax, ax_counts) = _figure(rows=2, height_ratios=[3, 1])
    filled = stats["counts"] > 0
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfectly calibrated")
    ax.plot(stats["predicted"][filled], stats["observed"][filled], "o-", color="C1", lw=2, label="model")
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel="observed click rate")
    ax.set_title(f"Calibration — test split (ECE = {stats['ece']:.4f}, {bins} bins)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    edges = stats["edges"]
    ax_counts.bar(
        edges[:-1], stats["counts"], width=np.diff(edges), align="edge", color="C1", alpha=0.6, edgecolor="white"
    )
    ax_counts.set(xlim=(0, 1), xlabel="predicted probability", ylabel="rows")
    ax_counts.grid(alpha=0.3)
    figure.savefig(path, dpi=110)
    return float(stats["ece"])


def plot_probabilities(probabilities: np.ndarray, labels: np.ndarray, path: str | Path, bins: int = 50) -> None:
    """Write histograms of the predicted probability for clicked and not-clicked rows to ``path``."""
    p = np.asarray(probabilities).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    figure, ax = _figure()
    edges = np.linspace(0, 1, bins + 1)
    for value, colour, name in ((0, "C0", "label 0 (no click)"), (1, "C3", "label 1 (click)")):
        part = p[y == value]
        if len(part):
            ax.hist(part, bins=edges, density=True, alpha=0.55, color=colour, label=f"{name}: {len(part):,} rows")
    ax.set(xlim=(0, 1), xlabel="predicted probability", ylabel="density (log scale)")
    ax.set_yscale("log")  # click models pile rows up near 0 (and 1): keep the middle visible
    ax.set_title("Predicted probabilities by label — test split")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center")
    figure.savefig(path, dpi=110)


def write_plots(
    probabilities: np.ndarray, labels: np.ndarray, directory: str | Path, bins: int = 10
) -> dict[str, Path]:
    """Write ``roc.png``, ``calibration.png`` and ``probabilities.png`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {name: directory / filename for name, filename in PLOT_FILES.items()}
    plot_roc(probabilities, labels, files["roc"])
    plot_calibration(probabilities, labels, files["calibration"], bins=bins)
    plot_probabilities(probabilities, labels, files["probabilities"])
    return files
