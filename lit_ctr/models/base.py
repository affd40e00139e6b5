"""``CTRModule``: everything a CTR model shares, so a model file holds only its layers
and ``forward``."""

from __future__ import annotations

from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor

from lit_ctr.checkpoint import CHECKPOINT_KEY, find_preprocessing, model_entry
from lit_ctr.layers.checks import check_int_at_least, check_non_negative
from lit_ctr.models._speed import CompiledObjective, HookNameShortcut, keep_large_blocks, prefer_fused
from lit_ctr.models.evaluation import Evaluation
from lit_ctr.models.fields import FieldLayers
from lit_ctr.models.loss_window import LossWindows
from lit_ctr.models.metrics import ctr_loss
from lit_ctr.models.penalties import Penalties
from lit_ctr.models.schedules import schedule_config
from lit_ctr.models.sparse import SparseTables, optimizers_for

__all__ = ["CHECKPOINT_KEY", "CTRModule"]


class CTRModule(HookNameShortcut, FieldLayers, Penalties, CompiledObjective, Evaluation, SparseTables, LightningModule):
    """Base of every lit-ctr model: hyper-parameters, loss, optimizers; the fields and shared
    layers (:class:`~lit_ctr.models.fields.FieldLayers`), penalties
    (:class:`~lit_ctr.models.penalties.Penalties`), evaluation and prediction
    (:class:`~lit_ctr.models.evaluation.Evaluation`) are mixins, one file each.

    Subclasses build their layers after ``super().__init__`` and implement
    ``forward(ids [batch, F_cat], numeric [batch, F_num]) -> logits [batch]``.

    Args:
        field_dims: ids per categorical field; linked from the datamodule by the CLI.
        num_numeric: number of numeric fields; linked from the datamodule by the CLI.
        embed_dim: size ``k`` of the feature vectors (>= 1).
        embedding_l2: weight (>= 0) of the L2 penalty on the embedding rows and
            first-order weights each batch looks up, per sample.
        net_l2: weight (>= 0) of the L2 penalty on the network's Linear weights.
        optimizer: builds the optimizer (default Adam, lr 1e-3; Adam and AdamW run torch's
            fused kernel unless ``fused``/``foreach`` is set, :mod:`lit_ctr.models._speed`).
        sparse: sparse embedding tables, updated by ``sparse_optimizer``
            (:mod:`lit_ctr.models.sparse`).
        sparse_optimizer: builds the tables' optimizer when ``sparse`` (SparseAdam by default).
        lr_scheduler: a schedule per optimizer, stepped once an epoch; ``ReduceLROnPlateau``
            (``mode: max``) watches ``val/auc``, or its own ``monitor``.
        compile: run the training step's forward, loss and penalty through ``torch.compile``
            (:func:`lit_ctr.models._speed.compiled`); evaluation, checkpoints and export
            are unchanged. Off by default: it pays on some models and machines only
            (docs/throughput.md).
        multi_fields: the multi-valued fields' ``{max_len, pooling}``, in order (the last
            ``len(multi_fields)`` of ``field_dims``); linked from the datamodule by the CLI.
            Each takes ``max_len`` columns of ``ids`` (padded with negative ids) and is pooled
            into one field by the shared layers, so ``ids`` is ``[batch, F_single + Σ max_len]``.
        embedding: ``dense`` (one table, replicated by DDP) or ``sharded``: one torchrec
            table per field, sharded across ranks by ``lit_ctr.sharding.TorchrecStrategy``
            (the ``torchrec`` extra; docs/scaling.md).
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
        compile: bool = False,
        multi_fields: list[dict[str, Any]] | None = None,
        embedding: Literal["dense", "sharded"] = "dense",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer", "sparse_optimizer", "lr_scheduler"])
        self.set_fields(field_dims, num_numeric, multi_fields, embedding, sparse)
        self.embed_dim = check_int_at_least("embed_dim", embed_dim, 1)
        self.embedding_l2 = check_non_negative("embedding_l2", embedding_l2)
        self.net_l2 = check_non_negative("net_l2", net_l2)
        self.optimizer_factory, self.sparse_optimizer_factory = optimizer, sparse_optimizer
        self.lr_scheduler_factory = lr_scheduler
        self.sparse = sparse
        self.automatic_optimization = not sparse  # two optimizers: manual optimization
        self.compile_step = compile  # not ``self.compile``: that is nn.Module's method
        self._schedules: list[dict[str, Any]] = []
        self.set_metrics()
        self.preprocessing: dict[str, Any] | None = None  # set by lit_ctr.scoring.load_model
        self._loss_windows = LossWindows()

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [batch, F_cat]`` global ids, ``numeric [batch, F_num]`` → logits ``[batch]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(ids, numeric)")

    def training_objective(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """``(loss, loss + penalty)`` of a batch: the log loss (weighted with
        ``schema.weight``), and what a step minimises."""
        logits = self(batch["ids"], batch["numeric"]).float()
        loss = ctr_loss(logits, batch["label"], batch.get("weight"))
        return loss, loss + self.regularization(batch["ids"])

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss, objective = (self._objective or self.training_objective)(batch)
        self.log_training_loss(f"{self.metric_prefix}train/loss", loss, rows=len(batch["label"]))
        if not self.automatic_optimization:
            self.step_sparse_and_dense(objective)
        return objective

    def log_training_loss(self, name: str, loss: Tensor, rows: int) -> None:
        """Log ``name`` as the mean ``loss`` over the batches since the loggers last got it
        (:class:`~lit_ctr.models.loss_window.LossWindows`); ``rows`` is the batch size."""
        self._loss_windows.log(self, name, loss, rows)

    def on_train_start(self) -> None:
        self._loss_windows.clear()  # nothing carried over from an earlier fit

    def configure_optimizers(self) -> Any:
        sparse = self.sparse_optimizer_factory if self.sparse else None
        optimizers = optimizers_for(self, self.optimizer_factory, sparse)
        optimizers[-1] = prefer_fused(optimizers[-1])
        keep_large_blocks()
        if self.lr_scheduler_factory is None:
            return optimizers if self.sparse else optimizers[0]
        self._schedules = [schedule_config(self.lr_scheduler_factory(o)) for o in optimizers]
        if self.automatic_optimization:
            return optimizers, self._schedules
        return optimizers, [config["scheduler"] for config in self._schedules]  # stepped by SparseTables

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Name the model's class (format 2); the data module's state carries the preprocessing."""
        checkpoint[CHECKPOINT_KEY] = model_entry(self)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.preprocessing = find_preprocessing(checkpoint)
