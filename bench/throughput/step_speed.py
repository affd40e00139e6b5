"""Seconds per DeepFM training step (forward, loss, penalty, backward, Adam) on random
Criteo-shaped batches, for each combination of preset (bare / regularised), precision
(fp32 / bf16 autocast) and eager vs the model's ``compile: true``, interleaved in one process.

    python bench/throughput/step_speed.py --steps 30 --rounds 3

Ids are drawn uniformly from the 1M-row throughput set's field sizes; the time of a step
does not depend on their values. Compilation happens in the warm-up steps, which are not
timed. Prints a markdown table (median over rounds, ms per step and samples/s).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

import torch
from litctr_entry import BATCH, EMBED_DIM, HIDDEN, LR, PRESETS

from lit_ctr.data.synthetic import criteo_like_cardinalities
from lit_ctr.models import DeepFM


def make_batches(count: int, field_dims: list[int], numeric: int) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    offsets = torch.tensor([0, *field_dims[:-1]]).cumsum(0)
    batches = []
    for _ in range(count):
        ids = torch.stack([torch.randint(0, d, (BATCH,), generator=generator) for d in field_dims], 1) + offsets
        batches.append({
            "ids": ids.int(), "numeric": torch.rand(BATCH, numeric, generator=generator),
            "label": torch.randint(0, 2, (BATCH,), generator=generator).float(),
        })  # fmt: skip
    return batches


def build(preset: str, compile: bool, field_dims: list[int]) -> tuple[DeepFM, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = DeepFM(
        field_dims, 13, embed_dim=EMBED_DIM, hidden_units=HIDDEN, compile=compile,
        optimizer=lambda p: torch.optim.Adam(p, lr=LR), **PRESETS[preset],
    )  # fmt: skip
    model.train()
    model.configure_model()
    return model, model.configure_optimizers()


def time_steps(model: DeepFM, optimizer, batches, bf16: bool) -> float:
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    start = time.perf_counter()
    for batch in batches:
        with autocast:
            objective = (model._objective or model.training_objective)(batch)[1]
        optimizer.zero_grad()
        objective.backward()
        optimizer.step()
    return (time.perf_counter() - start) / len(batches)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--presets", nargs="+", default=["bare", "regularised"])
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    field_dims = criteo_like_cardinalities(26, 1_000_000)
    batches = make_batches(args.warmup + args.steps, field_dims, 13)
    combos = list(itertools.product(args.presets, [False, True], [False, True]))  # preset, bf16, compile
    models = {}
    for preset, bf16, compile in combos:
        model, optimizer = build(preset, compile, field_dims)
        time_steps(model, optimizer, batches[: args.warmup], bf16)  # compiles here
        models[(preset, bf16, compile)] = (model, optimizer)
    times: dict[tuple, list[float]] = {c: [] for c in combos}
    for _ in range(args.rounds):
        for combo in combos:
            times[combo].append(time_steps(*models[combo], batches[args.warmup :], combo[1]))
    print(
        f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}, batch {BATCH}, {args.steps} steps x {args.rounds} rounds"
    )
    print("| preset | precision | step | ms/step (median) | samples/s | × eager |")
    print("|---|---|---|---|---|---|")
    for preset, bf16, compile in combos:
        ms = statistics.median(times[(preset, bf16, compile)]) * 1e3
        eager = statistics.median(times[(preset, bf16, False)]) * 1e3
        print(
            f"| {preset} | {'bf16-mixed' if bf16 else 'fp32'} | {'compiled' if compile else 'eager'} | {ms:.1f} | {BATCH / ms * 1e3:,.0f} | {eager / ms:.2f} |"
        )


if __name__ == "__main__":
    main()
