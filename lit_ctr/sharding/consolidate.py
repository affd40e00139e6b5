"""Between one whole table and the shards of it that the ranks hold.

A sharded table is a ``ShardedTensor``: every rank holds some blocks (its local shards,
each with its offsets in the whole table). Consolidation gathers the blocks into the
whole table on rank 0, for a checkpoint that the dense model loads; resuming copies each
rank's blocks back out of the whole table.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor
from torch.distributed._shard.sharded_tensor import ShardedTensor


def full_tensor(table: Tensor) -> Tensor:
    """The whole table: ``table`` itself when it is not sharded; a sharded one is gathered
    to rank 0 (a collective: every rank calls it), and the other ranks, which do not write
    checkpoints, get no rows (``[0, ...]``) rather than a copy of the table."""
    if not isinstance(table, ShardedTensor):
        return table
    whole = torch.empty(table.size(), dtype=table.dtype) if dist.get_rank() == 0 else None
    ShardedTensor.gather(table, dst=0, out=whole)
    return whole if whole is not None else torch.empty(0, *table.size()[1:], dtype=table.dtype)


@torch.no_grad()
def copy_into_shards(target: Tensor, whole: Tensor) -> None:
    """Copy ``whole`` into ``target``: all of it into a plain tensor, or into each local shard
    of a sharded one the block at that shard's offsets."""
    if not isinstance(target, ShardedTensor):
        target.copy_(whole)
        return
    for shard in target.local_shards():
        block = whole
        for dim, (start, size) in enumerate(zip(shard.metadata.shard_offsets, shard.metadata.shard_sizes)):
            block = block.narrow(dim, start, size)
        shard.tensor.copy_(block)
