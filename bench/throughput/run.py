"""Training throughput of lit-ctr against DeepCTR-Torch, FuxiCTR, a plain PyTorch loop and
the compute bound, side by side in one run on the same synthetic Criteo-shaped data.

    python bench/throughput/run.py --rows 1000000 --repeats 3

Every entry runs in its own process (peak RSS per entry) with torch pinned to all cores.
Peers run from bench/.venv-peers (bench/throughput/peers/setup_env.sh) when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"


def generate(rows: int, data_dir: Path) -> Path:
    from lit_ctr.data.synthetic import SyntheticSpec, criteo_like_cardinalities, write_synthetic

    spec = SyntheticSpec(rows=rows, cardinalities=criteo_like_cardinalities(26, 1_000_000))
    return write_synthetic(data_dir / f"rows{rows}", spec, splits={"train": 1.0})["train"]


def run_json(command: list[str], log: Path) -> dict:
    with open(log, "a") as err:
        err.write(f"\n$ {' '.join(command)}  (load {os.getloadavg()[0]:.2f})\n")
        err.flush()
        out = subprocess.run(command, stdout=subprocess.PIPE, stderr=err, text=True, check=True).stdout
    # Files an entry wrote (a fresh cache, FuxiCTR's parquet) are flushed now, not while the
    # next entry is being timed.
    os.sync()
    return json.loads(out.strip().splitlines()[-1])


def matmul_gflops(seconds: float = 3.0) -> float:
    """Measured float32 matmul rate at the MLP's shape ([4096, 400] x [400, 400])."""
    torch.set_num_threads(os.cpu_count())
    a, b = torch.randn(4096, 400), torch.randn(400, 400)
    for _ in range(10):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * 4096 * 400 * 400 * count / (time.perf_counter() - start) / 1e9


def train_flops_per_sample(model: str) -> float:
    """Forward + backward FLOPs per sample of the dense layers (≈ 3 × forward matmuls)."""
    width = 39 * 10
    if model == "nfm":
        width = 10
    macs, prev = 0, width
    for units in (400, 400, 400, 1):
        macs += prev * units
        prev = units
    return 3 * 2 * macs


ENTRY_NAMES = {
    "trainer": ("trainer", []), "plain": ("plain", []),
    "trainer-sparse": ("trainer", ["--sparse"]), "plain-sparse": ("plain", ["--sparse"]),
    "trainer-bf16": ("trainer", ["--precision", "bf16-mixed"]), "plain-bf16": ("plain", ["--precision", "bf16-mixed"]),
    "trainer-sparse-bf16": ("trainer", ["--sparse", "--precision", "bf16-mixed"]),
    "trainer-compile": ("trainer", ["--compile"]), "trainer-compile-bf16": ("trainer", ["--compile", "--precision", "bf16-mixed"]),
}  # fmt: skip
# Issue 15's models (their frappe configs' networks, litctr_entry.FRAPPE_MODELS) run against
# DeepCTR-Torch only; FuxiCTR's entry composes DeepFM, NFM and FM alone.
FRAPPE_MODELS = ["afm", "xdeepfm", "autoint", "dcn_v2", "fibinet"]
PEER_MODELS = {"deepctr_torch": ["deepfm", "nfm", "fm", *FRAPPE_MODELS], "fuxictr": ["deepfm", "nfm", "fm"]}
MODEL_NAMES = {"deepfm": "DeepFM", "nfm": "NFM", "fm": "FM", "afm": "AFM", "xdeepfm": "xDeepFM",
               "autoint": "AutoInt+", "dcn_v2": "DCNv2", "fibinet": "FiBiNET"}  # fmt: skip
