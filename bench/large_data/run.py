"""Data larger than memory: generate, preprocess and train on 50M Criteo-shaped rows.

Stages (each measured in its own process, so each peak RSS is that stage's own):

  generate    synthetic Criteo-shaped rows (label, I1..I13 counts, C1..C26 8-hex-digit
              tokens, cardinalities up to 1e6) written chunk by chunk as raw headerless
              TSV: <out>/train/part-NNN.tsv and <out>/valid.tsv. Never holds more than
              one chunk.
  preprocess  CTRDataModule.prepare_data into a fresh cache: streaming encoding.
              Reports rows/s over all rows (train + valid) and peak RSS.
  train       DeepFM (embedding 10, MLP [400, 400, 400], Adam 1e-3, batch 4096) through
              the real Lightning Trainer for --max-steps steps, reading the cached
              split in shuffled blocks; a bounded validation pass at the last step.
              Reports samples/s (after --warmup steps) and peak RSS.
  fuxictr     FuxiCTR 2.3.10's own preprocessing (build_dataset) of a TSV, with the
              peers' environment bench/.venv-peers (see bench/throughput/peers/).
  all         generate (unless present), then preprocess, train, and on the first
              --peer-rows rows: lit-ctr preprocess and FuxiCTR preprocess; writes each
              stage's result to <out>/results/<stage>.json, then results.json and the
              markdown table results.md into --out.
  report      rebuild results.json and results.md from <out>/results/*.json (after
              re-running a stage by hand into that folder).

Usage (the figures in docs/large_data.md):

  python bench/large_data/run.py all --rows 50000000 --out /root/large_data/criteo50m
  python bench/large_data/run.py all --rows 2000000 --out /root/large_data/criteo2m   # quick check

Peak RSS is ``max(getrusage(RUSAGE_SELF).ru_maxrss, VmHWM)`` of the stage's process;
for FuxiCTR it is the driver process only (Ray's workers are other processes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PEERS_PYTHON = ROOT / "bench" / ".venv-peers" / "bin" / "python"

NUM_NUMERIC = 13
NUM_CATEGORICAL = 26
MAX_CARDINALITY = 1_000_000
EMBED_DIM = 10
HIDDEN = [400, 400, 400]
BATCH = 4096
LR = 1e-3
GENERATE_CHUNK = 500_000


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    except OSError:
        pass
    return round(peak / 1024, 1)


def schema() -> dict:
    return {
        "label": "label",
        "fields": [{"name": f"I{i}", "kind": "numeric", "transform": "log1p"} for i in range(1, NUM_NUMERIC + 1)]
        + [{"name": f"C{i}"} for i in range(1, NUM_CATEGORICAL + 1)],
    }


def datamodule(data: Path, cache_dir: Path, **kwargs):
    from lit_ctr.data import CTRDataModule

    valid = data / "valid.tsv"
    return CTRDataModule(
        schema=schema(),
        train_path=str(data / "train" / "part-*.tsv") if (data / "train").is_dir() else str(data),
        valid_path=str(valid) if valid.is_file() else None,
        file_format={"kind": "tsv", "has_header": False},
        cache_dir=str(cache_dir),
        batch_size=BATCH,
        **kwargs,
    )


# ----------------------------------------------------------------------------- generate
def generate(out: Path, rows: int, valid_fraction: float, part_rows: int, seed: int) -> dict:
    """Write the rows chunk by chunk; skip if ``out`` already holds this exact data set."""
    import polars as pl

    from lit_ctr.data.progress import eta
    from lit_ctr.data.synthetic import SyntheticSpec, criteo_like_cardinalities, generate_chunks

    request = {"rows": rows, "valid_fraction": valid_fraction, "part_rows": part_rows, "seed": seed,
               "max_cardinality": MAX_CARDINALITY}  # fmt: skip
    manifest = out / "generated.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("request") == request:
        return json.loads(manifest.read_text())
    if out.exists():
        shutil.rmtree(out)
    (out / "train").mkdir(parents=True)
    spec = SyntheticSpec(
        rows=rows,
        num_numeric=NUM_NUMERIC,
        cardinalities=criteo_like_cardinalities(NUM_CATEGORICAL, MAX_CARDINALITY),
        seed=seed,
    )
    valid_rows = round(rows * valid_fraction)
    train_rows = rows - valid_rows
    # File k of the row stream: train parts of part_rows rows, then valid.tsv.
    bounds = [(start, min(start + part_rows, train_rows)) for start in range(0, train_rows, part_rows)]
    names = [f"train/part-{k:03d}.tsv" for k in range(len(bounds))]
    if valid_rows:
        bounds.append((train_rows, rows))
        names.append("valid.tsv")
    start_time = time.perf_counter()
    position, file_index, handle = 0, 0, open(out / names[0], "wb")  # noqa: SIM115
    try:
        for frame, _ in generate_chunks(spec, GENERATE_CHUNK):
            # Counts print as integers ("3", not "3.0"), as in the Criteo files.
            counts = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
            frame = frame.with_columns(pl.col(counts).cast(pl.Int64))
            while frame.height:
                take = min(frame.height, bounds[file_index][1] - position)
                frame.slice(0, take).write_csv(handle, separator="\t", include_header=False, null_value="")
                frame = frame.slice(take)
                position += take
                if position == bounds[file_index][1] and file_index + 1 < len(bounds):
                    handle.close()
                    file_index += 1
                    handle = open(out / names[file_index], "wb")  # noqa: SIM115
            elapsed = time.perf_counter() - start_time
            print(
                f"generate: {position:,} of {rows:,} rows ({100 * position / rows:.0f}%), {elapsed:.0f} s, "
                f"{eta(position, rows, elapsed)}",
                file=sys.stderr,
                flush=True,
            )
    finally:
        handle.close()
    result = {
        "request": request,
        "train_rows": train_rows,
        "valid_rows": valid_rows,
        "files": names,
        "bytes": sum((out / n).stat().st_size for n in names),
        "seconds": round(time.perf_counter() - start_time, 1),
        "peak_rss_mb": peak_rss_mb(),
    }
    manifest.write_text(json.dumps(result, indent=1) + "\n")  # written last: the data set is complete
    return result


# ----------------------------------------------------------------------------- preprocess
def preprocess(data: Path, cache_dir: Path, chunk_rows: int | None) -> dict:
    """Encode into a fresh cache entry, timed."""
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    if cache_dir.exists():
        shutil.rmtree(cache_dir)
    dm = datamodule(data, cache_dir, **({"chunk_rows": chunk_rows} if chunk_rows else {}))
    start = time.perf_counter()
    dm.prepare_data()
    seconds = time.perf_counter() - start
    rows = sum(dm.meta["rows"].values())
    size = sum(p.stat().st_size for p in dm.entry.rglob("*.npy"))
    return {
        "stage": "preprocess",
        "rows": rows,
        "split_rows": dm.meta["rows"],
        "ids": sum(dm.field_dims),
        "chunk_rows": dm.chunk_rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "encoded_gb": round(size / 1e9, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- train
def train(data: Path, cache_dir: Path, max_steps: int, warmup: int, val_batches: int, shuffle: str) -> dict:
    """DeepFM through the real Trainer for ``max_steps`` steps on the cached split."""
    import lightning as L
    import torch
    from lightning.pytorch.loggers import CSVLogger

    from lit_ctr import models

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    dm = datamodule(data, cache_dir, shuffle=shuffle)
    if not dm.entry.is_dir():
        raise SystemExit("run the preprocess stage first")
    model_class = getattr(models, "DeepFM", None) or models.FM
    kwargs = {"embed_dim": EMBED_DIM, "optimizer": partial(torch.optim.Adam, lr=LR)}
    if model_class is not models.FM:
        kwargs["hidden_units"] = HIDDEN
    model = model_class(dm.field_dims, dm.num_numeric, **kwargs)
    times: list[float] = []

    class StepTimes(L.Callback):
        def on_train_batch_end(self, *args) -> None:
            times.append(time.perf_counter())

    log_dir = tempfile.mkdtemp(prefix="lit_ctr_large_")
    has_valid = dm.meta["rows"].get("valid", 0) > 0 and val_batches > 0
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=max_steps,
        max_epochs=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        # One bounded validation pass at the last step (exact AUC on those rows).
        val_check_interval=max_steps if has_valid else None,
        limit_val_batches=val_batches if has_valid else 0,
        logger=CSVLogger(log_dir),
        callbacks=[StepTimes()],
    )
    start = time.perf_counter()
    trainer.fit(model, dm)
    fit_seconds = time.perf_counter() - start
    shutil.rmtree(log_dir, ignore_errors=True)
    steps = len(times)
    timed = times[warmup:] if steps > warmup + 1 else times
    samples_per_s = (len(timed) - 1) * BATCH / (timed[-1] - timed[0])
    sampler = trainer.train_dataloader.sampler
    metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items()}
    return {
        "stage": "train",
        "model": model_class.__name__,
        "shuffle": shuffle,
        "sampler": type(sampler).__name__,
        "train_rows": dm.meta["rows"]["train"],
        "steps": steps,
        "batch": BATCH,
        "samples_per_s": round(samples_per_s),
        "fit_seconds": round(fit_seconds, 1),
        "val_batches": val_batches if has_valid else 0,
        "metrics": metrics,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": peak_rss_mb(),
    }


# ----------------------------------------------------------------------------- orchestration
def stage(args: list[str], python: str = sys.executable, script: Path = Path(__file__)) -> dict:
    """Run one stage in a child process; return the JSON line it prints last."""
    command = [python, str(script), *args]
    before = os.getloadavg()[0]
    print("$", " ".join(command), f"(loadavg {before:.1f})", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The machine may be shared: rates are only comparable at similar load.
    result["loadavg"] = [round(before, 1), round(os.getloadavg()[0], 1)]
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def head(source_dir: Path, target: Path, rows: int) -> Path:
    """The first ``rows`` lines of the train parts, as one TSV (for the peer comparison)."""
    if target.is_file():
        return target
    tmp = target.with_suffix(".partial")
    left = rows
    with open(tmp, "wb") as out:
        for part in sorted((source_dir / "train").glob("part-*.tsv")):
            with open(part, "rb") as handle:
                for line in handle:
                    if left == 0:
                        break
                    out.write(line)
                    left -= 1
            if left == 0:
                break
    tmp.rename(target)
    return target


def _load(result: dict) -> str:
    """The 1-minute load average at the stage's start → end."""
    load = result.get("loadavg")
    if isinstance(load, list):
        return f"{load[0]} → {load[1]}"
    return str(result.get("loadavg_before", ""))  # older runs recorded the end only


