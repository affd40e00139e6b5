"""Accuracy benchmark on frappe-86k: every model config in configs/frappe/, three seeds.

    python bench/accuracy/run.py                          # every config, seeds 0 1 2
    python bench/accuracy/run.py --models deepfm nfm --seeds 0
    python bench/accuracy/run.py --models deepfm --precision bf16-mixed   # accuracy of a faster setting

A run is ``lit-ctr fit`` with the seed overridden, then ``lit-ctr test`` on its best
checkpoint (best validation AUC), both through the CLI entry point (``build_cli``) in this
process. Each
run's figures go to ``bench/accuracy/results/<config>-seed<k>.json``; a run whose file
exists and was made from the same config settings is skipped, so an interrupted benchmark
resumes where it stopped, and a run whose config has changed since is made again. The table in
docs/accuracy.md is rewritten from all result files at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml
from lit_ctr.cli import build_cli

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "accuracy" / "results"
RUNS = REPO / "runs" / "accuracy"
TABLE = REPO / "docs" / "accuracy.md"
REFERENCES = """\
For comparison, test AUC on this split with the BARS settings, as reported in issue 3:
FuxiCTR 2.3.10 DeepFM 0.9605 (logloss 0.268), NFM 0.9376; DeepCTR-Torch 0.3.0 DeepFM 0.9096,
NFM 0.9364; a plain PyTorch DeepFM 0.958. BARS's own figures ([BARS](https://openbench.github.io/BARS/))
come from the full 202k-row training split and are higher: DeepFM 0.9839, NFM 0.9804.
"""


def run_args(config: Path, seed: int, version: str, precision: str | None = None) -> list[str]:
    """Overrides shared by fit and test: the seed (of the model and of the data order),
    a log folder per run, and the precision when one is given."""
    return [*(["--trainer.precision", precision] if precision else []),
        "--config", str(config.relative_to(REPO)),
        "--seed_everything", str(seed),
        "--data.init_args.shuffle_seed", str(seed),
        "--trainer.logger.init_args.save_dir", str(RUNS.relative_to(REPO)),
        "--trainer.logger.init_args.name", config.stem,
        "--trainer.logger.init_args.version", version,
        "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip


def config_digest(config: Path) -> str:
    """Identity of a config's settings (comments and layout aside): a result made from
    other settings is stale."""
    settings = json.dumps(yaml.safe_load(config.read_text()), sort_keys=True)
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def run_name(seed: int, precision: str | None) -> str:
    return f"{precision}-seed{seed}" if precision else f"seed{seed}"


def run_one(config: Path, seed: int, precision: str | None = None) -> dict:
    name = run_name(seed, precision)
    fit = run_args(config, seed, name, precision)
    # A left-over folder is an interrupted run: ModelCheckpoint would version its files.
    shutil.rmtree(RUNS / config.stem / name, ignore_errors=True)
    # `lit-ctr fit <fit>`, built and then run here so that the clock covers training only.
    cli = build_cli(fit, run=False)
    trainer = cli.trainer
    start = time.perf_counter()
    trainer.fit(cli.model, datamodule=cli.datamodule)
    seconds = time.perf_counter() - start
    # Other jobs on the machine slow every epoch: timings compare only at similar load.
    load = os.getloadavg()[0]
    best = trainer.checkpoint_callback.best_model_path
    epochs = trainer.current_epoch
    best_epoch = torch.load(best, map_location="cpu", weights_only=True)["epoch"] + 1

    test = ["test", *run_args(config, seed, f"{name}-test", precision), "--ckpt_path", os.path.relpath(best, REPO)]
    metrics = build_cli(test).trainer.callback_metrics
    return {
        "config": str(config.relative_to(REPO)),
        "config_sha256": config_digest(config),
        "model": type(cli.model).__name__,
        "seed": seed,
        "precision": precision or "32-true",
        "val_auc": float(trainer.checkpoint_callback.best_model_score),
        "test_auc": float(metrics["test/auc"]),
        "test_logloss": float(metrics["test/logloss"]),
        "epochs": epochs,
        "best_epoch": best_epoch,
        "seconds_per_epoch": seconds / max(epochs, 1),
        "commands": ["lit-ctr fit " + shlex.join(fit), "lit-ctr " + shlex.join(test)],
        "machine": machine(),
        "load_average": load,
    }


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def mean_std(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def write_table(results: list[dict], command: str) -> None:
    by_config: dict[tuple[str, str], list[dict]] = {}
    for result in sorted(results, key=lambda r: (r["config"], r.get("precision", "32-true") != "32-true", r["seed"])):
        by_config.setdefault((result["config"], result.get("precision", "32-true")), []).append(result)
    rows = [
        "| config | model | precision | seeds | test AUC | test logloss | val AUC | epochs (best) | s/epoch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (config, precision), runs in by_config.items():
        column = {key: [r[key] for r in runs] for key in runs[0]}
        rows.append(
            f"| `{config}` | {runs[0]['model']} | {precision} | {', '.join(map(str, column['seed']))} "
            f"| {mean_std(column['test_auc'], 4)} | {mean_std(column['test_logloss'], 4)} "
            f"| {mean_std(column['val_auc'], 4)} "
            f"| {statistics.fmean(column['epochs']):.0f} ({statistics.fmean(column['best_epoch']):.0f}) "
            f"| {statistics.fmean(column['seconds_per_epoch']):.1f} |"
        )
    machines = sorted({r["machine"] for r in results})
    loads = [r["load_average"] for r in results]
    example = results[0]["commands"] if results else []
    # Hand-written notes under "## Notes" in the existing page are kept across reruns.
    notes = "".join(TABLE.read_text().partition("\n## Notes")[1:]) if TABLE.exists() else ""
    TABLE.write_text(
        "# Accuracy on frappe-86k\n\n"
        "Test AUC and logloss of the checkpoint with the best validation AUC, mean ± sample standard\n"
        "deviation over seeds (`seed_everything` and the data order's `shuffle_seed` both set to the\n"
        "seed), on the frappe-86k split (../shared/data/README.md: 60,607 / 17,316 / 8,659 rows). Epochs\n"
        "are those trained before early stopping (patience in each config), with the best epoch in\n"
        "brackets; seconds per epoch include validation. Written by\n\n"
        f"```bash\n{command}\n```\n\n"
        "from the per-run files in `bench/accuracy/results/`.\n\n"
        + "\n".join(rows)
        + "\n\n"
        + REFERENCES
        + "\nMachine: "
        + "; ".join(machines)
        + (f"; 1-minute load average at the end of each fit {min(loads):.1f}–{max(loads):.1f}" if loads else "")
        + ".\n\nEach run is these two commands (here the first run's):\n\n```bash\n"
        + "\n".join(example)
        + "\n```\n"
        + notes
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="config names in configs/frappe/ (default: all)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--precision", help="Trainer precision for these runs (default: the config's)")
    args = parser.parse_args(argv)

    os.chdir(REPO)  # configs name the data relative to the repository root
    configs = sorted((REPO / "configs" / "frappe").glob("*.yaml"))
    if args.models:
        configs = [c for c in configs if c.stem in args.models]
    RESULTS.mkdir(parents=True, exist_ok=True)
    for config in configs:
        for seed in args.seeds:
            target = RESULTS / f"{config.stem}-{run_name(seed, args.precision)}.json"
            if target.exists() and json.loads(target.read_text()).get("config_sha256") == config_digest(config):
                print(f"accuracy: {target.name} done, skipping", file=sys.stderr)
                continue
            result = run_one(config, seed, args.precision)
            target.write_text(json.dumps(result, indent=2) + "\n")
            print(f"accuracy: {target.name}: test AUC {result['test_auc']:.4f}", file=sys.stderr)

    results = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    # Only results of the configs as they stand now go into the table.
    results = [r for r in results if r.get("config_sha256") == config_digest(REPO / r["config"])]
    arguments = argv if argv is not None else sys.argv[1:]
    write_table(results, "python " + shlex.join(["bench/accuracy/run.py", *arguments]))


if __name__ == "__main__":
    main()