DEFAULT_ENTRIES = (
    "trainer",
    "plain",
    "trainer-bf16",
    "plain-bf16",
    "trainer-sparse",
    "trainer-compile",
    "trainer-compile-bf16",
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--data-dir", type=Path, default=Path("/root/bench_data"))
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "throughput.md")
    p.add_argument("--models", nargs="+", default=["deepfm", "nfm", "fm"], choices=list(MODEL_NAMES))
    p.add_argument(
        "--presets",
        nargs="+",
        default=["regularised", "bare"],
        choices=["regularised", "bare"],
        help="model settings: regularised (batch norm, dropout 0.2, embedding L2 0.05) and bare (none)",
    )
    p.add_argument(
        "--entries",
        nargs="+",
        choices=sorted(ENTRY_NAMES),
        default=list(DEFAULT_ENTRIES),
        help="lit-ctr entries to run (default: %(default)s)",
    )
    p.add_argument("--repeats", type=int, default=3, help="rounds of the lit-ctr entries (median reported)")
    p.add_argument("--skip-peers", action="store_true")
    p.add_argument(
        "--peer-rounds", type=int, default=1, help="rounds the peers run in (from the first; median reported)"
    )
    p.add_argument("--report-only", action="store_true", help="rewrite the report from DATA_DIR/results.json")
    p.add_argument("--remeasure-matmul", action="store_true", help="with --report-only: measure the matmul rate again")
    args = p.parse_args()
    if args.report_only:
        saved = json.loads((args.data_dir / "results.json").read_text())
        if args.remeasure_matmul:
            saved["matmul_gflops"], saved["matmul_remeasured"] = matmul_gflops(), True
            (args.data_dir / "results.json").write_text(json.dumps(saved, indent=1))
        write_report(args, saved["results"], saved["matmul_gflops"], saved.get("matmul_remeasured", False))
        return
    data = generate(args.rows, args.data_dir)
    cache = args.data_dir / "cache"
    log = args.data_dir / "throughput.log"
    entry = [sys.executable, str(HERE / "litctr_entry.py"), "--data", str(data), "--cache-dir", str(cache)]
    peers = PEERS_PYTHON.exists() and not args.skip_peers
    # The training entries' cache entry is built here, untimed, so that no training entry
    # pays for encoding (in its time or its peak RSS); the preprocessing entry times a
    # fresh one of its own.
    subprocess.run(entry + ["--mode", "cache"], check=True, stdout=subprocess.DEVNULL)
    os.sync()

    # Rounds interleave every entry, so a slow spell of the shared machine hits all of them
    # alike; the peers (one run each, they are slow) sit in the first round beside ours.
    results = []
    for round_ in range(args.repeats):
        results.append({**run_json(entry + ["--mode", "preprocess"], log), "round": round_})
        for preset in args.presets:
            for model in args.models:
                for name in args.entries:
                    mode, extra = ENTRY_NAMES[name]
                    command = entry + ["--mode", mode, "--model", model, "--preset", preset, *extra]
                    results.append({**run_json(command, log), "round": round_})
                    print(json.dumps(results[-1]), flush=True)
                # The peers' regularised entries are defined for DeepFM (the headline) only.
                if peers and round_ < args.peer_rounds and (preset == "bare" or model == "deepfm"):
                    for library in [lib for lib in ("deepctr_torch", "fuxictr") if model in PEER_MODELS[lib]]:
                        out = args.data_dir / f"{library}_{model}_{preset}.json"
                        script = HERE / "peers" / f"{library}_entry.py"
                        command = [str(PEERS_PYTHON), str(script), "--data", str(data), "--model", model]
                        command += ["--preset", preset, "--json", str(out)]
                        results.append({**run_json(command, log), "preset": preset, "round": round_})
                        print(json.dumps(results[-1]), flush=True)
    rate = matmul_gflops()
    (args.data_dir / "results.json").write_text(json.dumps({"results": results, "matmul_gflops": rate}, indent=1))
    write_report(args, results, rate)


