"""Do the generic model configs hold up on data they were not tuned on? (issue 13)

    python bench/accuracy/generic.py                                 # every configs/models/*.yaml, 3 data sets, seeds 0 1 2
    python bench/accuracy/generic.py --datasets criteo syn20k --seeds 0 --models deepfm lr fm
    python bench/accuracy/generic.py --criteo /data/criteo/train_head10k.txt

Every ``configs/models/<model>.yaml`` runs UNCHANGED, composed with a data config this script
writes (``runs/accuracy_generic/data/<set>.yaml``), on three data sets:

- ``criteo``: the raw Criteo head (10,000 rows, ``--criteo``, by default
  ``../shared/data/criteo/train_head10k.txt`` from the repository root), split 8:1:1 by
  ``path`` + ``split_fractions`` + a fixed ``split_seed``, numeric fields bucketized;
- ``syn20k``: 20,000 generated rows, 20% positives, 2 numeric + 8 categorical fields;
- ``syn200k``: 200,000 generated rows, 3% positives, 4 numeric + 20 categorical fields
  (both from lit-ctr's synthetic generator, written once as CSV, 8:1:1 in row order).

A run is ``lit-ctr fit --config configs/models/<model>.yaml --config <set>.yaml
--seed_everything <k>`` and then ``lit-ctr test`` on that fit's BEST checkpoint (the one its
``checkpoint`` callback kept on val/auc), both through the CLI in this process, two torch
threads. ``fnn_random`` is ``configs/models/fnn.yaml`` without its ``fm_pretraining`` block:
FNN from random vectors, the comparison issue 13 asks for.

Each run's figures go to ``bench/accuracy/results_generic/<set>/<model>-seed<k>.json``; a run
whose file exists and was made from the same model and data settings is skipped (an
interrupted benchmark resumes). The table in docs/accuracy_generic.md is rewritten from all
current result files at the end (hand-written notes under ``## Notes`` are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "accuracy" / "results_generic"
WORK = REPO / "runs" / "accuracy_generic"
TABLE = REPO / "docs" / "accuracy_generic.md"
FRAPPE_TABLE = REPO / "docs" / "accuracy.md"
DEFAULT_CRITEO = "../shared/data/criteo/train_head10k.txt"
RANDOM_FNN = "fnn_random"  # fnn.yaml without fm_pretraining
BAR = 0.005  # issue 13: no lower than the better of LR and FM minus this

# The generated sets: (rows, base rate, numeric fields, categorical fields, largest field, batch size, seed).
SYNTHETIC = {
    "syn20k": {"rows": 20_000, "base_rate": 0.20, "num_numeric": 2, "categorical": 8, "max_card": 1_000, "seed": 13},
    "syn200k": {"rows": 200_000, "base_rate": 0.03, "num_numeric": 4, "categorical": 20, "max_card": 10_000, "seed": 7},
}
BATCH_SIZE = {"criteo": 256, "syn20k": 512, "syn200k": 2048}
DATASETS = ["criteo", "syn20k", "syn200k"]


def synthetic_api() -> tuple[Any, Any, Any]:
    """``SyntheticSpec``, ``write_synthetic`` and ``criteo_like_cardinalities`` wherever this
    version of lit-ctr keeps them (``lit_ctr.synthetic`` or the older ``lit_ctr.data.synthetic``)."""
    try:
        from lit_ctr.synthetic import SyntheticSpec, criteo_like_cardinalities, write_synthetic
    except ImportError:
        from lit_ctr.data.synthetic import SyntheticSpec, criteo_like_cardinalities, write_synthetic
    return SyntheticSpec, write_synthetic, criteo_like_cardinalities


def criteo_data(path: str) -> dict:
    fields = [{"name": f"I{i}", "kind": "numeric", "transform": "bucketize"} for i in range(1, 14)]
    fields += [{"name": f"C{i}", "min_count": 2} for i in range(1, 27)]
    return {
        "path": path,
        "split_fractions": [0.8, 0.1, 0.1],
        "split_seed": 2021,
        "file_format": {"kind": "tsv", "has_header": False},
        "schema": {"label": "label", "fields": fields},
    }


def synthetic_data(name: str) -> tuple[dict, dict]:
    """Write the generated set once (reused when its manifest matches); its data settings and manifest."""
    spec_cls, write_synthetic, cardinalities = synthetic_api()
    s = SYNTHETIC[name]
    spec = spec_cls(
        rows=s["rows"],
        num_numeric=s["num_numeric"],
        cardinalities=cardinalities(s["categorical"], s["max_card"]),
        base_rate=s["base_rate"],
        seed=s["seed"],
    )
    directory = WORK / "data" / name
    paths = write_synthetic(directory, spec, file_format="csv")
    manifest = json.loads((directory / "synthetic.json").read_text())
    fields = [{"name": f"I{i}", "kind": "numeric", "transform": "bucketize"} for i in range(1, s["num_numeric"] + 1)]
    fields += [{"name": f"C{i}", "min_count": 2} for i in range(1, s["categorical"] + 1)]
    data = {  # relative to the repository root (the runs' working directory): the settings'
        # digest must not depend on where the repository was cloned
        "train_path": rel(paths["train"]),
        "valid_path": rel(paths["valid"]),
        "test_path": rel(paths["test"]),
        "file_format": {"kind": "csv", "has_header": True},
        "schema": {"label": "label", "fields": fields},
    }
    return data, manifest


def write_data_config(name: str, criteo: str) -> tuple[Path, dict | None]:
    """``runs/accuracy_generic/data/<name>.yaml`` (data only) and the generator's manifest, if any."""
    data, manifest = (criteo_data(criteo), None) if name == "criteo" else synthetic_data(name)
    data["batch_size"] = BATCH_SIZE[name]  # data, not model: small sets get small batches
    config = WORK / "data" / f"{name}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump({"data": {"class_path": "CTRDataModule", "init_args": data}}, sort_keys=False))
    return config, manifest


