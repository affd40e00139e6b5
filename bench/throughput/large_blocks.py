"""Milliseconds for an embedding table's per-step gradient (the dense backward of one
Criteo-shaped batch's lookup, then ``.grad = None`` as ``zero_grad`` does), three ways:
``index_select``'s own backward into a fresh ``[rows, dim]`` tensor with glibc's default
policy, which maps blocks above 32 MB afresh every step; the same with the heap keeping freed
blocks (``lit_ctr.models._speed.keep_large_blocks``); and ``index_add_`` into one block
zeroed and reused every step, the floor the heap policy is measured against. Each runs in its
own process, interleaved over rounds.

    python bench/throughput/large_blocks.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, statistics, sys, time, torch
torch.set_num_threads(2)
rows, dim, batch, fields, steps, way = (int(v) for v in sys.argv[1:7])
if way:
    from lit_ctr.models._speed import keep_large_blocks
    assert keep_large_blocks()
ids = torch.randint(0, rows, (batch, fields))
weight = torch.zeros(rows, dim, requires_grad=True)
block = torch.zeros(rows, dim)
times = []
for _ in range(steps):
    start = time.perf_counter()
    if way == 2:  # the same lookup and gradient, added into one block kept from step to step
        weight.detach().index_select(0, ids.reshape(-1))
        block.zero_()
        block.index_add_(0, ids.reshape(-1), torch.ones(ids.numel(), dim))
    else:
        weight.index_select(0, ids.reshape(-1)).sum().backward()
        weight.grad = None  # as zero_grad(set_to_none=True) does every step
    times.append(time.perf_counter() - start)
print(json.dumps(statistics.median(times[2:]) * 1e3))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_400_000)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--fields", type=int, default=26)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    results: dict[str, list[float]] = {
        "fresh block, glibc default (mapped per step)": [],
        "fresh block, freed blocks kept in the heap": [],
        "one block zeroed and reused (the floor)": [],
    }
    for _ in range(args.rounds):
        for way, name in enumerate(results):
            argv = [str(v) for v in (args.rows, args.dim, args.batch, args.fields, args.steps, way)]
            out = subprocess.run(
                [sys.executable, "-c", CHILD, *argv], env=env, capture_output=True, text=True, check=True
            )
            results[name].append(json.loads(out.stdout))
    megabytes = args.rows * args.dim * 4 / 1e6
    print(f"embedding backward into a [{args.rows:,}, {args.dim}] gradient ({megabytes:.0f} MB), "
          f"{args.batch} x {args.fields} ids, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("\n| gradient block | ms per step (median of rounds) | range |\n|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {statistics.median(times):.1f} | {min(times):.1f}-{max(times):.1f} |")


if __name__ == "__main__":
    main()
