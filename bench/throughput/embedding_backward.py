"""Forward + backward of one embedding lookup on CPU: ``nn.Embedding`` against
:class:`lit_ctr.layers.EmbeddingTable` (``index_select`` on int64 ids), at the throughput
benchmark's shapes (4096 rows × 26 categorical fields, tables of 1e5 … 1e7 rows, dim 10
and 1), with int32 ids as the cache stores them; then ``index_add_`` (the lookup's
backward) with int32 against int64 ids. Each timing is the median of ``--steps`` after
three untimed ones:

    python bench/throughput/embedding_backward.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from lit_ctr.layers import EmbeddingTable


def step_ms(table: nn.Embedding, ids: torch.Tensor, upstream: torch.Tensor, steps: int) -> float:
    times = []
    for _ in range(steps + 3):
        start = time.perf_counter()
        table.weight.grad = None
        table(ids).backward(upstream)
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:]) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 740_185, 10_000_000])
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    ids_shape = (4096, 26)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, ids {list(ids_shape)}")
    print("| table rows | dim | nn.Embedding ms | EmbeddingTable ms | ratio |")
    print("|---|---|---|---|---|")
    for rows in args.rows:
        ids = torch.randint(0, rows, ids_shape, dtype=torch.int32)
        for dim in (10, 1):
            reference = nn.Embedding(rows, dim)
            table = EmbeddingTable(rows, dim)
            table.load_state_dict(reference.state_dict())
            upstream = torch.randn(*ids_shape, dim)
            before = step_ms(reference, ids, upstream, args.steps)
            after = step_ms(table, ids, upstream, args.steps)
            print(f"| {rows:,} | {dim} | {before:.2f} | {after:.2f} | {before / after:.2f}× |", flush=True)
    # Why EmbeddingTable turns the ids into int64: the backward's index_add_ by index dtype.
    print("\n| table rows | dim | index_add_ int32 ids ms | int64 ids ms | ratio |")
    print("|---|---|---|---|---|")
    for rows in args.rows:
        index = torch.randint(0, rows, (ids_shape[0] * ids_shape[1],), dtype=torch.int32)
        for dim in (10, 1):
            grad = torch.zeros(rows, dim)
            source = torch.randn(len(index), dim)
            slow = add_ms(grad, index, source, args.steps)
            fast = add_ms(grad, index.long(), source, args.steps)
            print(f"| {rows:,} | {dim} | {slow:.2f} | {fast:.2f} | {slow / fast:.2f}× |", flush=True)


def add_ms(grad: torch.Tensor, index: torch.Tensor, source: torch.Tensor, steps: int) -> float:
    times = []
    for _ in range(steps + 3):
        start = time.perf_counter()
        grad.index_add_(0, index, source)
        times.append(time.perf_counter() - start)
    return statistics.median(times[3:]) * 1000


if __name__ == "__main__":
    main()
