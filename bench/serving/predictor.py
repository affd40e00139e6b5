"""The predictor's cold start (new process → first score) and scoring throughput.

For the ONNX and TorchScript artifacts of ``artifacts.py``'s small DeepFM:

- cold start: a new ``python`` process that imports lit_ctr, loads the artifact and scores
  one row; the parent times spawn → the score's line (median of ``--repeats``), and the
  child reports its import / load / first-score split and whether ``torch`` and
  ``lightning`` were imported;
- throughput: ``load_predictor(path).predict(rows)`` on lists of dicts (what ``lit-ctr
  serve`` passes) of 1, 64 and 4096 rows, repeated for ``--seconds`` each: rows/s and the
  median call time.

    python bench/serving/predictor.py [--out /tmp/lit-ctr-serving] [--repeats 3] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from artifacts import make  # noqa: E402

CHILD = r"""
import json, sys, time
start = time.perf_counter()
from lit_ctr import load_predictor
import lit_ctr.predictor
imported = time.perf_counter()
predictor = load_predictor(sys.argv[1])
loaded = time.perf_counter()
row = json.load(open(sys.argv[2]))[:1]
predictor.predict(row)
scored = time.perf_counter()
print(json.dumps({
    "import_s": imported - start, "load_s": loaded - imported, "first_score_s": scored - loaded,
    "modules": len(sys.modules),
    **{f"has_{m}": m in sys.modules for m in ("torch", "lightning", "onnxruntime", "polars")},
}), flush=True)
"""


def cold_start(artifact: Path, rows: Path, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(artifact), str(rows)], stdout=subprocess.PIPE, text=True
        )
        line = child.stdout.readline()
        total = time.perf_counter() - begin
        child.wait(timeout=120)
        runs.append({"total_s": total, **json.loads(line)})
    best = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]  # the median run
    return best


def throughput(artifact: Path, rows: list[dict], batch: int, seconds: float) -> dict:
    from lit_ctr import load_predictor

    predictor = load_predictor(artifact)
    batch_rows = (rows * (batch // len(rows) + 1))[:batch]
    predictor.predict(batch_rows)  # warm-up
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 3:
        begin = time.perf_counter()
        predictor.predict(batch_rows)
        times.append(time.perf_counter() - begin)
    return {
        "rows_per_s": batch * len(times) / sum(times),
        "median_ms": 1000 * statistics.median(times),
        "calls": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lit-ctr-serving"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    paths = make(args.out)
    rows = json.loads(paths["rows"].read_text())
    load_before = os.getloadavg()[0]
    results = {"cpus": os.cpu_count(), "load_average_before": load_before, "cold": {}, "throughput": {}}
    for kind in ("onnx", "torchscript"):
        results["cold"][kind] = cold_start(paths[kind], paths["rows"], args.repeats)
    for kind in ("onnx", "torchscript"):
        for batch in (1, 64, 4096):
            results["throughput"][f"{kind}/{batch}"] = throughput(paths[kind], rows, batch, args.seconds)
    results["load_average_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(
        f"load average (1 min) before {load_before:.1f}, after {results['load_average_after']:.1f}, {os.cpu_count()} CPUs\n"
    )
    print("| artifact | cold start | import | load | first score | torch imported | lightning imported | modules |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, r in results["cold"].items():
        print(
            f"| {kind} | {r['total_s']:.2f} s | {r['import_s']:.2f} s | {r['load_s']:.2f} s | "
            f"{1000 * r['first_score_s']:.0f} ms | {r['has_torch']} | {r['has_lightning']} | {r['modules']} |"
        )
    print("\n| artifact | rows per call | rows/s | median call |")
    print("| --- | --- | --- | --- |")
    for key, r in results["throughput"].items():
        kind, batch = key.split("/")
        print(f"| {kind} | {batch} | {r['rows_per_s']:,.0f} | {r['median_ms']:.2f} ms |")


if __name__ == "__main__":
    main()
