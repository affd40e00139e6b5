"""FNN convergence on frappe-86k: validation AUC per FNN epoch, with and without FM pre-training.

    python bench/accuracy/fnn_curve.py --threads 1 --seeds 2021 0 1   # → docs/fnn_convergence.{png,md}
    python bench/accuracy/fnn_curve.py --threads 1 --seeds 2021 0 1 --replot   # redraw only

Two ``lit-ctr fit`` runs of ``configs/frappe/fnn.yaml`` per seed (the seed sets
``seed_everything`` and the data order), through the CLI entry point in this process,
each saved as ``runs/fnn_curve/<variant>/seed<k>.json``: as configured (``fm_pretraining``: an FM fit, then the FNN fit
starting from its vectors), and with ``--fm_pretraining=null`` (FNN from random
vectors, everything else equal). Each best checkpoint (best ``val/auc``, which only FNN
epochs produce) is then scored with ``lit-ctr test``. The figure's x-axis counts FNN
epochs (phase 2) for both runs; the FM phase's length is in the legend and the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
import torch  # noqa: E402
from lit_ctr.cli import build_cli  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs" / "frappe" / "fnn.yaml"
RUNS = REPO / "runs" / "fnn_curve"
DOCS = REPO / "docs"
VARIANTS = {"pretrained": [], "random-init": ["--fm_pretraining=null"]}
LABELS = {"pretrained": "FNN with FM pre-training", "random-init": "FNN from random vectors"}


def common_args(config: Path, seed: int, name: str, version: str) -> list[str]:
    return [
        "--config", os.path.relpath(config, REPO),
        "--seed_everything", str(seed),
        "--data.init_args.shuffle_seed", str(seed),
        "--trainer.logger.init_args.save_dir", os.path.relpath(RUNS, REPO),
        "--trainer.logger.init_args.name", name,
        "--trainer.logger.init_args.version", version,
        "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip


def run(config: Path, seed: int, variant: str) -> dict:
    """Fit and test one variant; returns its curve and figures."""
    name, version = variant, f"seed{seed}"
    shutil.rmtree(RUNS / name / version, ignore_errors=True)  # a left-over run would version the files
    fit = ["fit", *common_args(config, seed, name, version), *VARIANTS[variant]]
    start = time.perf_counter()
    trainer = build_cli(fit).trainer
    seconds = time.perf_counter() - start
    best = trainer.checkpoint_callback.best_model_path
    metrics = pl.read_csv(RUNS / name / version / "metrics.csv")

    fnn = metrics.drop_nulls("val/auc").select("epoch", "val/auc").sort("epoch")
    first_fnn_epoch = int(fnn["epoch"][0])
    fm = (
        metrics.drop_nulls("fm/val/auc").select("epoch", "fm/val/auc").sort("epoch")
        if "fm/val/auc" in metrics.columns
        else pl.DataFrame({"epoch": [], "fm/val/auc": []})
    )
    best_epoch = int(torch.load(best, map_location="cpu", weights_only=True)["epoch"])

    test = ["test", *common_args(config, seed, name, f"{version}-test"), "--ckpt_path", os.path.relpath(best, REPO)]
    shutil.rmtree(RUNS / name / f"{version}-test", ignore_errors=True)
    scores = build_cli(test).trainer.callback_metrics
    return {
        "variant": variant,
        "seed": seed,
        "fm_epochs": fm.height,
        "fm_best_auc": float(fm["fm/val/auc"].max()) if fm.height else None,
        "fm_epoch_aucs": fm["fm/val/auc"].to_list(),
        "fnn_aucs": fnn["val/auc"].to_list(),  # index i: FNN epoch i + 1
        "best_fnn_epoch": best_epoch - first_fnn_epoch + 1,
        "best_val_auc": float(fnn["val/auc"].max()),
        "test_auc": float(scores["test/auc"]),
        "test_logloss": float(scores["test/logloss"]),
        "epochs": int(metrics["epoch"].max()) + 1,
        "seconds": seconds,
        "commands": ["lit-ctr " + shlex.join(fit), "lit-ctr " + shlex.join(test)],
    }


def plot(results: list[dict], path: Path, floor: float = 0.90) -> None:
    """Left: every seed's FNN-phase curves (the first seed drawn solid); right: the first
    seed's pre-trained run as one fit."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = {"pretrained": "tab:blue", "random-init": "tab:orange"}
    seeds = list(dict.fromkeys(r["seed"] for r in results))
    labelled: set[str] = set()
    for r in results:
        epochs = range(1, len(r["fnn_aucs"]) + 1)
        fm_epochs = sorted({x["fm_epochs"] for x in results if x["variant"] == r["variant"]})
        label = LABELS[r["variant"]] + (f" (after {'/'.join(map(str, fm_epochs))} FM epochs)" if r["fm_epochs"] else "")
        left.plot(epochs, r["fnn_aucs"], marker="o", ms=3, color=colors[r["variant"]], alpha=1 if r["seed"] == seeds[0] else 0.45,
                  label=None if r["variant"] in labelled else label)  # fmt: skip
        labelled.add(r["variant"])
        left.plot(r["best_fnn_epoch"], r["fnn_aucs"][r["best_fnn_epoch"] - 1], "*", ms=14, color=colors[r["variant"]])
    fm_best = [r["fm_best_auc"] for r in results if r["fm_epochs"]]
    if fm_best:
        left.axhline(max(fm_best), ls=":", color="gray", label=f"best FM of phase 1 (fm/val/auc {max(fm_best):.4f})")
    below = [r["fnn_aucs"][0] for r in results if r["fnn_aucs"][0] < floor]
    if below:
        left.set_ylim(bottom=floor)
        left.annotate(f"random-init epoch 1: {min(below):.3f}–{max(below):.3f} (below the axis)", (1, floor), xytext=(4, 4),
                      textcoords="offset points", fontsize=8, color="tab:orange")  # fmt: skip
    left.set(xlabel="FNN epoch (phase 2; the FM phase comes before epoch 1)", ylabel="validation AUC",
             title="FNN on frappe-86k: validation AUC per FNN epoch (★ best)")  # fmt: skip
    left.grid(alpha=0.3)
    left.legend(loc="center right", fontsize=8, title=f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}",
                title_fontsize=8)  # fmt: skip

    pre = next(r for r in results if r["variant"] == "pretrained" and r["seed"] == seeds[0])
    fm_x = range(1, pre["fm_epochs"] + 1)
    fnn_x = range(pre["fm_epochs"] + 1, pre["fm_epochs"] + len(pre["fnn_aucs"]) + 1)
    right.plot(fm_x, pre["fm_epoch_aucs"], marker="o", ms=3, color="tab:green", label="fm/val/auc (phase 1: FM)")
    right.plot(fnn_x, pre["fnn_aucs"], marker="o", ms=3, color="tab:blue", label="val/auc (phase 2: FNN)")
    right.axvline(pre["fm_epochs"] + 0.5, ls="--", color="gray")
    right.set(xlabel="epoch of the one fit (trainer.max_epochs counts both phases)", ylabel="validation AUC",
              title=f"The pre-trained run as one fit (seed {pre['seed']})")  # fmt: skip
    right.grid(alpha=0.3)
    right.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def first_epoch_reaching(aucs: list[float], level: float) -> int | str:
    return next((i + 1 for i, auc in enumerate(aucs) if auc >= level), "never")