def table(results: dict) -> str:
    """The markdown table of one run (load: the machine's 1-minute load average, 2 cores)."""
    gen, pre = results["generate"], results["preprocess"]
    lines = [
        "| stage | what | rows | time | rate | peak RSS | load |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| generate | raw TSV, {gen['bytes'] / 1e9:.1f} GB | {gen['train_rows'] + gen['valid_rows']:,} | "
        f"{gen.get('seconds', 0):,.0f} s | | {gen.get('peak_rss_mb', 0):,.0f} MB | {_load(gen)} |",
        f"| lit-ctr preprocess | streaming encode, chunks of {pre['chunk_rows']:,} rows, {pre['ids']:,} ids, "
        f"{pre['encoded_gb']} GB encoded | {pre['rows']:,} | {pre['seconds']:,.0f} s | "
        f"{pre['rows_per_s']:,} rows/s | {pre['peak_rss_mb']:,.0f} MB | {_load(pre)} |",
    ]
    for key in ("train", "train_global"):
        if key in results:
            tr = results[key]
            lines.append(
                f"| lit-ctr train | {tr['model']} via Trainer, {tr['steps']} steps × {tr['batch']}, "
                f"shuffle={tr['shuffle']}: {tr['sampler']} over {tr['train_rows']:,} rows, {tr['val_batches']} val batches | "
                f"{tr['steps'] * tr['batch']:,} | {tr['fit_seconds']:,.0f} s | {tr['samples_per_s']:,} samples/s | "
                f"{tr['peak_rss_mb']:,.0f} MB | {_load(tr)} |"
            )
    if "peer_litctr" in results:
        lit = results["peer_litctr"]
        lines.append(
            f"| lit-ctr preprocess | first {lit['rows']:,} train rows (same TSV as FuxiCTR) | {lit['rows']:,} | "
            f"{lit['seconds']:,.1f} s | {lit['rows_per_s']:,} rows/s | {lit['peak_rss_mb']:,.0f} MB | "
            f"{_load(lit)} |"
        )
    if "peer_fuxictr" in results:
        fx = results["peer_fuxictr"]
        lines.append(
            f"| FuxiCTR {fx['version']} preprocess | build_dataset (polars + Ray → parquet) | {fx['rows']:,} | "
            f"{fx['seconds']:,.1f} s | {fx['rows_per_s']:,} rows/s | {fx['peak_rss_mb']:,.0f} MB (driver) | "
            f"{_load(fx)} |"
        )
    return "\n".join(lines) + "\n"


