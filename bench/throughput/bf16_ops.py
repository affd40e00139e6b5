"""Forward + backward time of the regularised MLP's pieces on a DeepFM-sized activation
(``[4096, 400]``), in float32 and in bfloat16, interleaved in one process: which ops make
bf16-mixed pay, and which do not.

    python bench/throughput/bf16_ops.py --rounds 5

Each piece runs on a fresh leaf ``x`` that requires grad: ``Linear(400, 400)``,
``BatchNorm1d(400)`` (training mode; its weights stay float32, as under autocast),
``ReLU``, ``Dropout(0.2)``, and the whole ``Linear → BatchNorm → ReLU → Dropout`` block.
bf16 is ``torch.autocast("cpu", torch.bfloat16)`` with a bfloat16 input, as the Trainer's
bf16-mixed gives it to the layers after the first Linear. Prints ms per call (median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

ROWS, WIDTH = 4096, 400


def pieces() -> dict[str, nn.Module]:
    block = nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.BatchNorm1d(WIDTH), nn.ReLU(), nn.Dropout(0.2))
    return {
        "Linear": nn.Linear(WIDTH, WIDTH),
        "BatchNorm1d": nn.BatchNorm1d(WIDTH),
        "ReLU": nn.ReLU(),
        "Dropout(0.2)": nn.Dropout(0.2),
        "Linear+BN+ReLU+Dropout": block,
    }


def time_piece(module: nn.Module, bf16: bool, calls: int) -> float:
    dtype = torch.bfloat16 if bf16 else torch.float32
    x = torch.randn(ROWS, WIDTH, dtype=dtype, requires_grad=True)
    grad = torch.randn(ROWS, WIDTH, dtype=dtype)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    for _ in range(3):
        with autocast:
            out = module(x)
        out.backward(grad.to(out.dtype))
    start = time.perf_counter()
    for _ in range(calls):
        with autocast:
            out = module(x)
        out.backward(grad.to(out.dtype))
    return (time.perf_counter() - start) / calls * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    modules = {name: module.train() for name, module in pieces().items()}
    times: dict[tuple[str, bool], list[float]] = {(n, b): [] for n in modules for b in (False, True)}
    for _ in range(args.rounds):
        for name, module in modules.items():
            for bf16 in (False, True):
                times[(name, bf16)].append(time_piece(module, bf16, args.calls))
    print(
        f"[{ROWS}, {WIDTH}], {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}, torch {torch.__version__}"
    )
    print("| piece (forward + backward) | fp32 ms | bf16 ms | bf16 ÷ fp32 |\n|---|---|---|---|")
    for name in modules:
        fp32, bf16 = (statistics.median(times[(name, b)]) for b in (False, True))
        print(f"| {name} | {fp32:.2f} | {bf16:.2f} | {bf16 / fp32:.2f} |")


if __name__ == "__main__":
    main()
