"""When do sparse embedding updates win? DeepFM through the real Trainer, dense tables with
(fused) Adam against ``sparse=True`` (SparseAdam for the tables, Adam for the rest), at total
vocabulary sizes 1e5, 1e6 and 1e7, in one run.

    python bench/throughput/sparse_sweep.py --out docs/sparse_sweep.md

Ids are drawn per field with a heavy head (Criteo-like: a few ids take most rows), 26
categorical + 13 numeric fields, embedding 10, MLP [400, 400, 400], batch 4096. Each entry
runs in its own process (so a 1e7 table does not inflate the next one's memory) and reports
samples/s over the timed steps and the peak RSS of its process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from litctr_entry import BATCH, EMBED_DIM, HIDDEN, LR, EpochTimer, peak_rss_mb  # noqa: E402

NUM_NUMERIC, NUM_CATEGORICAL = 13, 26


def cardinalities(total: int) -> list[int]:
    """Criteo-like per-field sizes (largest field first in the spread) summing to ~``total``."""
    from lit_ctr.data.synthetic import criteo_like_cardinalities

    low, high = 2, total
    while low < high:  # smallest largest-field size whose spread reaches the total
        mid = (low + high) // 2
        if sum(criteo_like_cardinalities(NUM_CATEGORICAL, mid)) < total:
            low = mid + 1
        else:
            high = mid
    return criteo_like_cardinalities(NUM_CATEGORICAL, low)


def synthetic_split(field_dims: list[int], rows: int, seed: int = 0):
    """Encoded arrays with global ids: per field ``floor(c * u**4)`` (heavy head, long tail)."""
    from lit_ctr.data.encoding import EncodedArrays

    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
    local = np.floor(np.asarray(field_dims) * rng.random((rows, len(field_dims))) ** 4).astype(np.int64)
    ids = (local + offsets).astype(np.int64)
    numeric = rng.random((rows, NUM_NUMERIC), dtype=np.float32)
    labels = (rng.random(rows) < 0.25).astype(np.float32)
    return EncodedArrays(ids=ids, numeric=numeric, labels=labels)


def run_one(total: int, sparse: bool, steps: int) -> dict:
    import lightning as L
    from torch.utils.data import DataLoader

    from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit
    from lit_ctr.models import DeepFM

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    dims = cardinalities(total)
    split = EncodedSplit(synthetic_split(dims, steps * BATCH))
    loader = DataLoader(split, sampler=BatchIndexSampler(len(split), BATCH, shuffle=True, seed=0), batch_size=None)
    training = {"optimizer": partial(torch.optim.Adam, lr=LR)}
    if sparse:
        training.update(sparse=True, sparse_optimizer=partial(torch.optim.SparseAdam, lr=LR))
    model = DeepFM(dims, NUM_NUMERIC, embed_dim=EMBED_DIM, hidden_units=HIDDEN, **training)
    timer = EpochTimer()
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False, logger=False, callbacks=[timer.callback],
    )  # fmt: skip
    trainer.fit(model, train_dataloaders=loader)
    return {
        "vocabulary": sum(dims), "sparse": sparse, "steps": steps,
        "samples_per_s": round(steps * BATCH / timer.seconds, 1), "peak_rss_mb": peak_rss_mb(),
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--totals", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--out", type=Path, default=HERE.parents[1] / "docs" / "sparse_sweep.md")
    p.add_argument("--one", nargs=2, metavar=("TOTAL", "SPARSE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(run_one(int(float(args.one[0])), args.one[1] == "1", args.steps)), flush=True)
        return
    results = []
    for total in args.totals:
        for sparse in (False, True):
            command = [sys.executable, __file__, "--steps", str(args.steps), "--one", str(int(total)), str(int(sparse))]
            with tempfile.TemporaryFile("w+") as err:
                out = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, text=True, check=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    lines = [
        "# Sparse embedding updates: when they win",
        "",
        f"DeepFM (embedding 10, MLP [400, 400, 400], batch 4096, Adam 1e-3) through the Trainer, "
        f"{args.steps} steps per entry, fp32, {os.cpu_count()} threads, torch {torch.__version__}, "
        f"{platform.machine()}; ids drawn per field with a heavy head over Criteo-like field sizes. "
        "Dense: one table, fused Adam over all of it every step. Sparse: `sparse: true`, SparseAdam "
        "on the rows in the batch, Adam on the rest. One invocation, one process per entry:",
        "",
        "```bash",
        f"python bench/throughput/sparse_sweep.py --steps {args.steps}",
        "```",
        "",
        "| vocabulary | dense samples/s | sparse samples/s | sparse ÷ dense | dense peak RSS MB | sparse peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for dense, sparse in zip(results[::2], results[1::2], strict=True):
        lines.append(
            f"| {dense['vocabulary']:,} | {dense['samples_per_s']:,.0f} | {sparse['samples_per_s']:,.0f} "
            f"| {sparse['samples_per_s'] / dense['samples_per_s']:.2f} | {dense['peak_rss_mb']:,.0f} | {sparse['peak_rss_mb']:,.0f} |"
        )
    # Hand-written notes under "## Notes" in an existing report are kept across reruns.
    notes = args.out.read_text().partition("\n## Notes")[1:] if args.out.exists() else ("", "")
    args.out.write_text("\n".join(lines) + "\n" + "".join(notes))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