def table(results: list[dict], command: str, level: float) -> str:
    rows = [
        f"| run | seed | FM epochs (phase 1) | FNN epoch of best val AUC | FNN epochs to val AUC ≥ {level} "
        "| best val AUC | test AUC | test logloss | epochs in all | wall time |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {LABELS[r['variant']]} | {r['seed']} | {r['fm_epochs'] or '–'} | {r['best_fnn_epoch']} "
            f"| {first_epoch_reaching(r['fnn_aucs'], level)} "
            f"| {r['best_val_auc']:.4f} | {r['test_auc']:.4f} | {r['test_logloss']:.4f} | {r['epochs']} "
            f"| {r['seconds'] / 60:.1f} min |"
        )
    seeds = sorted({r["seed"] for r in results})
    if len(seeds) > 1:
        for variant in VARIANTS:
            tests = [r["test_auc"] for r in results if r["variant"] == variant]
            best = [r["best_fnn_epoch"] for r in results if r["variant"] == variant]
            rows.append(
                f"| **{LABELS[variant]}, mean of {len(tests)}** | | | {statistics.mean(best):.1f} | | "
                f"| **{statistics.mean(tests):.4f} ± {statistics.stdev(tests):.4f}** | | | |"
            )
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    runs = "\n".join(f"    {c}" for r in results for c in r["commands"])
    return (
        "# FNN convergence on frappe-86k (with and without FM pre-training)\n\n"
        "![validation AUC per FNN epoch](fnn_convergence.png)\n\n" + "\n".join(rows) + "\n\n"
        "FNN epochs count phase 2 only; the pre-trained run spends its FM epochs first (same\n"
        "`trainer.max_epochs` budget). Test figures are the best-`val/auc` checkpoint's.\n"
        f"Machine: {machine} (wall times depend on what else the machine runs).\n\n"
        f"Made by:\n\n    {command}\n\nwhich ran:\n\n{runs}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2021])
    parser.add_argument("--out", type=Path, default=DOCS / "fnn_convergence", help="writes OUT.png and OUT.md")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--replot", action="store_true", help="redraw from the runs' saved results, train nothing")
    parser.add_argument("--level", type=float, default=0.95, help="the table counts FNN epochs to this val AUC")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.chdir(REPO)  # config data paths are relative to the repository root
    results = []
    for seed in args.seeds:
        for variant in VARIANTS:
            saved = RUNS / variant / f"seed{seed}.json"
            if not args.replot:
                saved.parent.mkdir(parents=True, exist_ok=True)
                saved.write_text(json.dumps(run(args.config.resolve(), seed, variant), indent=1))
            results.append(json.loads(saved.read_text()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(results, args.out.with_suffix(".png"))
    command = "python " + shlex.join([os.path.relpath(__file__, REPO), *(a for a in sys.argv[1:] if a != "--replot")])
    args.out.with_suffix(".md").write_text(table(results, command, args.level))
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
