"""Milliseconds for one Linear layer's forward and backward (input and weight gradients) in
float32 on CPU: torch's ``nn.Linear`` (the default BLAS, MKL in the PyPI wheels) against
``lit_ctr.layers.Linear``'s oneDNN path, at the MLP shapes of the throughput benchmark and
around the size where lit-ctr starts taking oneDNN. Median of ``--calls`` calls, rounds
interleaved, 2 threads.

    python bench/throughput/dense_linear.py --calls 15 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from lit_ctr.layers.dense import Linear, _OneDNNLinear, onednn_linear_enabled
from lit_ctr.models._speed import keep_large_blocks

SHAPES = [  # (rows, in, out)
    (4096, 390, 400), (4096, 400, 400), (2048, 400, 400), (1024, 256, 256), (10000, 400, 400),
    (256, 400, 400), (4096, 128, 64), (4096, 80, 128), (512, 128, 64),
]  # fmt: skip


def milliseconds(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor, calls: int) -> float:
    times = []
    for _ in range(calls + 2):
        start = time.perf_counter()
        x.grad = None
        layer.zero_grad(set_to_none=True)
        layer(x).backward(grad)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=15)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(2)
    keep_large_blocks()
    if not onednn_linear_enabled():
        raise SystemExit("this torch build has no oneDNN (or LIT_CTR_ONEDNN_LINEAR=0)")
    print(f"2 threads, load {os.getloadavg()[0]:.1f}, {args.calls} calls x {args.rounds} rounds\n")
    print("| rows × in → out | nn.Linear ms | oneDNN ms | × |\n|---|---|---|---|")
    for rows, fan_in, fan_out in SHAPES:
        torch.manual_seed(0)
        reference, ours = nn.Linear(fan_in, fan_out), Linear(fan_in, fan_out)
        ours.load_state_dict(reference.state_dict())
        x, grad = torch.randn(rows, fan_in, requires_grad=True), torch.randn(rows, fan_out)
        times: dict[str, list[float]] = {"nn": [], "onednn": []}
        for _ in range(args.rounds):
            times["nn"].append(milliseconds(reference, x, grad, args.calls))
            times["onednn"].append(milliseconds(_Forced(ours), x, grad, args.calls))
        base, fast = statistics.median(times["nn"]), statistics.median(times["onednn"])
        print(f"| {rows} × {fan_in} → {fan_out} | {base:.2f} | {fast:.2f} | {base / fast:.2f} |")


class _Forced(nn.Module):
    """``Linear``'s oneDNN path whatever the shape, so the two kernels are compared at every
    shape, also those below the size from which the layer takes oneDNN by itself."""

    def __init__(self, layer: Linear) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _OneDNNLinear.apply(x, self.layer.weight, self.layer.bias)


if __name__ == "__main__":
    main()
