"""``TorchrecStrategy``: Lightning's DDP with the embedding tables sharded by torchrec."""

from __future__ import annotations

from typing import Any, Literal

from lightning.pytorch.strategies import DDPStrategy
from torch import nn

from lit_ctr.errors import ConfigError
from lit_ctr.sharding._torchrec import require_torchrec
from lit_ctr.sharding.optimizer_state import gather_table_state, load_table_state
from lit_ctr.sharding.plan import shard_model

TABLE_STATE_KEY = "torchrec_table_optimizer"  # the consolidated fused-optimizer state in a checkpoint

TableOptimizer = Literal["adagrad", "rowwise_adagrad", "sgd", "adam"]
_FBGEMM_OPTIMIZERS = {
    "adagrad": "EXACT_ADAGRAD",
    "rowwise_adagrad": "EXACT_ROWWISE_ADAGRAD",
    "sgd": "EXACT_SGD",
    "adam": "ADAM",
}


class TorchrecStrategy(DDPStrategy):
    """DDP for the dense part of the model, torchrec's ``DistributedModelParallel`` for its tables.

    The thinnest adapter Lightning's Strategy API allows: only the wrapping of the model
    (``_setup_model``) and the checkpoint's table-optimizer entry change. When a fit starts,
    torchrec's planner places every table of the model's ``embedding: sharded`` layers on the
    ranks within ``memory_budget_mb`` each, ``DistributedModelParallel`` shards them (the
    lookups exchange ids and pooled vectors with all-to-all) and wraps the rest in DDP, and
    every rank copies its shards from the model's initial (or restored) whole tables. The
    tables are updated inside backward by fbgemm's fused ``table_optimizer``; the dense part
    by the model's own optimizer. Checkpoints are consolidated: rank 0 writes the whole
    tables under the dense layers' keys and the whole table-optimizer state, so the dense
    model (``lit-ctr export``, ``load_predictor``) reads them and a resumed fit reshards them.

    Validation inside a fit runs on the sharded model (every rank must run the same number of
    batches); ``lit-ctr validate|test|predict`` run DDP-style on whole tables in each process.

    Args:
        memory_budget_mb: memory each rank may give to tables and their optimizer state
            (DDR on CPU, HBM on CUDA), the planner's topology; ``None``: torchrec's default.
        sharding_types: what the planner may choose from: ``table_wise``, ``column_wise``,
            ``table_column_wise``; on CUDA also ``row_wise`` and ``table_row_wise``.
        table_optimizer: fbgemm's fused optimizer for the tables (``adam`` on CUDA only).
        table_lr: its learning rate.
        table_eps: its epsilon.
        **kwargs: DDPStrategy's arguments (``process_group_backend``, ``timeout``, ...).
    """

    strategy_name = "torchrec"

    def __init__(
        self,
        memory_budget_mb: float | None = None,
        sharding_types: list[str] | None = None,
        table_optimizer: TableOptimizer = "adagrad",
        table_lr: float = 0.01,
        table_eps: float = 1e-8,
        **kwargs: Any,
    ) -> None:
        require_torchrec("trainer.strategy")
        super().__init__(**kwargs)
        if table_optimizer not in _FBGEMM_OPTIMIZERS:
            raise ConfigError(
                f"trainer.strategy.table_optimizer: expected one of {list(_FBGEMM_OPTIMIZERS)}, got {table_optimizer!r}"
            )
        if memory_budget_mb is not None and memory_budget_mb <= 0:
            raise ConfigError(f"trainer.strategy.memory_budget_mb: expected a number > 0, got {memory_budget_mb}")
        self.memory_budget_mb = memory_budget_mb
        self.sharding_types = list(sharding_types or ["table_wise"])
        self.table_optimizer, self.table_lr, self.table_eps = table_optimizer, table_lr, table_eps
        self.plan: Any = None  # torchrec's ShardingPlan, once a fit has started

    def _setup_model(self, model: nn.Module) -> nn.Module:  # type: ignore[override]
        if self.table_optimizer == "adam" and self.root_device.type == "cpu":
            raise ConfigError(
                "trainer.strategy.table_optimizer: fbgemm runs 'adam' on CUDA only; "
                "on CPU expected 'adagrad', 'rowwise_adagrad' or 'sgd'"
            )
        wrapped, self.plan = shard_model(
            model,
            self.root_device,
            local_world_size=self.num_processes,
            memory_budget_mb=self.memory_budget_mb,
            sharding_types=self.sharding_types,
            fused_params=self._fused_params(),
        )
        return wrapped

    def _fused_params(self) -> dict[str, Any]:
        from fbgemm_gpu.split_embedding_configs import EmbOptimType

        optimizer = getattr(EmbOptimType, _FBGEMM_OPTIMIZERS[self.table_optimizer])
        return {"optimizer": optimizer, "learning_rate": self.table_lr, "eps": self.table_eps}

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: Any, storage_options: Any = None) -> None:
        if self.plan is not None:  # every rank is here (Trainer.save_checkpoint): gather, rank 0 writes
            checkpoint[TABLE_STATE_KEY] = gather_table_state(self.model.fused_optimizer)  # type: ignore[union-attr]
        super().save_checkpoint(checkpoint, filepath, storage_options)

    def load_optimizer_state_dict(self, checkpoint: Any) -> None:
        super().load_optimizer_state_dict(checkpoint)
        if self.plan is not None and TABLE_STATE_KEY in checkpoint:
            load_table_state(self.model.fused_optimizer, checkpoint[TABLE_STATE_KEY])  # type: ignore[union-attr]


def register(registry: Any) -> None:
    """Name the strategy ``torchrec`` in Lightning's registry (``--trainer.strategy=torchrec``)."""
    if "torchrec" not in registry:
        registry.register("torchrec", TorchrecStrategy, description="DDP with torchrec-sharded embedding tables")
