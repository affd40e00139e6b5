"""One lit-ctr throughput entry, run in its own process so its peak RSS is its own.

Modes:
  cache       build the training entries' cache entry, untimed.
  preprocess  encode the raw TSV into a fresh cache (CTRDataModule.prepare_data), timed.
  trainer     one epoch through the real Lightning Trainer (progress bar off, CSV logger
              at its default cadence, no validation), timed from the first to the last
              training batch.
  plain       the same model and the same pre-encoded arrays and batch gather in a
              hand-written PyTorch loop: the practical ceiling of the Trainer.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from functools import partial

import torch
from peers._common import peak_rss_mb  # one definition for every entry, peers included

HIDDEN = [400, 400, 400]
EMBED_DIM = 10
BATCH = 4096
LR = 1e-3
PRESETS = {
    # The network alone: the ceiling study.
    "bare": {},
    # What people run (issue 18; BARS's DeepFM has the same three): batch norm and dropout
    # in the MLP, L2 on the embedding rows a batch uses. Peers get the same in their terms.
    "regularised": {"batch_norm": True, "dropout": 0.2, "embedding_l2": 0.05},
}


def schema() -> dict:
    return {
        "label": "label",
        "fields": [{"name": f"I{i}", "kind": "numeric", "transform": "log1p"} for i in range(1, 14)]
        + [{"name": f"C{i}"} for i in range(1, 27)],
    }


def datamodule(data: str, cache_dir: str):
    from lit_ctr.data import CTRDataModule

    return CTRDataModule(
        schema=schema(), train_path=data, file_format={"kind": "tsv", "has_header": False},
        cache_dir=cache_dir, batch_size=BATCH, shuffle_seed=0,
    )  # fmt: skip


# Issue 15's models, side by side with DeepCTR-Torch (peers/deepctr_torch_entry.py): the network
# settings of configs/frappe/<name>.yaml (structure, dropout, batch norm) at embedding 10 and
# Adam 1e-3; no penalties (embedding_l2, attention_l2) and no weight decay, in both libraries.
FRAPPE_MODELS = ["afm", "xdeepfm", "autoint", "dcn_v2", "fibinet"]
PENALTIES = ("embedding_l2", "attention_l2", "net_l2")
# What DeepCTR-Torch cannot set, set to what it does, so both libraries do the same work:
# its AutoInt heads are embedding/heads = 5 wide (autoint.yaml has 32).
SAME_WORK = {"autoint": {"attention_dim": EMBED_DIM // 2}}


def build_frappe_model(name: str, dm):
    """``name``'s class and network settings from its frappe config, embedding 10, Adam 1e-3."""
    from models import frappe_args  # bench/throughput/models.py: one reader of the configs

    cls, args = frappe_args(name)
    args = {k: v for k, v in args.items() if k not in PENALTIES}
    args.update(embed_dim=EMBED_DIM, optimizer=partial(torch.optim.Adam, lr=LR), **SAME_WORK.get(name, {}))
    return cls(dm.field_dims, dm.num_numeric, **args)


def build_model(name: str, dm, sparse: bool, preset: str = "bare", compile: bool = False):
    from lit_ctr import models

    if name in FRAPPE_MODELS:
        if sparse or compile or preset != "bare":
            raise SystemExit(f"{name}: only the bare dense entry is defined (the frappe config's network)")
        return build_frappe_model(name, dm)
    cls = {"deepfm": models.DeepFM, "nfm": models.NFM, "fm": models.FM}[name]
    kwargs = {"embed_dim": EMBED_DIM, "optimizer": partial(torch.optim.Adam, lr=LR)}
    if name != "fm":
        kwargs["hidden_units"] = HIDDEN
        kwargs.update(PRESETS[preset])
    elif "embedding_l2" in PRESETS[preset]:
        kwargs["embedding_l2"] = PRESETS[preset]["embedding_l2"]
    if compile:
        kwargs["compile"] = True
    if sparse:
        kwargs.update(sparse=True, sparse_optimizer=partial(torch.optim.SparseAdam, lr=LR))
    return cls(dm.field_dims, dm.num_numeric, **kwargs)


WARMUP_BATCHES = 3  # compiled entries compile in the first batch; steady state starts after these