def model_config(stem: str) -> Path:
    """The model config as shipped, or for ``fnn_random`` fnn.yaml less its ``fm_pretraining`` block."""
    if stem != RANDOM_FNN:
        return REPO / "configs" / "models" / f"{stem}.yaml"
    settings = yaml.safe_load((REPO / "configs" / "models" / "fnn.yaml").read_text())
    settings.pop("fm_pretraining", None)
    target = WORK / "configs" / f"{RANDOM_FNN}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(settings, sort_keys=False))
    return target


def digest(*configs: Path) -> str:
    """Identity of the settings (comments and layout aside): a result made from other settings is stale."""
    settings = json.dumps([yaml.safe_load(c.read_text()) for c in configs], sort_keys=True)
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def rel(path: Path | str) -> str:
    return os.path.relpath(path, REPO)


def run_args(model: Path, data: Path, seed: int, name: str, version: str) -> list[str]:
    return [
        "--config", rel(model),
        "--config", rel(data),
        "--seed_everything", str(seed),
        "--data.init_args.shuffle_seed", str(seed),
        "--trainer.logger.init_args.save_dir", rel(WORK / "runs"),
        "--trainer.logger.init_args.name", name,
        "--trainer.logger.init_args.version", version,
        "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip


def run_one(stem: str, dataset: str, data: Path, seed: int) -> dict:
    from lit_ctr.cli import build_cli

    model = model_config(stem)
    name, version = f"{dataset}-{stem}", f"seed{seed}"
    for folder in (version, f"{version}-test"):  # a left-over folder is an interrupted run
        shutil.rmtree(WORK / "runs" / name / folder, ignore_errors=True)
    fit = run_args(model, data, seed, name, version)
    start = time.perf_counter()
    cli = build_cli(["fit", *fit])
    seconds = time.perf_counter() - start
    trainer = cli.trainer
    best = trainer.checkpoint_callback.best_model_path
    if not best:
        raise RuntimeError(f"{stem} on {dataset}, seed {seed}: the fit kept no best checkpoint")
    best_epoch = torch.load(best, map_location="cpu", weights_only=False)["epoch"] + 1
    fm_auc = fm_phase_auc(getattr(cli.model, "fm_checkpoint", None))
    # `lit-ctr test --ckpt_path <best>`: the checkpoint with the best val/auc, not the last weights.
    test = ["test", *run_args(model, data, seed, name, f"{version}-test"), "--ckpt_path", rel(best)]
    metrics = build_cli(test).trainer.callback_metrics
    wall = time.perf_counter() - start
    return {
        "model_config": rel(REPO / "configs" / "models" / "fnn.yaml") if stem == RANDOM_FNN else rel(model),
        "variant": stem,
        "dataset": dataset,
        "settings_sha256": digest(model, data),
        "model": type(cli.model).__name__,
        "seed": seed,
        "val_auc": float(trainer.checkpoint_callback.best_model_score),
        "test_auc": float(metrics["test/auc"]),
        "test_logloss": float(metrics["test/logloss"]),
        "fm_best_val_auc": fm_auc,
        "epochs": trainer.current_epoch,
        "best_epoch": best_epoch,
        "seconds": seconds,  # the fit
        "wall_seconds": wall,  # fit and test
        "commands": ["lit-ctr fit " + shlex.join(fit), "lit-ctr " + shlex.join(test)],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)",
        "load_average": os.getloadavg()[0],
    }


