"""``CTRModule``: everything a CTR model shares, so a model file holds only its layers
and ``forward``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torchmetrics import MeanMetric
from torchmetrics.classification import BinaryAUROC

from lit_ctr.models.garbage_collection import freeze_for_fit, unfreeze_after_fit
from lit_ctr.models.optimizers import prefer_fused

CHECKPOINT_KEY = "lit_ctr"


class CTRModule(LightningModule):
    """Base of every lit-ctr model.

    It owns the hyper-parameters (saved as primitives, ``field_dims`` included, so
    ``load_from_checkpoint`` needs no datamodule), the loss (BCE with logits), exact
    validation/test AUC and logloss, the optimizer (injected as a callable), embedding
    and network L2, and ``predict_step`` (probabilities). Subclasses build their layers
    after ``super().__init__`` and implement ``forward(ids, numeric) -> logits [batch]``.

    Args:
        field_dims: ids per categorical field; linked from the datamodule by the CLI.
        num_numeric: number of numeric fields; linked from the datamodule by the CLI.
        embed_dim: size ``k`` of the feature vectors.
        embedding_l2: weight of the L2 penalty on the embedding rows (and first-order
            weights) each batch looks up, per sample.
        net_l2: weight of the L2 penalty on the weights of the network's Linear layers.
        optimizer: builds the optimizer from the parameters (default Adam, lr 1e-3).
            Adam and AdamW without ``foreach``/``fused`` set run torch's fused kernel
            (:func:`~lit_ctr.models.optimizers.prefer_fused`); ``fused: false`` opts out.
        sparse: make the embedding tables sparse (``nn.Embedding(sparse=True)``) so a step
            touches only the rows in the batch; they get ``sparse_optimizer`` and the
            rest gets ``optimizer`` (manual optimization with two optimizers).
        sparse_optimizer: builds the optimizer of the sparse tables (SparseAdam by
            default; Adagrad and SGD also take sparse gradients).
        lr_scheduler: builds a learning-rate schedule for each optimizer, stepped once an
            epoch; ``ReduceLROnPlateau`` (``mode: max``) watches ``val/auc``, or its
            ``monitor`` when it has one (``lightning.pytorch.cli.ReduceLROnPlateau``).
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        embedding_l2: float = 0.0,
        net_l2: float = 0.0,
        optimizer: OptimizerCallable = torch.optim.Adam,
        sparse: bool = False,
        sparse_optimizer: OptimizerCallable = torch.optim.SparseAdam,
        lr_scheduler: LRSchedulerCallable | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer", "sparse_optimizer", "lr_scheduler"])
        # Linked values must be written explicitly, or checkpoints may hold nulls.
        self.hparams["field_dims"] = [int(d) for d in field_dims]
        self.hparams["num_numeric"] = int(num_numeric)
        self.field_dims = self.hparams["field_dims"]
        self.num_numeric = self.hparams["num_numeric"]
        self.embed_dim = embed_dim
        self.embedding_l2 = embedding_l2
        self.net_l2 = net_l2
        self.optimizer_factory = optimizer
        self.sparse = sparse
        self.sparse_optimizer_factory = sparse_optimizer
        self.lr_scheduler_factory = lr_scheduler
        self._schedules: list[dict[str, Any]] = []
        # Two optimizers (sparse tables + dense rest) need manual optimization in Lightning 2.
        self.automatic_optimization = not sparse
        self.val_auc = BinaryAUROC()
        self.val_logloss = MeanMetric()
        self.test_auc = BinaryAUROC()
        self.test_logloss = MeanMetric()
        self.preprocessing: dict[str, Any] | None = None
        self._loss_windows: dict[str, tuple[Tensor, int]] = {}

    def __setattr__(self, name: str, value: Any) -> None:
        # Lightning names the running hook here around every hook call, about 40 times a
        # training step; nn.Module.__setattr__ would check each string for being a
        # parameter, module or buffer: a sixth of what the Trainer adds to a step
        # (bench/throughput/trainer_overhead.py --hook-overhead).
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [batch, F_cat]`` global ids, ``numeric [batch, F_num]`` → logits ``[batch]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(ids, numeric)")

    # ----------------------------------------------------------------- loss
    def regularization(self, ids: Tensor) -> Tensor:
        """Embedding L2 on the rows this batch used, plus network L2 on Linear weights."""
        penalty = torch.zeros((), device=ids.device)
        if self.embedding_l2:
            tables = [m for m in self.modules() if hasattr(m, "squared_norm") and m is not self]
            penalty = penalty + self.embedding_l2 * sum(m.squared_norm(ids) for m in tables)
        if self.net_l2:
            weights = [m.weight for m in self.modules() if isinstance(m, nn.Linear)]
            penalty = penalty + self.net_l2 * sum(w.pow(2).sum() for w in weights)
        return penalty

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        logits = self(batch["ids"], batch["numeric"]).float()
        loss = F.binary_cross_entropy_with_logits(logits, batch["label"])
        self.log_training_loss("train/loss", loss, rows=len(logits))
        objective = loss + self.regularization(batch["ids"])
        if not self.automatic_optimization:
            optimizers = self.optimizers()
            for optimizer in optimizers:
                optimizer.zero_grad()
            self.manual_backward(objective)
            for optimizer in optimizers:
                optimizer.step()
        return objective

    def log_training_loss(self, name: str, loss: Tensor, rows: int) -> None:
        """Log ``name`` as the mean ``loss`` over the batches since the loggers last got it.

        It is logged on the steps Lightning sends to the loggers (``log_every_n_steps``),
        so the curve covers every batch rather than one in ``log_every_n_steps``; when a
        progress bar is shown, the running mean is also logged on the steps between. Every
        ``self.log`` call has Lightning walk the logged metric's state, which runs without a
        bar are spared on the other steps. ``rows`` is the batch's size.
        """
        total, batches = self._loss_windows.get(name, (0.0, 0))
        total, batches = loss.detach() + total, batches + 1
        trainer = self._trainer
        to_loggers = trainer is None or _sends_to_loggers(trainer)
        if to_loggers or trainer.progress_bar_callback is not None:
            self.log(name, total / batches, prog_bar=True, batch_size=rows)
        if to_loggers:
            self._loss_windows.pop(name, None)
        else:
            self._loss_windows[name] = (total, batches)

    def on_train_start(self) -> None:
        self._loss_windows.clear()  # nothing carried over from an earlier fit

    def on_fit_start(self) -> None:
        freeze_for_fit()  # no full garbage collection in the middle of training steps

    def on_fit_end(self) -> None:
        unfreeze_after_fit()

    def _evaluate(self, batch: dict[str, Tensor], auc: BinaryAUROC, logloss: MeanMetric, stage: str) -> None:
        logits = self(batch["ids"], batch["numeric"]).float()
        labels = batch["label"]
        auc.update(torch.sigmoid(logits), labels.int())
        logloss.update(F.binary_cross_entropy_with_logits(logits, labels, reduction="none"))
        self.log(f"{stage}/auc", auc, prog_bar=True)
        self.log(f"{stage}/logloss", logloss, prog_bar=True)

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_auc, self.val_logloss, "val")

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_auc, self.test_logloss, "test")

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int, dataloader_idx: int = 0) -> Tensor:
        """Click probabilities ``[batch]``."""
        return torch.sigmoid(self(batch["ids"], batch["numeric"]).float())

    def configure_optimizers(self) -> Any:
        optimizers = self._optimizers()
        if self.lr_scheduler_factory is None:
            return optimizers if self.sparse else optimizers[0]
        self._schedules = [self._schedule(self.lr_scheduler_factory(o)) for o in optimizers]
        if self.automatic_optimization:
            return optimizers, self._schedules
        return optimizers, [config["scheduler"] for config in self._schedules]  # stepped below

    def _optimizers(self) -> list[torch.optim.Optimizer]:
        if not self.sparse:
            return [prefer_fused(self.optimizer_factory(self.parameters()))]
        tables = [m for m in self.modules() if isinstance(m, nn.Embedding)]
        for table in tables:
            table.sparse = True
        sparse_ids = {id(t.weight) for t in tables}
        dense = [p for p in self.parameters() if id(p) not in sparse_ids]
        return [self.sparse_optimizer_factory([t.weight for t in tables]), prefer_fused(self.optimizer_factory(dense))]

    @staticmethod
    def _schedule(scheduler: Any) -> dict[str, Any]:
        """Lightning's scheduler config: once an epoch; a plateau schedule watches a metric."""
        config = {"scheduler": scheduler, "interval": "epoch"}
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            monitor = getattr(scheduler, "monitor", None) or "val/auc"
            if monitor.endswith("/auc") and scheduler.mode != "max":
                raise ValueError(
                    f"lr_scheduler: ReduceLROnPlateau watches {monitor!r}, where higher is better: set mode: max"
                )
            config["monitor"] = monitor
        return config

    def on_train_epoch_end(self) -> None:
        # Lightning steps schedules itself only under automatic optimization; with sparse
        # tables (manual optimization) they are stepped here, after validation, alike.
        if self.automatic_optimization or self.lr_scheduler_factory is None:
            return
        for config in self._schedules:
            if "monitor" not in config:
                config["scheduler"].step()
            elif (value := self.trainer.callback_metrics.get(config["monitor"])) is not None:
                config["scheduler"].step(value)

    # ----------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Store the schema and vocabulary so the checkpoint alone can score raw rows."""
        if self.preprocessing is None and self._trainer is not None:
            datamodule = getattr(self.trainer, "datamodule", None)
            if datamodule is not None and hasattr(datamodule, "preprocessing_state"):
                self.preprocessing = datamodule.preprocessing_state()
        if self.preprocessing is not None:
            model_class = f"{type(self).__module__}.{type(self).__qualname__}"
            checkpoint[CHECKPOINT_KEY] = {**self.preprocessing, "model_class": model_class}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.preprocessing = checkpoint.get(CHECKPOINT_KEY)


def _sends_to_loggers(trainer: Any) -> bool:
    """Whether Lightning sends this training step's logged values to the loggers."""
    if trainer.fast_dev_run:
        return True
    connector = getattr(trainer, "_logger_connector", None)
    return bool(getattr(connector, "should_update_logs", True))