class EpochTimer:
    """Wall time from the first training batch's start to the last one's end, and from the
    end of the ``WARMUP_BATCHES``-th batch (the steady state, after any compilation)."""

    def __init__(self) -> None:
        import lightning as L

        class _Timer(L.Callback):
            def on_train_batch_start(cb, *args) -> None:  # noqa: N805
                if self.start is None:
                    self.start = time.perf_counter()

            def on_train_batch_end(cb, trainer, module, outputs, batch, batch_idx) -> None:  # noqa: N805
                self.end = time.perf_counter()
                if batch_idx == WARMUP_BATCHES - 1:
                    self.warm = self.end

        self.start: float | None = None
        self.warm: float | None = None
        self.end: float | None = None
        self.callback = _Timer()

    @property
    def seconds(self) -> float:
        return self.end - self.start


def run_trainer(args, dm) -> tuple[float, int, float]:
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger

    from lit_ctr.callbacks import FreezeGarbageCollection  # what the lit-ctr command adds

    model = build_model(args.model, dm, args.sparse, args.preset, args.compile)
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", precision=args.precision, enable_progress_bar=False,
        enable_model_summary=False, enable_checkpointing=False, num_sanity_val_steps=0,
        limit_val_batches=0, logger=CSVLogger(tempfile.mkdtemp()), callbacks=[timer.callback, FreezeGarbageCollection()],
    )  # fmt: skip
    trainer.fit(model, dm)
    return timer.seconds, len(dm.splits["train"]), timer.end - timer.warm


def run_plain(args, dm) -> tuple[float, int, float]:
    from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit

    dm.setup("fit")
    model = build_model(args.model, dm, args.sparse, args.preset, args.compile)
    model.train()
    model.configure_model()  # as the Trainer does first: sparse tables are switched on here
    optimizers = model.configure_optimizers()
    optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
    split = EncodedSplit(dm.splits["train"])
    sampler = BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")
    start = warm = time.perf_counter()
    for step, index in enumerate(sampler):
        if step == WARMUP_BATCHES:
            warm = time.perf_counter()
        batch = split[index]
        with autocast:  # the model's forward, log loss and penalty, as its training_step has them
            loss = model.training_objective(batch)[1]
        for optimizer in optimizers:
            optimizer.zero_grad()
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
    end = time.perf_counter()
    return end - start, len(split), end - warm


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True)
    p.add_argument("--mode", choices=["cache", "preprocess", "trainer", "plain"], required=True)
    p.add_argument("--model", choices=["deepfm", "nfm", "fm", *FRAPPE_MODELS], default="deepfm")
    p.add_argument("--precision", default="32-true")
    p.add_argument("--sparse", action="store_true")
    p.add_argument("--preset", choices=sorted(PRESETS), default="bare")
    p.add_argument("--compile", action="store_true", help="the model's compile option (torch.compile)")
    p.add_argument("--cache-dir", required=True)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    result = {
        "library": "lit-ctr",
        "mode": args.mode,
        "model": args.model,
        "precision": args.precision,
        "sparse": args.sparse,
        "preset": args.preset,
        "compile": args.compile,
    }
    if args.mode == "cache":
        datamodule(args.data, args.cache_dir).prepare_data()
        return
    if args.mode == "preprocess":
        os.makedirs(args.cache_dir, exist_ok=True)
        cache = tempfile.mkdtemp(dir=args.cache_dir)
        dm = datamodule(args.data, cache)
        start = time.perf_counter()
        dm.prepare_data()
        result.update(preprocess_s=round(time.perf_counter() - start, 3), rows=dm.meta["rows"]["train"])
        shutil.rmtree(cache)  # timed once; the training entries use their own entry
    else:
        dm = datamodule(args.data, args.cache_dir)
        dm.prepare_data()
        seconds, rows, steady = (run_trainer if args.mode == "trainer" else run_plain)(args, dm)
        result.update(train_s=round(seconds, 3), rows=rows, samples_per_s=round(rows / seconds, 1))
        steady_rows = rows - WARMUP_BATCHES * BATCH
        result.update(steady_s=round(steady, 3), steady_samples_per_s=round(steady_rows / steady, 1))
    result["peak_rss_mb"] = peak_rss_mb()
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
