"""Where the Trainer's extra time per step goes: the plain loop and the Trainer phase by
phase (batch, forward, zero_grad, backward, optimizer step, and what lies between), in one
process, segments alternating ABBA, a fresh model each, no profiler attached:

    python bench/throughput/trainer_phases.py --data /tmp/bench_data/rows1000000/train.tsv \\
        --cache-dir /tmp/bench_data/cache --preset bare --precision bf16-mixed --segments 4

Each phase is the median over a segment's steps (the first 5 left out), then the median
over segments; also the minor page faults a step. The Trainer's phases are read from its
hooks (``on_train_batch_start``, ``on_before_zero_grad``, ``on_before_backward``,
``on_after_backward``, ``on_before_optimizer_step``, ``on_train_batch_end``) and a wrapper
around ``training_step``; its "batch" phase runs from one batch's end hook to the next
one's start hook (Lightning's fetcher, the DataLoader, the transfer hooks, the loop's own
work).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from typing import Any

import lightning as L
import torch
from litctr_entry import BATCH, build_model, datamodule
from trainer_overhead import bench_trainer

from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit

WARM = 5  # the first steps fault the optimizer's state and the kept blocks in
PHASES = ("batch", "forward", "zero_grad", "backward", "optimizer", "hooks and loop", "step", "page faults")


def plain_phases(args: argparse.Namespace, dm: Any) -> dict[str, float]:
    """The plain loop of trainer_overhead.py with a clock between its lines."""
    dm.setup("fit")
    model = build_model("deepfm", dm, sparse=False, preset=args.preset)
    model.train()
    optimizer = model.configure_optimizers()
    split = EncodedSplit(dm.splits["train"])
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")
    clock, rows = time.perf_counter, []
    batches = iter(BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0))
    faults = []
    for _ in range(args.steps):
        faults.append(minor_faults())
        t0 = clock()
        batch = split[next(batches)]
        t1 = clock()
        with autocast:
            loss = model.training_objective(batch)[1]
        t2 = clock()
        optimizer.zero_grad()
        t3 = clock()
        loss.backward()
        t4 = clock()
        optimizer.step()
        rows.append((t0, t1, t2, t3, t4, clock()))
    rows = rows[WARM:]
    step = [b[0] - a[0] for a, b in zip(rows, rows[1:])]
    return {
        "batch": median([r[1] - r[0] for r in rows]),
        "forward": median([r[2] - r[1] for r in rows]),
        "zero_grad": median([r[3] - r[2] for r in rows]),
        "backward": median([r[4] - r[3] for r in rows]),
        "optimizer": median([r[5] - r[4] for r in rows]),
        "hooks and loop": median([b[0] - a[5] for a, b in zip(rows, rows[1:])]),
        "step": median(step),
        "page faults": statistics.median(b - a for a, b in zip(faults[WARM:], faults[WARM + 1 :])),
    }


def minor_faults() -> int:
    """This process's minor page faults so far (first touches of freshly mapped memory)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class PhaseClock(L.Callback):
    """Stamps each training step at the hooks Lightning calls around its parts."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.steps: list[dict[str, float]] = []

    def stamp(self, name: str) -> None:
        self.current[name] = time.perf_counter()

    def on_train_batch_start(self, *args: Any) -> None:
        self.current = {"start": time.perf_counter(), "faults": minor_faults()}

    def on_before_zero_grad(self, *args: Any) -> None:
        self.stamp("zero_grad")

    def on_before_backward(self, *args: Any) -> None:
        self.stamp("backward")

    def on_after_backward(self, *args: Any) -> None:
        self.stamp("after_backward")

    def on_before_optimizer_step(self, *args: Any) -> None:
        self.stamp("optimizer")

    def on_train_batch_end(self, *args: Any) -> None:
        self.stamp("end")
        self.steps.append(self.current)


def trainer_phases(args: argparse.Namespace, dm: Any) -> dict[str, float]:
    model = build_model("deepfm", dm, sparse=False, preset=args.preset)
    clock = PhaseClock()
    training_step = model.training_step

    def timed_training_step(batch: Any, batch_idx: int) -> Any:
        clock.stamp("forward")
        out = training_step(batch, batch_idx)
        clock.stamp("forward_end")
        return out

    model.training_step = timed_training_step  # type: ignore[method-assign]
    bench_trainer(args.precision, args.steps, [clock]).fit(model, dm)
    rows = clock.steps[WARM:]
    forward = median([r["forward_end"] - r["forward"] for r in rows])
    zero_grad = median([r["backward"] - r["forward_end"] for r in rows])  # zero_grad and its hooks
    backward = median([r["after_backward"] - r["backward"] for r in rows])
    optimizer = median([r["end"] - r["optimizer"] for r in rows])  # Adam, then the step's end hooks
    inside = median([r["forward"] - r["start"] + r["optimizer"] - r["after_backward"] for r in rows])
    return {
        "batch": median([b["start"] - a["end"] for a, b in zip(rows, rows[1:])]),
        "forward": forward,
        "zero_grad": zero_grad,
        "backward": backward,
        "optimizer": optimizer,
        "hooks and loop": inside,
        "step": median([b["start"] - a["start"] for a, b in zip(rows, rows[1:])]),
        "page faults": statistics.median(b["faults"] - a["faults"] for a, b in zip(rows, rows[1:])),
    }


def median(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--preset", choices=["bare", "regularised"], default="bare")
    p.add_argument("--precision", choices=["32-true", "bf16-mixed"], default="32-true")
    p.add_argument("--segments", type=int, default=4, help="segments of each, alternating ABBA")
    p.add_argument("--steps", type=int, default=50, help="steps in a segment")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    dm = datamodule(args.data, args.cache_dir)
    dm.prepare_data()
    results: dict[str, list[dict[str, float]]] = {"plain": [], "trainer": []}
    for segment in range(args.segments):
        order = ("plain", "trainer") if segment % 2 == 0 else ("trainer", "plain")
        for variant in order:
            torch.manual_seed(segment)
            phases = plain_phases(args, dm) if variant == "plain" else trainer_phases(args, dm)
            results[variant].append(phases)
    print(f"DeepFM {args.preset} {args.precision}, {args.segments} segments of {args.steps} steps, ms (median)")
    print("| phase | plain loop | Trainer | Trainer − plain |")
    print("|---|---|---|---|")
    for phase in PHASES:
        plain = statistics.median(r[phase] for r in results["plain"])
        trainer = statistics.median(r[phase] for r in results["trainer"])
        print(f"| {phase} | {plain:.2f} | {trainer:.2f} | {trainer - plain:+.2f} |")
    print("(page faults: minor page faults a step, the median; the rest in ms)")


if __name__ == "__main__":
    main()
