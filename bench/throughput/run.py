"""Training throughput of lit-ctr against DeepCTR-Torch, FuxiCTR, a plain PyTorch loop and
the compute bound, side by side in one run on the same synthetic Criteo-shaped data.

    python bench/throughput/run.py --rows 1000000 --out docs/throughput.md

Every entry runs in its own process (peak RSS per entry) with torch pinned to all cores.
Peers run from bench/.venv-peers (bench/throughput/peers/setup_env.sh) when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
    if model == "fm":
        return 3 * 2 * 39 * 10 * 2  # interaction: a few flops per vector element
    macs, prev = 0, width
    for units in (400, 400, 400, 1):
        macs += prev * units
        prev = units
    return 3 * 2 * macs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--data-dir", type=Path, default=Path("/root/bench_data"))
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "throughput.md")
    p.add_argument("--models", nargs="+", default=["deepfm", "nfm", "fm"])
    p.add_argument("--skip-peers", action="store_true")
    args = p.parse_args()
    data = generate(args.rows, args.data_dir)
    cache = args.data_dir / "cache"
    log = args.data_dir / "throughput.log"
    entry = [sys.executable, str(HERE / "litctr_entry.py"), "--data", str(data), "--cache-dir", str(cache)]

    results = [run_json(entry + ["--mode", "preprocess"], log)]
    for model in args.models:
        for mode, extra in (
            ("trainer", []), ("plain", []),
            ("trainer", ["--sparse"]), ("plain", ["--sparse"]),
            ("trainer", ["--precision", "bf16-mixed"]), ("trainer", ["--sparse", "--precision", "bf16-mixed"]),
        ):  # fmt: skip
            results.append(run_json(entry + ["--mode", mode, "--model", model, *extra], log))
            print(json.dumps(results[-1]), flush=True)
    if PEERS_PYTHON.exists() and not args.skip_peers:
        for library in ("deepctr_torch", "fuxictr"):
            for model in args.models:
                out = args.data_dir / f"{library}_{model}.json"
                script = HERE / "peers" / f"{library}_entry.py"
                results.append(run_json([str(PEERS_PYTHON), str(script), "--data", str(data), "--model", model, "--json", str(out)], log))
                print(json.dumps(results[-1]), flush=True)
    rate = matmul_gflops()
    write_report(args, results, rate)


def write_report(args, results: list[dict], gflops: float) -> None:
    lines = [
        "# Training throughput",
        "",
        f"One epoch on {args.rows:,} synthetic Criteo-shaped rows (13 numeric + 26 categorical fields, "
        "cardinalities up to 1e6), embedding 10, MLP [400, 400, 400], batch 4096, Adam 1e-3, "
        f"{os.cpu_count()} threads, torch {torch.__version__}, {platform.processor() or platform.machine()}. "
        "All entries ran in one invocation, one process each, side by side:",
        "",
        "```bash",
        f"python bench/throughput/run.py --rows {args.rows}",
        "```",
        "",
        f"Measured float32 matmul rate at the MLP's shape: {gflops:.1f} GFLOP/s.",
        "",
    ]
    pre = [r for r in results if r.get("preprocess_s") is not None]
    lines += ["## Preprocessing (raw TSV → training arrays)", "", "| library | seconds | rows/s | peak RSS MB |", "|---|---|---|---|"]
    for r in pre:
        name = r["library"] + ("" if r["library"] == "lit-ctr" else f" ({r['model']} run)")
        lines.append(f"| {name} | {r['preprocess_s']:.1f} | {r['rows'] / r['preprocess_s']:,.0f} | {r['peak_rss_mb']:,.0f} |")
    for model in args.models:
        rows = [r for r in results if r.get("model") == model and r.get("samples_per_s")]
        if not rows:
            continue
        peers = [r["samples_per_s"] for r in rows if r["library"] != "lit-ctr"]
        best_peer = max(peers) if peers else None
        plain = next((r["samples_per_s"] for r in rows if r.get("mode") == "plain" and not r.get("sparse") and r.get("precision") == "32-true"), None)
        bound = gflops * 1e9 / train_flops_per_sample(model)
        lines += ["", f"## {model}", "", f"Compute bound (dense-layer FLOPs vs the matmul rate): {bound:,.0f} samples/s.", ""]
        lines += ["| entry | samples/s | × faster peer | × plain loop (fp32 dense) | peak RSS MB |", "|---|---|---|---|---|"]
        for r in rows:
            if r["library"] == "lit-ctr":
                label = f"lit-ctr {r['mode']} ({r['precision']}{', sparse' if r['sparse'] else ', dense'})"
            else:
                label = f"{r['library']} {r.get('version', '')}"
            vs_peer = f"{r['samples_per_s'] / best_peer:.2f}" if best_peer else "n/a"
            vs_plain = f"{r['samples_per_s'] / plain:.2f}" if plain else "n/a"
            lines.append(f"| {label} | {r['samples_per_s']:,.0f} | {vs_peer} | {vs_plain} | {r['peak_rss_mb']:,.0f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
