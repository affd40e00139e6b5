"""Milliseconds for the pieces of a dropout mask over a ``[4096, 400]`` activation: drawing the
random words (three 16-bit slots from each 63-bit ``random_()`` int64, against four from each
full-range one, against numpy's SFC64 words), comparing them with the threshold (a strided
view against a contiguous one), and turning the mask into the multiplier (``where``, a cast
and an in-place scale, or the comparison written straight into the dtype), in float32 and
bfloat16. Median of ``--calls`` calls, one process, glibc keeping large blocks as
in training.

    python bench/throughput/dropout_mask.py --calls 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch

from lit_ctr.layers.dropout import random_int16
from lit_ctr.models._speed import keep_large_blocks

ROWS, WIDTH, KEPT_LEVELS = 4096, 400, round(0.8 * 65536)


def milliseconds(work: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()
    torch.set_num_threads(2)
    keep_large_blocks()
    n = ROWS * WIDTH
    three = torch.empty((n + 2) // 3, dtype=torch.int64)
    four = torch.empty((n + 3) // 4, dtype=torch.int64)
    strided = three.view(torch.int16).view(-1, 4)[:, :3]
    contiguous = four.random_(torch.iinfo(torch.int64).min, None).view(torch.int16)[:n]
    threshold = KEPT_LEVELS - 32768
    rows = [
        ("draw: 63-bit words, 3 slots each", lambda: three.random_()),
        ("draw: full 64-bit words, 4 slots each", lambda: four.random_(torch.iinfo(torch.int64).min, None)),
        ("draw: numpy SFC64 words, 4 slots each (lit-ctr on CPU)", lambda: random_int16(n, torch.device("cpu"))),
        ("compare: strided view of 3 slots", lambda: strided < threshold),
        ("compare: contiguous view", lambda: contiguous < threshold),
    ]
    keep = (contiguous < threshold).view(ROWS, WIDTH)
    for dtype in (torch.float32, torch.bfloat16):
        scale, zero = torch.tensor(1.25, dtype=dtype), torch.zeros((), dtype=dtype)
        name = str(dtype).removeprefix("torch.")
        rows += [
            (f"multiplier, {name}: where(keep, scale, 0)", lambda s=scale, z=zero: torch.where(keep, s, z)),
            (f"multiplier, {name}: keep.to(dtype).mul_(scale)", lambda d=dtype: keep.to(d).mul_(1.25)),
            (
                f"multiplier, {name}: lt(bits, threshold, out=dtype).mul_(scale) (lit-ctr)",
                lambda d=dtype: torch.lt(contiguous, threshold, out=torch.empty(n, dtype=d)).mul_(1.25),
            ),
        ]
    print(f"[{ROWS}, {WIDTH}], 2 threads, load {os.getloadavg()[0]:.1f}\n")
    print("| piece | ms (median) |\n|---|---|")
    for name, work in rows:
        print(f"| {name} | {milliseconds(work, args.calls):.2f} |")


if __name__ == "__main__":
    main()