def run_all(args: argparse.Namespace) -> None:
    out = Path(args.out)
    data = out / "data"
    cache_dir = out / "cache"
    (out / "results").mkdir(parents=True, exist_ok=True)

    def record(name: str, result: dict) -> None:
        (out / "results" / f"{name}.json").write_text(json.dumps(result) + "\n")

    record("command", {"command": " ".join(sys.argv), "cpus": os.cpu_count()})
    record("generate", stage(["generate", "--rows", str(args.rows), "--out", str(data)]))
    chunk = ["--chunk-rows", str(args.chunk_rows)] if args.chunk_rows else []
    record("preprocess", stage(["preprocess", "--data", str(data), "--cache", str(cache_dir), *chunk]))
    record("train", stage(["train", "--data", str(data), "--cache", str(cache_dir), "--max-steps",
                           str(args.max_steps), "--val-batches", str(args.val_batches)]))  # fmt: skip
    if args.peer_rows:
        peer_tsv = head(data, out / f"peer-{args.peer_rows}.tsv", args.peer_rows)
        record(
            "peer_litctr", stage(["preprocess", "--data", str(peer_tsv), "--cache", str(out / "peer-cache"), *chunk])
        )
        if PEERS_PYTHON.exists():
            record("peer_fuxictr", stage(["--data", str(peer_tsv)], python=str(PEERS_PYTHON),
                                         script=HERE / "fuxictr_preprocess.py"))  # fmt: skip
    report(out)


