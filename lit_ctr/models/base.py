"""``CTRModule``: everything a CTR model shares, so a model file holds only its layers
and ``forward``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from lit_ctr.checkpoint import CHECKPOINT_KEY, find_preprocessing, model_entry
from lit_ctr.errors import ConfigError
from lit_ctr.layers.checks import check_int_at_least, check_non_negative
from lit_ctr.layers.embedding import FeatureEmbedding
from lit_ctr.layers.linear import FeaturesLinear
from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.pooling import multi_field_layout
from lit_ctr.models._speed import HookNameShortcut, compiled, prefer_fused
from lit_ctr.models.loss_window import LossWindows
from lit_ctr.models.metrics import ctr_loss, ctr_metrics, weighted_ctr_metrics
from lit_ctr.models.schedules import schedule_config
from lit_ctr.models.sparse import SparseTables, optimizers_for
from lit_ctr.sharding.layers import ShardedFeatureEmbedding, ShardedFeaturesLinear, check_embedding_kind

__all__ = ["CHECKPOINT_KEY", "CTRModule"]


class CTRModule(HookNameShortcut, SparseTables, LightningModule):
    """Base of every lit-ctr model: hyper-parameters, loss, metrics, optimizers, ``predict_step``.

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

    metric_prefix = ""  # of every metric name: "" logs train/loss, val/auc, ...

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
        # Linked values must be written explicitly, or checkpoints may hold nulls.
        self.field_dims = self.hparams["field_dims"] = [int(d) for d in field_dims]
        self.num_numeric = self.hparams["num_numeric"] = int(num_numeric)
        layout = multi_field_layout("multi_fields", multi_fields)
        if len(layout) > len(self.field_dims):
            raise ConfigError(
                f"model.multi_fields: {len(layout)} multi-valued fields but only {len(self.field_dims)} field_dims"
            )
        self.multi_fields = self.hparams["multi_fields"] = [
            {"max_len": f.max_len, "pooling": f.pooling} for f in layout
        ]
        self.embed_dim = check_int_at_least("embed_dim", embed_dim, 1)
        self.embedding_l2 = check_non_negative("embedding_l2", embedding_l2)
        self.net_l2 = check_non_negative("net_l2", net_l2)
        self.optimizer_factory, self.sparse_optimizer_factory = optimizer, sparse_optimizer
        self.lr_scheduler_factory = lr_scheduler
        self.sparse = sparse
        self.compile_step = compile  # not ``self.compile``: that is nn.Module's method
        self._objective: Callable[[dict[str, Tensor]], tuple[Tensor, Tensor]] | None = None
        self.embedding_kind = check_embedding_kind(embedding, sparse)
        if self.embedding_kind == "sharded" and self.multi_fields:
            raise ConfigError(
                "model.embedding: 'sharded' takes single-valued categorical fields only; "
                f"this data has {len(self.multi_fields)} multi-valued field(s): use embedding 'dense'"
            )
        self.automatic_optimization = not sparse  # two optimizers: manual optimization
        self._schedules: list[dict[str, Any]] = []
        self.val_metrics = ctr_metrics(f"{self.metric_prefix}val/")
        self.test_metrics = ctr_metrics(f"{self.metric_prefix}test/")
        # Logged only for data with sample weights (schema.weight), next to the unweighted ones.
        self.val_weighted_metrics = weighted_ctr_metrics(f"{self.metric_prefix}val/")
        self.test_weighted_metrics = weighted_ctr_metrics(f"{self.metric_prefix}test/")
        self.preprocessing: dict[str, Any] | None = None  # set by lit_ctr.scoring.load_model
        self._loss_windows = LossWindows()
        self._penalised: list[PenalisedRows] | None = None  # found by configure_model
        self._linears: list[nn.Linear] | None = None

    @property
    def num_fields(self) -> int:
        """Fields of a row once embedded (the ``F`` of ``[batch, F, dim]``)."""
        return len(self.field_dims) + self.num_numeric

    def feature_embedding(self, dim: int) -> FeatureEmbedding | ShardedFeatureEmbedding:
        """The embedding layer for this data's fields, ``[batch, F, dim]``; every model builds its
        vectors with it, so every field kind the data offers reaches every model."""
        if self.embedding_kind == "sharded":
            return ShardedFeatureEmbedding(self.field_dims, self.num_numeric, dim)
        return FeatureEmbedding(self.field_dims, self.num_numeric, dim, multi_fields=self.multi_fields)

    def features_linear(self) -> FeaturesLinear | ShardedFeaturesLinear:
        """The first-order term ``b + Σ w_i x_i`` for this data's fields, ``[batch]``."""
        if self.embedding_kind == "sharded":
            return ShardedFeaturesLinear(self.field_dims, self.num_numeric)
        return FeaturesLinear(self.field_dims, self.num_numeric, multi_fields=self.multi_fields)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [batch, F_cat]`` global ids, ``numeric [batch, F_num]`` → logits ``[batch]``."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(ids, numeric)")

    def configure_model(self) -> None:
        super().configure_model()
        # Found once, not on every step: a walk over the modules each step costs time and
        # breaks torch.compile's graph.
        self._penalised = [m for m in self.modules() if isinstance(m, PenalisedRows)]
        self._linears = [m for m in self.modules() if isinstance(m, nn.Linear)]
        for layer in self._penalised:
            layer.keep_rows = bool(self.embedding_l2)  # the L2 reuses the forward's rows
        if self.compile_step and self._objective is None:
            self._objective = compiled(self.training_objective)

    def regularization(self, ids: Tensor) -> Tensor:
        """Embedding L2 on the rows this batch used, plus network L2 on Linear weights."""
        if self._penalised is None or self._linears is None:
            self.configure_model()  # a step outside the Trainer
        penalty = torch.zeros((), device=ids.device)
        for layer in self._penalised if self.embedding_l2 else []:  # type: ignore[union-attr]
            penalty = penalty + self.embedding_l2 * layer.squared_norm(ids)
        for linear in self._linears if self.net_l2 else []:  # type: ignore[union-attr]
            penalty = penalty + self.net_l2 * linear.weight.pow(2).sum()
        return penalty

    def training_objective(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """``(loss, loss + penalty)`` of a batch: the log loss, and what a step minimises."""
        logits = self(batch["ids"], batch["numeric"]).float()
        loss = ctr_loss(logits, batch["label"], batch.get("weight"))  # weighted with schema.weight
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

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.val_metrics, self.val_weighted_metrics)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_metrics, self.test_weighted_metrics)

    def _evaluate(self, batch: dict[str, Tensor], metrics: Any, weighted: Any = None) -> None:
        logits = self(batch["ids"], batch["numeric"]).float()
        metrics.update(logits, batch["label"])
        self.log_dict(metrics, prog_bar=True)
        if weighted is not None and "weight" in batch:
            weighted.update(logits, batch["label"], batch["weight"])
            self.log_dict(weighted)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int, dataloader_idx: int = 0) -> Tensor:
        """Click probabilities ``[batch]``."""
        return torch.sigmoid(self(batch["ids"], batch["numeric"]).float())

    def configure_optimizers(self) -> Any:
        sparse = self.sparse_optimizer_factory if self.sparse else None
        optimizers = optimizers_for(self, self.optimizer_factory, sparse)
        optimizers[-1] = prefer_fused(optimizers[-1])
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
