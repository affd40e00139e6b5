"""torchrec's planner (given the per-rank memory budget and the sharding types allowed) and
the sharding of a model's tables with its plan."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from lit_ctr.errors import ConfigError
from lit_ctr.sharding.tables import FieldTables

# The sharding types torchrec offers for an EmbeddingBagCollection on CPU (row-wise and
# table-row-wise need CUDA: EmbeddingBagCollectionSharder.sharding_types).
CPU_SHARDING_TYPES = ("table_wise", "column_wise", "table_column_wise")
ALL_SHARDING_TYPES = (*CPU_SHARDING_TYPES, "row_wise", "table_row_wise")

MiB = 1 << 20


def table_names(module: nn.Module) -> list[str]:
    """Every torchrec table of ``module``'s sharded layers."""
    return [key for layer in module.modules() if isinstance(layer, FieldTables) for key in layer.keys]


def plan_tables(
    module: nn.Module,
    sharders: list[Any],
    device_type: str,
    local_world_size: int,
    memory_budget_mb: float | None,
    sharding_types: list[str],
) -> Any:
    """torchrec's ``ShardingPlan`` for every table of ``module``, the same on every rank.

    The planner sees a topology of ``world_size`` devices of ``device_type`` whose memory
    (HBM on CUDA, DDR on CPU) is ``memory_budget_mb`` each, and may use only
    ``sharding_types`` with the fused kernel (the tables' optimizer runs inside backward).
    A plan that does not fit is a :class:`ConfigError` naming the budget.
    """
    from torchrec.distributed.planner import EmbeddingShardingPlanner, ParameterConstraints, Topology
    from torchrec.distributed.planner.types import PlannerError

    allowed = CPU_SHARDING_TYPES if device_type == "cpu" else ALL_SHARDING_TYPES
    unknown = [kind for kind in sharding_types if kind not in allowed]
    if unknown or not sharding_types:
        raise ConfigError(
            f"trainer.strategy.sharding_types: expected a non-empty list of {list(allowed)} on {device_type}, "
            f"got {sharding_types}"
        )
    budget = None if memory_budget_mb is None else int(memory_budget_mb * MiB)
    topology = Topology(
        world_size=dist.get_world_size(),
        compute_device=device_type,
        local_world_size=local_world_size,
        **({"ddr_cap": budget} if device_type == "cpu" else {"hbm_cap": budget}),
    )
    constraints = {
        name: ParameterConstraints(sharding_types=list(sharding_types), compute_kernels=["fused"])
        for name in table_names(module)
    }
    planner = EmbeddingShardingPlanner(topology=topology, constraints=constraints)
    try:
        return planner.collective_plan(module, sharders, dist.GroupMember.WORLD)
    except PlannerError as error:
        first = str(error).strip().splitlines()[0]
        raise ConfigError(
            f"trainer.strategy.memory_budget_mb: the embedding tables do not fit {memory_budget_mb} MiB per rank "
            f"on {dist.get_world_size()} ranks ({first})"
        ) from None


def shard_model(
    model: nn.Module,
    device: torch.device,
    local_world_size: int,
    memory_budget_mb: float | None,
    sharding_types: list[str],
    fused_params: dict[str, Any],
) -> tuple[nn.Module, Any]:
    """``model`` in torchrec's ``DistributedModelParallel`` (its tables sharded by the plan, the
    rest in DDP) and the plan; every rank calls it, in a process group.

    Each rank's shards start from the model's whole tables as they were (initialised or
    restored), not torchrec's fresh initialisation.
    """
    from torchrec.distributed.embeddingbag import EmbeddingBagCollectionSharder
    from torchrec.distributed.model_parallel import DistributedModelParallel

    tables = [layer for layer in model.modules() if isinstance(layer, FieldTables)]
    if not tables:
        raise ConfigError(
            "trainer.strategy: TorchrecStrategy shards the tables of a model with "
            "model.init_args.embedding: sharded; this model's tables are dense"
        )
    # References to the unsharded tables (no copy): DMP replaces the collections with sharded ones.
    whole = [(layer, layer.field_weights()) for layer in tables]
    sharders = [EmbeddingBagCollectionSharder(fused_params=fused_params)]
    plan = plan_tables(model, sharders, device.type, local_world_size, memory_budget_mb, sharding_types)
    wrapped = DistributedModelParallel(model, device=device, plan=plan, sharders=sharders)
    for layer, weights in whole:
        layer.load_fields(weights)
    del whole, weights  # the whole tables go now; each rank keeps its shards
    return wrapped, plan
