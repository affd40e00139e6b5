"""Accuracy of a planted multi-valued field: DeepFM with the field vs without it, and vs the
generator's Bayes AUC, on synthetic data (3 seeds).

The generator (``SyntheticCTRDataModule`` with ``multi_cardinalities``) plants an FM in
which one multi-valued field ``M1`` (``|``-separated values, Poisson lengths) is one field
whose vector is the mean of its values' vectors. "with" reads ``M1`` as ``kind: multi``
(``pooling: mean``); "without" leaves it out of the schema — the labels still depend on
it. Each run fits DeepFM, keeps the best validation-AUC checkpoint and reports its test
AUC next to the test split's Bayes AUC (the planted probabilities' expected AUC).

    python bench/accuracy/multi_valued.py                      # seeds 0 1 2
    python bench/accuracy/multi_valued.py --seeds 0 --rows 50000

Results: one JSON per run in bench/accuracy/results_multi_valued/, and a Markdown table
printed at the end (copied into docs/data.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from lit_ctr.models import DeepFM
from lit_ctr.synthetic import SyntheticCTRDataModule

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "accuracy" / "results_multi_valued"


def run(seed: int, with_field: bool, args: argparse.Namespace) -> dict:
    seed_everything(seed, workers=True)
    root = REPO / "runs" / "multi_valued" / f"seed{seed}-{'with' if with_field else 'without'}"
    data = SyntheticCTRDataModule(
        rows=args.rows,
        numeric_fields=2,
        categorical_fields=args.categorical_fields,
        max_cardinality=30,
        multi_cardinalities=[args.multi_cardinality],
        multi_mean_lengths=[args.mean_length],
        multi_max_len=args.max_len,
        use_multi_fields=with_field,
        seed=seed,
        data_dir=str(REPO / ".lit_ctr_cache" / "synthetic"),
        cache_dir=str(REPO / ".lit_ctr_cache"),
        batch_size=1024,
        shuffle_seed=seed,
    )
    data.prepare_data()
    data.setup("fit")
    model = DeepFM(
        data.field_dims,
        data.num_numeric,
        embed_dim=8,
        hidden_units=[64, 32],
        multi_fields=data.multi_fields,
        optimizer=lambda params: torch.optim.Adam(params, lr=3e-3),
    )
    checkpoint = ModelCheckpoint(dirpath=root, monitor="val/auc", mode="max", filename="best")
    trainer = Trainer(
        max_epochs=args.epochs,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[checkpoint],
        default_root_dir=root,
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=data)
    (metrics,) = trainer.test(model, datamodule=data, ckpt_path="best", verbose=False)
    result = {
        "seed": seed,
        "with_multi_field": with_field,
        "test_auc": metrics["test/auc"],
        "test_logloss": metrics["test/logloss"],
        "bayes_auc": data.bayes_auc["test"],
        "seconds": time.perf_counter() - start,
        "rows": args.rows,
        "epochs": args.epochs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"seed{seed}-{'with' if with_field else 'without'}.json").write_text(json.dumps(result, indent=1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--categorical_fields", type=int, default=4)
    parser.add_argument("--multi_cardinality", type=int, default=30)
    parser.add_argument("--mean_length", type=float, default=5.0)
    parser.add_argument("--max_len", type=int, default=20)
    args = parser.parse_args()
    results = [run(seed, with_field, args) for seed in args.seeds for with_field in (True, False)]
    print("| seed | DeepFM with M1 | DeepFM without M1 | gain | Bayes AUC | with M1: gap to Bayes |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        with_, without = (
            next(r for r in results if r["seed"] == seed and r["with_multi_field"] is w) for w in (True, False)
        )
        print(
            f"| {seed} | {with_['test_auc']:.4f} | {without['test_auc']:.4f} | {with_['test_auc'] - without['test_auc']:+.4f} "
            f"| {with_['bayes_auc']:.4f} | {with_['bayes_auc'] - with_['test_auc']:.4f} |"
        )
    gains = [r["test_auc"] for r in results if r["with_multi_field"]]
    losses = [r["test_auc"] for r in results if not r["with_multi_field"]]
    print(f"mean gain {statistics.mean(gains) - statistics.mean(losses):+.4f} over {len(args.seeds)} seeds")


if __name__ == "__main__":
    main()