def report(out: Path) -> None:
    """results.json and results.md from the stage results in <out>/results/."""
    results = {p.stem: json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))}
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(table(results))
    print(table(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--part-rows", type=int, default=5_000_000)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("preprocess")
    p.add_argument("--data", type=Path, required=True, help="a generated directory, or one TSV file")
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--chunk-rows", type=int, default=None, help="default: CTRDataModule's")
    p = sub.add_parser("train")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True)
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--val-batches", type=int, default=20)
    p.add_argument("--shuffle", choices=["auto", "global", "block"], default="auto")
    p = sub.add_parser("report")
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("all")
    p.add_argument("--rows", type=int, default=50_000_000)
    p.add_argument("--out", required=True, help="a directory outside the repository, e.g. /root/large_data/criteo50m")
    p.add_argument("--chunk-rows", type=int, default=None, help="default: CTRDataModule's")
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--val-batches", type=int, default=20)
    p.add_argument("--peer-rows", type=int, default=1_000_000, help="0 skips the FuxiCTR comparison")
    args = parser.parse_args()
    if args.command == "all":
        run_all(args)
        return
    if args.command == "report":
        report(args.out)
        return
    if args.command == "generate":
        result = generate(args.out, args.rows, args.valid_fraction, args.part_rows, args.seed)
    elif args.command == "preprocess":
        result = preprocess(args.data, args.cache, args.chunk_rows)
    else:
        result = train(args.data, args.cache, args.max_steps, args.warmup, args.val_batches, args.shuffle)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
