"""Helpers run in each of two gloo processes by the sharding tests (importable by spawn)."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F

FIELD_DIMS = [7, 5, 9, 3, 6, 4]
BATCH = 8  # per rank


def batches(steps: int, rank: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The same random global batches on every rank; rank ``r`` takes the ``r``-th half of each."""
    generator = torch.Generator().manual_seed(11)
    offsets = torch.tensor([0, *FIELD_DIMS[:-1]]).cumsum(0)
    out = []
    for _ in range(steps):
        local = torch.stack([torch.randint(0, d, (2 * BATCH,), generator=generator) for d in FIELD_DIMS], 1)
        numeric = torch.randn(2 * BATCH, 2, generator=generator)
        labels = torch.randint(0, 2, (2 * BATCH,), generator=generator).float()
        part = slice(rank * BATCH, (rank + 1) * BATCH)
        out.append(((local + offsets)[part], numeric[part], labels[part]))
    return out


def run(rank: int, port: int, task: Any, results: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        results[rank] = task(rank)
    finally:
        dist.destroy_process_group()


def spawn(task: Any, port: int) -> list[Any]:
    """``task(rank)`` in two gloo processes; their return values, by rank."""
    import torch.multiprocessing as mp

    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(run, args=(port, task, results), nprocs=2)
        return [results[0], results[1]]


def sharded_deepfm(sharding_types: list[str]) -> tuple[Any, Any, Any]:
    from fbgemm_gpu.split_embedding_configs import EmbOptimType

    from lit_ctr.models import DeepFM
    from lit_ctr.sharding.plan import shard_model

    torch.manual_seed(0)
    model = DeepFM(FIELD_DIMS, 2, embed_dim=8, hidden_units=[16], embedding="sharded")
    fused = {"optimizer": EmbOptimType.EXACT_ADAGRAD, "learning_rate": 0.1, "eps": 1e-8}
    wrapped, plan = shard_model(model, torch.device("cpu"), 2, None, sharding_types, fused)
    return model, wrapped, plan


def train_sharded(rank: int, steps: int = 3) -> list[float]:
    """Losses of a sharded DeepFM over ``steps`` steps (tables: fused Adagrad; rest: Adagrad)."""
    model, wrapped, _ = sharded_deepfm(["table_wise"])
    dense_params = [p for n, p in model.named_parameters() if "collection" not in n]
    optimizer = torch.optim.Adagrad(dense_params, lr=0.1, eps=1e-8)
    losses = []
    for ids, numeric, labels in batches(steps, rank):
        loss = F.binary_cross_entropy_with_logits(wrapped(ids, numeric), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses


def train_dense(rank: int, steps: int = 3) -> list[float]:
    """The same as :func:`train_sharded` with dense tables under DDP (Adagrad on everything)."""
    from torch.nn.parallel import DistributedDataParallel

    from lit_ctr.models import DeepFM

    torch.manual_seed(0)
    model = DeepFM(FIELD_DIMS, 2, embed_dim=8, hidden_units=[16])
    wrapped = DistributedDataParallel(model)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1, eps=1e-8)
    losses = []
    for ids, numeric, labels in batches(steps, rank):
        loss = F.binary_cross_entropy_with_logits(wrapped(ids, numeric), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses


def table_shards(rank: int, sharding_types: list[str]) -> dict[str, list[tuple[int, ...]]]:
    """This rank's local shards: ``{table: [(row offset, column offset, rows, columns), ...]}``."""
    model, _, _ = sharded_deepfm(sharding_types)
    held = {}
    for layer_name, layer in model.named_modules():
        if layer_name.endswith("collection"):
            for key, value in layer.state_dict().items():
                held[f"{layer_name}.{key}"] = [
                    (*s.metadata.shard_offsets, *s.metadata.shard_sizes) for s in value.local_shards()
                ]
    return held
