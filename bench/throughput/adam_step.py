"""One Adam step over DeepFM's parameters at the issue's reference vocabulary (a
[1.4M, 10] embedding table, a [1.4M, 1] first-order table, three 400×400 layers; the
benchmark's own 1M synthetic rows hold 740k ids), with
torch's default CPU kernel, ``foreach`` and ``fused``:

    python bench/throughput/adam_step.py
"""

from __future__ import annotations

import os
import time

import torch


def main(rows: int = 1_400_000, steps: int = 20) -> None:
    torch.set_num_threads(os.cpu_count())
    for options in ({}, {"foreach": True}, {"fused": True}):
        params = [torch.nn.Parameter(torch.randn(rows, 10)), torch.nn.Parameter(torch.randn(rows, 1))]
        params += [torch.nn.Parameter(torch.randn(400, 400)) for _ in range(3)]
        optimizer = torch.optim.Adam(params, lr=1e-3, **options)
        for p in params:
            p.grad = torch.randn_like(p)
        optimizer.step()  # state allocated outside the clock
        start = time.perf_counter()
        for _ in range(steps):
            optimizer.step()
        print(f"Adam {options or 'default'}: {(time.perf_counter() - start) / steps * 1000:.1f} ms a step")


if __name__ == "__main__":
    main()
