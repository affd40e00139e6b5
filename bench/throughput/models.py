"""Every model at the Criteo shape: parameter counts, and training samples/s of a plain loop.

    python bench/throughput/models.py --sizes                 # parameter counts (no training)
    python bench/throughput/models.py --speed --steps 20      # samples/s, fp32 and bf16-mixed
    python bench/throughput/models.py --speed --bound         # and each against its compute bound
    python bench/throughput/models.py --models fibinet --profile  # where one fp32 step's time goes

Each model is built with the hyper-parameters of its frappe config (configs/frappe/<name>.yaml,
``init_args`` except the optimizer) on the Criteo Kaggle shape: 13 numeric fields and the 26
categorical fields' Kaggle cardinalities (``--max-ids`` caps each field, as the 1M-row
throughput set does). ``--speed`` times ``--steps`` training steps (the model's training
objective with its penalties, backward, the fused Adam ``configure_optimizers`` gives) on
random ids of batch 4096 after two warm-up steps, in one process, the models one after
another: the figures compare models measured side by side, not machines.
``--bound`` counts each model's training-step FLOPs per sample (``FlopCounterMode`` over the
forward and backward of one batch: the matmuls, batched matmuls and convolutions, which is
where a dense layer's work is; gathers and elementwise work are not counted) and times the
machine's fp32 and bf16 matmul rate on a large ``torch.mm``; the compute bound is
rate / FLOPs-per-sample, and with ``--speed`` the measured samples/s are given as a fraction of it.
``--profile`` prints, after the table, torch.profiler's operator table (self CPU time) over
3 fp32 steps of each model.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import yaml

from lit_ctr import models
from lit_ctr.synthetic.generator import _CRITEO_CARDINALITIES

REPO = Path(__file__).resolve().parents[2]
NUM_NUMERIC = 13
BATCH = 4096


def frappe_args(stem: str) -> tuple[type, dict]:
    """The model class and its hyper-parameters in configs/frappe/<stem>.yaml."""
    model = yaml.safe_load((REPO / "configs" / "frappe" / f"{stem}.yaml").read_text())["model"]
    args = {k: v for k, v in model.get("init_args", {}).items() if k != "optimizer"}
    return getattr(models, model["class_path"]), args


def build(stem: str, field_dims: list[int]) -> models.CTRModule:
    cls, args = frappe_args(stem)
    return cls(field_dims, NUM_NUMERIC, **args)


def sizes(model: models.CTRModule) -> tuple[int, int]:
    """All parameters, and those outside the embedding tables (rows of ``sum(field_dims)``)."""
    total = sum(p.numel() for p in model.parameters())
    rows = sum(model.field_dims)
    tables = sum(p.numel() for p in model.parameters() if p.dim() == 2 and p.shape[0] == rows)
    return total, total - tables


def random_batch(field_dims: list[int], rows: int) -> dict[str, torch.Tensor]:
    """A seeded batch of ``rows`` uniform random global ids per field (``[rows, fields]``),
    numeric values and labels at a 25% positive rate."""
    generator = torch.Generator().manual_seed(0)
    offsets = torch.tensor([0, *field_dims[:-1]]).cumsum(0)
    ids = (torch.rand(rows, len(field_dims), generator=generator) * torch.tensor(field_dims)).long() + offsets
    return {
        "ids": ids,
        "numeric": torch.rand(rows, NUM_NUMERIC, generator=generator),
        "label": (torch.rand(rows, generator=generator) < 0.25).float(),
    }


def training_step(model: models.CTRModule, field_dims: list[int], bf16: bool = False) -> Callable[[], None]:
    """lit-ctr's own step on one random batch: the model's ``training_objective`` (loss and
    penalties) and the optimizer ``configure_optimizers`` gives (fused Adam), as the Trainer runs
    them, without the Trainer."""
    batch = random_batch(field_dims, BATCH)
    model.train()
    model.configure_model()
    optimizer = model.configure_optimizers()

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            objective = model.training_objective(batch)[1]
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()

    return step


def samples_per_second(model: models.CTRModule, field_dims: list[int], steps: int, bf16: bool) -> float:
    """Training samples/s of :func:`training_step`, timed over ``steps`` after two warm-up steps."""
    step = training_step(model, field_dims, bf16)
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH / (time.perf_counter() - start)


def profile_step(model: models.CTRModule, field_dims: list[int], steps: int = 3) -> str:
    """torch.profiler's operator table (self CPU time, top 15) over ``steps`` fp32 training
    steps, after two untimed ones."""
    from torch.profiler import ProfilerActivity, profile

    step = training_step(model, field_dims)
    for _ in range(2):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def train_flops_per_sample(model: models.CTRModule, field_dims: list[int], batch: int = 256) -> float:
    """FLOPs of one training step (forward and backward of the training objective) per sample,
    as torch's ``FlopCounterMode`` counts them (matmul-like operators only)."""
    from torch.utils.flop_counter import FlopCounterMode

    data = random_batch(field_dims, batch)
    model.train()
    model.configure_model()
    counter = FlopCounterMode(display=False)
    with counter:
        model.training_objective(data)[1].backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / batch


