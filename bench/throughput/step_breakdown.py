"""Where a DeepFM training step's time goes, by operator family: torch.profiler over the
same random Criteo-shaped batches as bench/throughput/step_speed.py.

    python bench/throughput/step_breakdown.py --preset regularised --precision bf16-mixed

Operators are grouped into families (embedding gather and its backward, dense matmuls,
batch norm, dropout, the embedding L2, the optimizer, dtype casts, the rest) by their
aten names; prints the share of self CPU time of each, then the top operators.
"""

from __future__ import annotations

import argparse
import os
import resource
from collections import defaultdict

import torch
from step_speed import build, make_batches
from torch.profiler import ProfilerActivity, profile

from lit_ctr.data.synthetic import criteo_like_cardinalities

FAMILIES = [  # first match wins
    ("optimizer (fused Adam)", ("adam",)),
    ("zero-filling gradients (the tables' fresh dense gradients)", ("fill_", "zero_")),
    ("embedding gather + backward", ("index_select", "index_add", "embedding", "gather", "scatter")),
    ("batch norm", ("batch_norm",)),
    ("dropout", ("dropout", "bernoulli", "native_dropout")),
    ("dense matmuls", ("addmm", "aten::mm", "matmul", "linear", "bmm")),  # mkldnn::_linear_pointwise too
    ("dtype casts", ("aten::to", "_to_copy", "aten::copy_")),
    ("elementwise (relu, FM, L2 pow/sum, loss)", ("relu", "threshold", "pow", "sum", "mul", "add", "sub", "div",
                                                 "mean", "binary_cross", "sigmoid", "neg", "exp", "log")),
]  # fmt: skip


def family(name: str) -> str:
    lowered = name.lower()
    for label, keys in FAMILIES:
        if any(k in lowered for k in keys):
            return label
    return "other"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="regularised")
    p.add_argument("--precision", choices=["32-true", "bf16-mixed"], default="32-true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    field_dims = criteo_like_cardinalities(26, 1_000_000)
    batches = make_batches(5 + args.steps, field_dims, 13)
    model, optimizer = build(args.preset, args.compile, field_dims)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")

    def step(batch: dict[str, torch.Tensor]) -> None:
        with autocast:
            objective = (model._objective or model.training_objective)(batch)[1]
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()

    for batch in batches[:5]:
        step(batch)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in batches[5:]:
            step(batch)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    # Operators only (aten's, and oneDNN's linear that lit_ctr.layers.Linear calls), not the
    # autograd nodes and Python ranges that contain them.
    events = [e for e in prof.key_averages() if e.key.startswith(("aten::", "mkldnn::")) or "adam" in e.key.lower()]
    shares: dict[str, float] = defaultdict(float)
    for e in events:
        shares[family(e.key)] += e.self_cpu_time_total
    total = sum(shares.values())
    print(f"DeepFM {args.preset} {args.precision}{' compiled' if args.compile else ''}: "
          f"{total / args.steps / 1e3:.1f} ms of operator time per step, load {os.getloadavg()[0]:.1f}, "
          f"{faults / args.steps:,.0f} minor page faults per step while profiled")  # fmt: skip
    print("| family | ms/step | share |\n|---|---|---|")
    for label, value in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {value / args.steps / 1e3:.1f} | {value / total:.0%} |")
    print()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18))


if __name__ == "__main__":
    main()
