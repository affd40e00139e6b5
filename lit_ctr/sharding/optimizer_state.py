"""The fused table optimizer's state (e.g. Adagrad's ``momentum1``) in a consolidated checkpoint.

torchrec keeps it beside each table's shards, keyed by the table's parameter name and a
state name; every rank lists only the tables it holds. Saving gathers every rank's blocks
to rank 0 and stacks each state into the whole table's shape; resuming copies each rank's
blocks back into the optimizer's own tensors (torchrec's ``KeyedOptimizer`` contract:
copy into ``state_dict()``'s tensors, then ``load_state_dict`` it).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.distributed._shard.sharded_tensor import ShardedTensor

from lit_ctr.sharding.consolidate import copy_into_shards

Blocks = list[tuple[list[int], Tensor]]  # (offsets in the whole tensor, block)


def gather_table_state(fused_optimizer: Any) -> dict[str, dict[str, Tensor]]:
    """The whole state of every table, on rank 0 (``{}`` on the others); every rank calls it."""
    local: dict[tuple[str, str], tuple[list[int], Blocks]] = {}
    for param_key, states in fused_optimizer.state_dict()["state"].items():
        for state_key, value in states.items():
            if isinstance(value, ShardedTensor):
                blocks = [(list(s.metadata.shard_offsets), s.tensor.detach().clone()) for s in value.local_shards()]
                local[param_key, state_key] = (list(value.size()), blocks)
    everyone: list[Any] = [None] * dist.get_world_size() if dist.get_rank() == 0 else []
    dist.gather_object(local, everyone if dist.get_rank() == 0 else None, dst=0)
    whole: dict[str, dict[str, Tensor]] = {}
    for rank_state in everyone:
        for (param_key, state_key), (size, blocks) in rank_state.items():
            target = whole.setdefault(param_key, {}).setdefault(state_key, torch.zeros(size, dtype=blocks[0][1].dtype))
            for offsets, block in blocks:
                region = target
                for dim, (start, length) in enumerate(zip(offsets, block.shape)):
                    region = region.narrow(dim, start, length)
                region.copy_(block)
    return whole


def load_table_state(fused_optimizer: Any, whole: dict[str, dict[str, Tensor]]) -> None:
    """Copy each rank's blocks of ``whole`` (from :func:`gather_table_state`) into the optimizer."""
    state_dict = fused_optimizer.state_dict()
    for param_key, states in state_dict["state"].items():
        for state_key, value in states.items():
            if param_key in whole and state_key in whole[param_key]:
                copy_into_shards(value, whole[param_key][state_key])
    fused_optimizer.load_state_dict(state_dict)