def matmul_gflops(dtype: torch.dtype, size: int = 2048, seconds: float = 2.0) -> float:
    """The machine's matmul rate (GFLOP/s) on a large square ``torch.mm`` in ``dtype``."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    for _ in range(3):
        torch.mm(a, b)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="config stems in configs/frappe/ (default: all)")
    parser.add_argument("--sizes", action="store_true", help="parameter counts")
    parser.add_argument("--speed", action="store_true", help="training samples/s, fp32 and bf16-mixed")
    parser.add_argument("--bound", action="store_true", help="FLOPs per sample and the compute bound")
    parser.add_argument("--profile", action="store_true", help="operator profile of 3 fp32 steps per model")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--max-ids", type=int, default=None, help="cap on each field's ids (default: Kaggle's)")
    args = parser.parse_args()
    stems = args.models or sorted(p.stem for p in (REPO / "configs" / "frappe").glob("*.yaml"))
    field_dims = [min(c, args.max_ids) if args.max_ids else c for c in _CRITEO_CARDINALITIES]
    header = ["model"]
    if args.sizes:
        header += ["parameters", "outside the embedding tables"]
    if args.speed:
        header += ["samples/s fp32", "samples/s bf16-mixed"]
    rates = {}
    if args.bound:
        rates = {dtype: matmul_gflops(dtype) for dtype in (torch.float32, torch.bfloat16)}
        print(f"matmul rate (torch.mm 2048²): fp32 {rates[torch.float32]:.1f}, "
              f"bf16 {rates[torch.bfloat16]:.1f} GFLOP/s")  # fmt: skip
        header += ["train MFLOP/sample", "bound fp32", "bound bf16"]
        if args.speed:
            header += ["measured / bound fp32", "measured / bound bf16"]
    print(f"Criteo shape: {NUM_NUMERIC} numeric + {len(field_dims)} categorical fields, {sum(field_dims):,} ids; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for stem in stems:
        torch.manual_seed(0)
        with torch.device("meta"):  # counted without allocating (FFM's Kaggle-size table is 21 GB)
            row = [type(build(stem, field_dims)).__name__]
            if args.sizes:
                total, network = sizes(build(stem, field_dims))
                row += [f"{total:,}", f"{network:,}"]
        measured = []
        if args.speed:
            model = build(stem, field_dims)
            measured = [samples_per_second(model, field_dims, args.steps, bf16) for bf16 in (False, True)]
            row += [f"{value:,.0f}" for value in measured]
        if args.bound:
            # FLOPs do not depend on the tables' sizes: counted on small ones.
            flops = train_flops_per_sample(
                build(stem, [min(c, 1000) for c in field_dims]), field_dims=[min(c, 1000) for c in field_dims]
            )
            # Under 10 kFLOP a sample (FFM, FwFM, FM, LR) the step is gathers and elementwise
            # work: no dense layers, no compute bound worth the name.
            dense = flops >= 1e4
            bounds = [rates[dtype] * 1e9 / flops if dense else None for dtype in (torch.float32, torch.bfloat16)]
            row += [f"{flops / 1e6:.2f}"] + [f"{b:,.0f}" if b else "— (no dense layers)" for b in bounds]
            if measured:
                row += [f"{m / b:.1%}" if b else "—" for m, b in zip(measured, bounds)]
        print("| " + " | ".join(row) + " |", flush=True)
    print(f"(load average at the end {os.getloadavg()[0]:.1f})")
    if args.profile:
        for stem in stems:
            torch.manual_seed(0)
            print(f"\n{stem}, 3 fp32 steps:\n" + profile_step(build(stem, field_dims), field_dims))


if __name__ == "__main__":
    main()