def fm_phase_auc(fm_checkpoint: str | None) -> float | None:
    """fm/val/auc of the FM an FNN started from (its best checkpoint's own score), if any."""
    if not fm_checkpoint:
        return None
    states = torch.load(fm_checkpoint, map_location="cpu", weights_only=False).get("callbacks", {})
    for state in states.values():
        if (
            isinstance(state, dict)
            and state.get("monitor") == "fm/val/auc"
            and state.get("best_model_score") is not None
        ):
            return float(state["best_model_score"])
    return None


def run_and_save(item: tuple) -> str:
    """Run one (model, data set, seed) and write its result file; the one-line summary."""
    stem, dataset, data, seed, target, threads = item
    torch.set_num_threads(threads)
    os.chdir(REPO)
    try:
        result = run_one(stem, dataset, data, seed)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the CLI exits on a bad config; report, go on
        return f"generic: {dataset}/{target.name}: FAILED ({type(error).__name__}: {error})"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    return (
        f"generic: {dataset}/{target.name}: test AUC {result['test_auc']:.4f} logloss "
        f"{result['test_logloss']:.4f} epochs {result['epochs']} (best {result['best_epoch']}) "
        f"{result['seconds']:.0f} s"
    )


def frappe_figures() -> dict[str, str]:
    """Test AUC of each frappe-tuned config (fp32 rows of docs/accuracy.md), by model config stem."""
    if not FRAPPE_TABLE.exists():
        return {}
    found = {}
    for line in FRAPPE_TABLE.read_text().splitlines():
        match = re.match(r"\| `configs/frappe/(\w+)\.yaml` \| \w+ \| 32-true \| [^|]+ \| ([^|]+) \|", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def mean_std(values: list[float], digits: int = 4) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def dataset_section(dataset: str, runs: list[dict], description: str, frappe: dict[str, str]) -> list[str]:
    by_variant: dict[str, list[dict]] = {}
    for run in sorted(runs, key=lambda r: (r["variant"], r["seed"])):
        by_variant.setdefault(run["variant"], []).append(run)
    means = {v: statistics.fmean(r["test_auc"] for r in rs) for v, rs in by_variant.items()}
    shallow = [means[v] for v in ("lr", "fm") if v in means]
    bar = max(shallow) - BAR if shallow else None
    lines = [f"### {dataset}", "", description, ""]
    if bar is not None:
        lines += [f"Bar: the better of LR and FM minus {BAR} = **{bar:.4f}**.", ""]
    lines += [
        "| model config | model | seeds | test AUC | test logloss | epochs (best) | bar | frappe-tuned test AUC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, rs in by_variant.items():
        config = "fnn.yaml without fm_pretraining" if variant == RANDOM_FNN else f"`{variant}.yaml`"
        verdict = "" if bar is None else ("met" if means[variant] >= bar else "**NOT met**")
        if variant in ("lr", "fm"):
            verdict = "(baseline)"
        if variant == "fnn" and RANDOM_FNN in means:
            verdict += "; ≥ random FNN" if means["fnn"] >= means[RANDOM_FNN] else "; **< random FNN**"
        if variant == "fnn":
            fm = [r["fm_best_val_auc"] for r in rs if r.get("fm_best_val_auc") is not None]
            if fm:
                verdict += f" (FM phase val AUC {statistics.fmean(fm):.3f})"
        lines.append(
            f"| {config} | {rs[0]['model']} | {', '.join(str(r['seed']) for r in rs)} "
            f"| {mean_std([r['test_auc'] for r in rs])} | {mean_std([r['test_logloss'] for r in rs])} "
            f"| {statistics.fmean(r['epochs'] for r in rs):.0f} ({statistics.fmean(r['best_epoch'] for r in rs):.0f}) "
            f"| {verdict} | {frappe.get(variant, '')} |"
        )
    return [*lines, ""]


def describe(dataset: str, manifest: dict | None) -> str:
    if manifest is None:
        return (
            "Criteo head (`train_head10k.txt`, 10,000 rows, 13 numeric fields bucketized, 26 categorical,"
            " ids seen once → OOV), 8:1:1 by `split_fractions` with `split_seed` 2021."
        )
    spec, stats = manifest["spec"], manifest["stats"]
    numeric, categorical = spec["num_numeric"], len(spec["cardinalities"])
    rates = ", ".join(f"{k} {v['rows']:,} rows at {v['positive_rate']:.1%}" for k, v in stats.items())
    return (
        f"Generated: {spec['rows']:,} rows, {numeric} numeric + {categorical} categorical fields "
        f"(cardinalities {min(spec['cardinalities'])}–{max(spec['cardinalities'])}), seed {spec['seed']}; {rates}. "
        f"Bayes-optimal test AUC of the planted model: **{stats['test']['bayes_auc']:.4f}**."
    )


def write_table(results: list[dict], manifests: dict[str, dict | None], command: str, total: float | None) -> None:
    frappe = frappe_figures()
    sections = []
    for dataset in DATASETS:
        runs = [r for r in results if r["dataset"] == dataset]
        if runs:
            sections += dataset_section(dataset, runs, describe(dataset, manifests.get(dataset)), frappe)
    machines = sorted({r["machine"] for r in results})
    loads = [r["load_average"] for r in results]
    notes = "".join(TABLE.read_text().partition("\n## Notes")[1:]) if TABLE.exists() else ""
    example = results[0]["commands"] if results else []
    run_minutes = sum(r.get("wall_seconds", r["seconds"]) for r in results) / 60
    TABLE.write_text(
        "# Accuracy of the generic configs on data they were not tuned on\n\n"
        "Every `configs/models/*.yaml` run unchanged with a data config, three seeds (`seed_everything`\n"
        "and the data order's `shuffle_seed` both set to the seed), tested on the checkpoint with the\n"
        "best val/auc (`lit-ctr test --ckpt_path <best>`). Test AUC and logloss: mean ± sample\n"
        "standard deviation over seeds. Epochs: trained before early stopping (best in brackets).\n"
        "The bar (issue 13): each model's mean test AUC no lower than the better of LR and FM minus\n"
        f"{BAR}; FNN with pre-training no worse than FNN from random vectors. The last column is each\n"
        "model's frappe-tuned config (configs/frappe/) on frappe, from [Accuracy on frappe](accuracy.md),\n"
        "for reference only (another data set). Written by\n\n"
        f"```bash\n{command}\n```\n\n"
        "from the per-run files in `bench/accuracy/results_generic/`"
        + f"; the runs in it took {run_minutes:.0f} minutes of fit and test time in all"
        + (f" (this invocation {total / 60:.0f} minutes of wall time)" if total is not None else "")
        + ".\n\n"
        + "\n".join(sections)
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
    parser.add_argument("--datasets", nargs="*", default=DATASETS, choices=DATASETS)
    parser.add_argument("--models", nargs="*", help=f"configs/models/ stems, or {RANDOM_FNN} (default: all, both FNNs)")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--criteo", default=DEFAULT_CRITEO, help=f"the Criteo head, from the repo root ({DEFAULT_CRITEO})"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process (default 1)")
    parser.add_argument("--threads", type=int, help="torch threads per run (default: 2 divided among the jobs)")
    parser.add_argument("--no-table", action="store_true", help="run only; leave docs/accuracy_generic.md alone")
    args = parser.parse_args(argv)

    threads = args.threads if args.threads else max(1, 2 // args.jobs)
    torch.set_num_threads(threads)
    os.chdir(REPO)  # data configs name files relative to the repository root
    stems = sorted(p.stem for p in (REPO / "configs" / "models").glob("*.yaml")) + [RANDOM_FNN]
    if args.models:
        unknown = sorted(set(args.models) - set(stems))
        if unknown:
            parser.error(f"--models: no configs/models/{unknown[0]}.yaml (choose from {', '.join(stems)})")
        stems = [s for s in stems if s in args.models]
    start = time.perf_counter()
    manifests: dict[str, dict | None] = {}
    work = []
    for dataset in args.datasets:
        data, manifests[dataset] = write_data_config(dataset, args.criteo)
        for stem in stems:
            for seed in args.seeds:
                target = RESULTS / dataset / f"{stem}-seed{seed}.json"
                if target.exists() and json.loads(target.read_text()).get("settings_sha256") == digest(
                    model_config(stem), data
                ):
                    print(f"generic: {dataset}/{target.name} done, skipping", file=sys.stderr)
                    continue
                work.append((stem, dataset, data, seed, target, threads))
    if args.jobs > 1:  # one fresh process per run, `threads` torch threads each
        with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
            for line in pool.imap_unordered(run_and_save, work):
                print(line, file=sys.stderr)
    else:
        for item in work:
            print(run_and_save(item), file=sys.stderr)
    total = time.perf_counter() - start
    print(f"generic: total {total:.0f} s ({total / 60:.1f} min)", file=sys.stderr)
    if args.no_table:
        return
    for dataset in DATASETS:  # the table covers every set with current results
        if dataset not in manifests and (RESULTS / dataset).is_dir():
            manifests[dataset] = write_data_config(dataset, args.criteo)[1]
    results = []
    for path in sorted(RESULTS.glob("*/*.json")):
        result = json.loads(path.read_text())
        data = WORK / "data" / f"{result['dataset']}.yaml"
        if data.exists() and result["settings_sha256"] == digest(model_config(result["variant"]), data):
            results.append(result)  # only results of the settings as they stand now
    arguments = argv if argv is not None else sys.argv[1:]
    write_table(results, manifests, "python " + shlex.join(["bench/accuracy/generic.py", *arguments]), total)


if __name__ == "__main__":
    main()