FRAPPE_SETTINGS = (
    "the network of configs/frappe/<model>.yaml (MLP, dropout, batch norm, the interaction's own "
    "sizes) at embedding 10, Adam 1e-3, no penalties and no weight decay; DeepCTR-Torch gets the "
    "same in its terms (bench/throughput/peers/deepctr_torch_entry.py, FRAPPE_KWARGS), with the 13 "
    "numeric columns label-encoded into fields so that its interaction sees 39 fields as lit-ctr's does"
)


def entry_label(r: dict) -> str:
    if r["library"] != "lit-ctr":
        return f"{r['library']} {r.get('version', '')}".strip()
    compiled = ", compile" if r.get("compile") else ""
    return f"lit-ctr {r['mode']} ({r['precision']}, {'sparse' if r['sparse'] else 'dense'}{compiled})"


def summarize(runs: list[dict], key: str, spec: str = ",.0f") -> tuple[float, str]:
    """Median of ``key`` over the runs, and its range when there are several."""
    values = sorted(r[key] for r in runs)
    median = statistics.median(values)
    return median, (f"{values[0]:{spec}}–{values[-1]:{spec}}" if len(values) > 1 else "")


def write_report(args, results: list[dict], gflops: float, remeasured: bool = False) -> None:
    peer_rounds = len({r["round"] for r in results if r["library"] != "lit-ctr"}) or 1
    names = MODEL_NAMES
    lines = [
        "# Training throughput"
        + (f": {', '.join(names[m] for m in args.models)}" if args.models != ["deepfm", "nfm", "fm"] else ""),
        "",
        f"One epoch on {args.rows:,} synthetic Criteo-shaped rows (13 numeric + 26 categorical fields, "
        "cardinalities up to 1e6), embedding 10, MLP [400, 400, 400], batch 4096, Adam 1e-3, "
        f"{os.cpu_count()} threads, torch {torch.__version__}, {platform.processor() or platform.machine()}. "
        f"All entries ran in one invocation, one process each; the lit-ctr entries ran in {args.repeats} "
        "interleaved rounds (median, with the range), the peers "
        + ("once, in the first round:" if peer_rounds == 1 else f"in the first {peer_rounds} of them:"),
        "",
        "```bash",
        f"python bench/throughput/run.py --rows {args.rows} --repeats {args.repeats}"
        + (f" --models {' '.join(args.models)}" if args.models != ["deepfm", "nfm", "fm"] else "")
        + (f" --presets {' '.join(args.presets)}" if args.presets != ["regularised", "bare"] else "")
        + (f" --entries {' '.join(args.entries)}" if list(args.entries) != list(DEFAULT_ENTRIES) else "")
        + (f" --peer-rounds {peer_rounds}" if peer_rounds != 1 else "")
        + (
            f" --out {os.path.relpath(args.out.resolve(), ROOT)}"
            if args.out.resolve() != ROOT / "docs" / "throughput.md"
            else ""
        ),
        "```",
        "",
        f"Measured float32 matmul rate at the MLP's shape: {gflops:.1f} GFLOP/s"
        + (
            " (measured again after the run, on the idle machine, with --report-only --remeasure-matmul)."
            if remeasured
            else "."
        ),
        "",
    ]
    pre = [r for r in results if r.get("preprocess_s") is not None]
    lines += [
        "## Preprocessing (raw TSV → training arrays)",
        "",
        "| library | seconds | rows/s | peak RSS MB |",
        "|---|---|---|---|",
    ]
    ours = [r for r in pre if r["library"] == "lit-ctr"]
    if ours:
        seconds, spread = summarize(ours, "preprocess_s", ".2f")
        peak = max(r["peak_rss_mb"] for r in ours)
        lines.append(
            f"| lit-ctr (median{f', range {spread} s' if spread else ''}) | {seconds:.2f} | {ours[0]['rows'] / seconds:,.0f} | {peak:,.0f} |"
        )
    for r in pre:
        if r["library"] != "lit-ctr":
            run = f"{r['model']} {r.get('preset', 'bare')} run" + (
                f", round {r['round'] + 1}" if peer_rounds > 1 else ""
            )
            lines.append(
                f"| {r['library']} ({run}) | {r['preprocess_s']:.1f} | {r['rows'] / r['preprocess_s']:,.0f} | {r['peak_rss_mb']:,.0f} |"
            )
    if ours:
        libraries = sorted({r["library"] for r in pre if r["library"] != "lit-ctr"})
        medians = {lib: statistics.median(r["preprocess_s"] for r in pre if r["library"] == lib) for lib in libraries}
        ratios = [f"{m / seconds:.1f}× faster than {lib} (median {m:.1f} s)" for lib, m in medians.items()]
        if ratios:
            lines += ["", f"lit-ctr's median: {'; '.join(ratios)}."]
    presets = getattr(args, "presets", ["bare"])
    settings = {
        "regularised": "batch norm + dropout 0.2 in the MLP, embedding L2 0.05 (each peer: its own "
        "batch-norm, dropout and embedding-regularizer options at the same values)",
        "bare": "no batch norm, no dropout, no L2: the network alone, the ceiling study",
    }
    for preset in presets:
        for model in args.models:
            runs = [
                r for r in results
                if r.get("model") == model and r.get("samples_per_s") and r.get("preset", "bare") == preset
            ]  # fmt: skip
            if not runs:
                continue
            groups: dict[str, list[dict]] = {}
            for r in runs:
                groups.setdefault(entry_label(r), []).append(r)
            medians = {label: summarize(group, "samples_per_s")[0] for label, group in groups.items()}
            peers = [v for label, v in medians.items() if not label.startswith("lit-ctr")]
            best_peer = max(peers) if peers else None
            setting = settings[preset] if model not in FRAPPE_MODELS else FRAPPE_SETTINGS
            lines += ["", f"## {names[model]}, {preset}", "", f"Settings: {setting}.", ""]
            lines += [
                "samples/s is the whole epoch from the first batch (what a user waits for; a compiled "
                "entry's includes its compilation); *after 3 batches* is the steady rate after them.",
                "",
            ]
            if model == "fm":  # no dense layers: gathers and optimizer passes over the tables bound it
                lines += ["No compute bound: FM has no dense layers; memory traffic bounds it.", ""]
            elif model in FRAPPE_MODELS:  # counted, not estimated: bench/throughput/models.py --bound
                lines += ["Compute bound: docs/models/index.md (`bench/throughput/models.py --bound`).", ""]
            else:
                bound = gflops * 1e9 / train_flops_per_sample(model)
                lines += [f"Compute bound (dense-layer fp32 FLOPs vs the matmul rate): {bound:,.0f} samples/s.", ""]
            lines += [
                "| entry | samples/s (median) | range | after 3 batches | × faster peer | × plain loop (same precision) | peak RSS MB |",
                "|---|---|---|---|---|---|---|",
            ]
            for label, group in groups.items():
                value, spread = summarize(group, "samples_per_s")
                vs_peer = f"{value / best_peer:.2f}" if best_peer else "n/a"
                plain = None
                if label.startswith("lit-ctr trainer"):
                    plain = medians.get(
                        f"lit-ctr plain ({group[0]['precision']}, {'sparse' if group[0]['sparse'] else 'dense'})"
                    )
                vs_plain = f"{value / plain:.2f}" if plain else ""
                peak = max(r["peak_rss_mb"] for r in group)
                steady = ""
                if all("steady_samples_per_s" in r for r in group):
                    steady = f"{summarize(group, 'steady_samples_per_s')[0]:,.0f}"
                lines.append(f"| {label} | {value:,.0f} | {spread} | {steady} | {vs_peer} | {vs_plain} | {peak:,.0f} |")
    # Hand-written notes under "## Notes" in an existing report are kept across reruns.
    notes = args.out.read_text().partition("\n## Notes")[1:] if args.out.exists() else ("", "")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n" + "".join(notes))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
