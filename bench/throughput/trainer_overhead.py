"""What the Trainer costs per step over the plain loop, each entry in a fresh process as in
the throughput benchmark, rounds interleaved: the plain loop, the Trainer, the Trainer
with the model under manual optimization, and the Trainer without the start-of-fit
``gc.freeze``. Reports the median step, the epoch, and the full (gen-2) garbage
collections that fell inside the epoch:

    python bench/throughput/trainer_overhead.py --data /root/bench_data/rows1000000/train.tsv \\
        --cache-dir /root/bench_data/cache --model fm --rounds 2

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


def run_trainer(model_name: str, dm, stamps: list[float], manual: bool) -> None:  # noqa: ANN001
    model = build_model(model_name, dm, sparse=False)
    if manual:  # CTRModule.training_step steps the optimizers itself then
        model.automatic_optimization = False
        model.optimizers = lambda use_pl_optimizer=True: [L.LightningModule.optimizers(model, use_pl_optimizer)]
    probe = Stamps(stamps)
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False, num_sanity_val_steps=0, limit_val_batches=0,
        logger=CSVLogger(tempfile.mkdtemp()), callbacks=[probe],
    )  # fmt: skip
    trainer.fit(model, dm)
    stamps.append(probe.end)


def run_plain(model_name: str, dm, stamps: list[float]) -> None:  # noqa: ANN001
    dm.setup("fit")
    model = build_model(model_name, dm, sparse=False)
    model.train()
    optimizer = model.configure_optimizers()
    split = EncodedSplit(dm.splits["train"])
    for index in BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0):
        stamps.append(time.perf_counter())
        batch = split[index]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            model(batch["ids"], batch["numeric"]), batch["label"]
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    stamps.append(time.perf_counter())


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
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--only", type=int, default=None, help=argparse.SUPPRESS)  # one entry, in this process
    args = p.parse_args()
    if args.hook_overhead:
        torch.set_num_threads(os.cpu_count())
        hook_overhead(max(args.rounds, 3))
        return
    if not (args.data and args.cache_dir):
        p.error("--data and --cache-dir are required (or --hook-overhead)")
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
        run_plain(args.model, dm, stamps)
    else:
        no_freeze = variant.endswith("no gc.freeze")
        with mock.patch.object(base, "freeze_for_fit", lambda: None) if no_freeze else contextlib.nullcontext():
            run_trainer(args.model, dm, stamps, manual="manual" in variant)
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    inside = [s for start, s in collections if stamps[0] <= start <= stamps[-1]]
    print(f"{statistics.median(steps) * 1e3:.2f} | {stamps[-1] - stamps[0]:.2f} | {len(inside)} ({sum(inside):.2f} s)")


def drive(args: argparse.Namespace) -> None:
    print(f"| {args.model} | median step ms | epoch s | gen-2 collections in the epoch |")
    print("|---|---|---|---|")
    for round_ in range(args.rounds):
        for i, variant in enumerate(VARIANTS):
            command = [sys.executable, __file__, "--data", args.data, "--cache-dir", args.cache_dir,
                       "--model", args.model, "--only", str(i)]  # fmt: skip
            line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(f"| {variant} (round {round_ + 1}) | {line} |", flush=True)


if __name__ == "__main__":
    main()
