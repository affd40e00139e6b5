"""What the Trainer costs per step over the plain loop, each entry in a fresh process as in
the throughput benchmark, rounds interleaved: the plain loop, the Trainer, the Trainer
with the model under manual optimization, and the Trainer without the start-of-fit
``gc.freeze``. Reports the median step, the epoch, and the full (gen-2) garbage
collections that fell inside the epoch:

    python bench/throughput/trainer_overhead.py --data /root/bench_data/rows1000000/train.tsv \\
        --cache-dir /root/bench_data/cache --model fm --rounds 2

``--pairs 8`` runs the plain loop and the Trainer alternating in one process, 60-step
segments (``--paired-steps``), a fresh model each, and reports each pair's ratio.

``--preset regularised`` and ``--precision bf16-mixed`` give the throughput benchmark's other
configurations (the plain loop then runs the model's ``training_objective`` under the same
autocast the Trainer uses), and ``--variants plain trainer`` keeps only those two.

``--hook-overhead`` measures instead what the Trainer adds per step, on steps that cost
almost nothing (logistic regression on 8-row batches, in memory, one process, rounds
interleaved): the plain loop, the Trainer, and the Trainer with ``CTRModule``'s
``__setattr__`` shortcut undone:

    python bench/throughput/trainer_overhead.py --hook-overhead
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from unittest import mock

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger
from litctr_entry import BATCH, build_model, datamodule

from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit
from lit_ctr.models import base

VARIANTS = ("plain", "trainer", "trainer, manual optimization", "trainer, no gc.freeze")


class Stamps(L.Callback):
    def __init__(self, stamps: list[float]) -> None:
        self.stamps = stamps

    def on_train_batch_start(self, *args) -> None:  # noqa: ANN002
        self.stamps.append(time.perf_counter())

    def on_train_batch_end(self, *args) -> None:  # noqa: ANN002
        self.end = time.perf_counter()


def run_trainer(args: argparse.Namespace, dm, stamps: list[float], manual: bool, steps: int = -1) -> None:  # noqa: ANN001
    model = build_model(args.model, dm, sparse=False, preset=args.preset)
    if manual:  # CTRModule.training_step steps the optimizers itself then
        model.automatic_optimization = False
        model.optimizers = lambda use_pl_optimizer=True: [L.LightningModule.optimizers(model, use_pl_optimizer)]
    probe = Stamps(stamps)
    bench_trainer(args.precision, steps, [probe]).fit(model, dm)
    stamps.append(probe.end)


def bench_trainer(precision: str, steps: int, callbacks: list[L.Callback]) -> L.Trainer:
    """The benchmark's Trainer: one epoch (or ``steps``), no bar, checkpoints or validation,
    the CSV logger at its default cadence."""
    return L.Trainer(
        max_epochs=1, max_steps=steps, accelerator="cpu", precision=precision, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, num_sanity_val_steps=0, limit_val_batches=0,
        logger=CSVLogger(tempfile.mkdtemp()), callbacks=callbacks,
    )  # fmt: skip


def run_plain(args: argparse.Namespace, dm, stamps: list[float], steps: int = -1) -> None:  # noqa: ANN001
    dm.setup("fit")
    model = build_model(args.model, dm, sparse=False, preset=args.preset)
    model.train()
    optimizer = model.configure_optimizers()
    split = EncodedSplit(dm.splits["train"])
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")
    for step, index in enumerate(BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0)):
        if step == steps:
            break
        stamps.append(time.perf_counter())
        batch = split[index]
        with autocast:  # log loss plus penalty, as the Trainer's training_step has it
            loss = model.training_objective(batch)[1]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    stamps.append(time.perf_counter())


def paired(args: argparse.Namespace) -> None:
    """The plain loop and the Trainer in one process, alternating in short segments (ABBA
    order), each segment a fresh model: a slow spell of the shared machine then lands on
    both sides of a pair instead of on one process of the epoch-long comparison."""
    torch.set_num_threads(os.cpu_count())
    dm = datamodule(args.data, args.cache_dir)
    dm.prepare_data()
    warm = 5  # the first steps fault the optimizer's state and the kept blocks in
    print(f"| {args.model} {args.preset} {args.precision}, {args.paired_steps} steps a segment | plain ms/step "
          "| trainer ms/step | trainer × plain |")  # fmt: skip
    print("|---|---|---|---|")
    ratios, medians = [], {"plain": [], "trainer": []}
    for pair in range(args.pairs):
        order = ("plain", "trainer") if pair % 2 == 0 else ("trainer", "plain")
        result = {}
        for variant in order:
            stamps: list[float] = []
            torch.manual_seed(pair)
            if variant == "plain":
                run_plain(args, dm, stamps, steps=args.paired_steps)
            else:
                run_trainer(args, dm, stamps, manual=False, steps=args.paired_steps)
            result[variant] = statistics.median(b - a for a, b in zip(stamps[warm:], stamps[warm + 1 :]))
            medians[variant].append(result[variant])
        ratios.append(result["plain"] / result["trainer"])
        print(f"| pair {pair + 1} ({order[0]} first) | {result['plain'] * 1e3:.1f} | {result['trainer'] * 1e3:.1f} "
              f"| {ratios[-1]:.3f} |", flush=True)  # fmt: skip
    print(f"| median of {args.pairs} pairs | {statistics.median(medians['plain']) * 1e3:.1f} "
          f"| {statistics.median(medians['trainer']) * 1e3:.1f} | {statistics.median(ratios):.3f} |")  # fmt: skip


def hook_overhead(rounds: int, steps: int = 3000) -> None:
    from lit_ctr.models import LR

    torch.manual_seed(0)
    batches = [
        {"ids": torch.randint(0, 100, (8, 4)), "numeric": torch.randn(8, 2), "label": torch.randint(0, 2, (8,)).float()}
        for _ in range(steps)
    ]

    def model() -> LR:
        return LR([25, 25, 25, 25], 2, optimizer=torch.optim.Adam)

    def plain() -> float:
        lr = model()
        optimizer = lr.configure_optimizers()
        start = time.perf_counter()
        for batch in batches:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                lr(batch["ids"], batch["numeric"]), batch["label"]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return (time.perf_counter() - start) / steps

    def trainer() -> float:
        stamps: list[float] = []
        probe = Stamps(stamps)
        L.Trainer(
            max_epochs=1, accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
            enable_checkpointing=False, logger=CSVLogger(tempfile.mkdtemp()), callbacks=[probe],
        ).fit(model(), torch.utils.data.DataLoader(batches, batch_size=None))  # fmt: skip
        return (probe.end - stamps[0]) / (steps - 1)

    def trainer_without_shortcut() -> float:
        with mock.patch.object(base.CTRModule, "__setattr__", L.LightningModule.__setattr__):
            return trainer()

    variants = {"plain loop": plain, "trainer": trainer, "trainer, nn.Module.__setattr__": trainer_without_shortcut}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            times[name].append(run())
    print(f"| {steps}-step epoch, logistic regression, 8-row batches | µs per step (median of {rounds}) |")
    print("|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values) * 1e6:.0f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hook-overhead", action="store_true", help="what the Trainer adds per step (see above)")
    p.add_argument("--data")
    p.add_argument("--cache-dir")
    p.add_argument("--model", choices=["deepfm", "nfm", "fm"], default="fm")
    p.add_argument("--preset", choices=["bare", "regularised"], default="bare")
    p.add_argument("--precision", choices=["32-true", "bf16-mixed"], default="32-true")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS), metavar="VARIANT")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--pairs", type=int, default=0, help="the plain loop and the Trainer alternating in one process")
    p.add_argument("--paired-steps", type=int, default=60, help="steps in each segment of --pairs")
    p.add_argument("--only", type=int, default=None, help=argparse.SUPPRESS)  # one entry, in this process
    args = p.parse_args()
    if args.hook_overhead:
        torch.set_num_threads(os.cpu_count())
        hook_overhead(max(args.rounds, 3))
        return
    if not (args.data and args.cache_dir):
        p.error("--data and --cache-dir are required (or --hook-overhead)")
    if args.pairs:
        paired(args)
        return
    if args.only is None:
        drive(args)
        return
    torch.set_num_threads(os.cpu_count())
    dm = datamodule(args.data, args.cache_dir)
    dm.prepare_data()
    collections: list[tuple[float, float]] = []  # (start, seconds) of every gen-2 collection
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append((started[0], time.perf_counter() - started[0]))

    gc.callbacks.append(watch)
    variant = VARIANTS[args.only]
    stamps: list[float] = []
    if variant == "plain":
        run_plain(args, dm, stamps)
    else:
        no_freeze = variant.endswith("no gc.freeze")
        with mock.patch.object(base, "freeze_for_fit", lambda: None) if no_freeze else contextlib.nullcontext():
            run_trainer(args, dm, stamps, manual="manual" in variant)
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    inside = [s for start, s in collections if stamps[0] <= start <= stamps[-1]]
    print(f"{statistics.median(steps) * 1e3:.2f} | {stamps[-1] - stamps[0]:.2f} | {len(inside)} ({sum(inside):.2f} s)")


def drive(args: argparse.Namespace) -> None:
    print(
        f"| {args.model} {args.preset} {args.precision} | median step ms | epoch s | gen-2 collections in the epoch |"
    )
    print("|---|---|---|---|")
    for round_ in range(args.rounds):
        for variant in args.variants:
            command = [sys.executable, __file__, "--data", args.data, "--cache-dir", args.cache_dir,
                       "--model", args.model, "--preset", args.preset, "--precision", args.precision,
                       "--only", str(VARIANTS.index(variant))]  # fmt: skip
            line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(f"| {variant} (round {round_ + 1}) | {line} |", flush=True)


if __name__ == "__main__":
    main()
