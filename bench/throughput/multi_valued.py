"""Throughput with multi-valued fields: DeepFM samples/s on Criteo-shaped rows plus two
multi-valued fields (mean length 5 and 20), against the same rows without them, and
DeepCTR-Torch's VarLenSparseFeat DeepFM on the same rows in the same run; and the
preprocessing cost of a multi-valued column per 1M rows.

    python bench/throughput/multi_valued.py --rows 1000000 --peer_rows 81920 --rounds 2 \
        --out bench/throughput/results_multi_valued.jsonl       # the documented run
    python bench/throughput/multi_valued.py --rows 200000 --no_peers   # lit-ctr only

lit-ctr: one epoch over all the training rows (80% of ``--rows``) in a plain loop
(forward, backward, Adam step; the DataModule's batches, batch 4096, DeepFM embed 10, MLP
400-400-400 as in bench/throughput/peers), the first 3 batches untimed (warm-up).
DeepCTR-Torch runs in the peer venv (bench/.venv-peers, see bench/throughput/peers/README.md)
as a subprocess on the same training file: its encoders are fitted on the whole file, then
an untimed warm-up fit() of 3 batches, then one timed epoch of fit() on the file's first
``--peer_rows`` rows (all of them by default). Its VarLenSparseFeat model trains at under
1,000 samples/s on 2 cores, so a full 800k-row epoch would take a quarter of an hour per
run; the cap keeps the run short, and each library's samples/s is the rows it actually
trained on (timed) over the time it took. Both libraries use ``os.cpu_count()`` torch threads.

Each round runs lit-ctr without the multi fields, lit-ctr with them, DeepCTR-Torch without,
DeepCTR-Torch with (interleaved, so that a change of machine load hits every arm);
``--rounds`` rounds. Results: one JSON line per measurement (with the 1-minute load average
before it; to ``--out`` as well when given), and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch

from lit_ctr.data import Field, Schema
from lit_ctr.data.checks import prepare
from lit_ctr.data.encoding import Encoder
from lit_ctr.data.readers import RawTable
from lit_ctr.data.vocabulary import fit_vocabulary
from lit_ctr.models import DeepFM
from lit_ctr.synthetic import SyntheticCTRDataModule

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / "bench" / "throughput" / "peers"
PEER_PYTHON = Path(os.environ.get("PEER_PYTHON", "/work/main/bench/.venv-peers/bin/python"))


def data_module(rows: int, with_multi: bool, root: Path) -> SyntheticCTRDataModule:
    return SyntheticCTRDataModule(
        rows=rows,
        numeric_fields=13,
        categorical_fields=26,
        max_cardinality=100_000,
        multi_cardinalities=[1_000, 10_000],
        multi_mean_lengths=[5.0, 20.0],
        multi_max_len=20,
        use_multi_fields=with_multi,
        data_dir=str(root / "data"),
        cache_dir=str(root / "cache"),
        batch_size=4096,
        shuffle_seed=0,
    )


def train_samples_per_s(dm: SyntheticCTRDataModule) -> dict:
    dm.prepare_data()
    dm.setup("fit")
    torch.set_num_threads(os.cpu_count() or 1)  # as the peers' pin_threads
    torch.manual_seed(0)
    model = DeepFM(
        dm.field_dims, dm.num_numeric, embed_dim=10, hidden_units=[400, 400, 400], multi_fields=dm.multi_fields
    )
    model.configure_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rows = 0
    start = None
    for i, batch in enumerate(dm.train_dataloader()):
        if i == 3:
            start, rows = time.perf_counter(), 0
        loss = model.training_step(batch, i)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        rows += len(batch["label"])
    assert start is not None, "too few batches for the warm-up"
    seconds = time.perf_counter() - start
    return {"rows": rows, "train_s": round(seconds, 3), "samples_per_s": round(rows / seconds, 1)}


def multi_column_preprocessing(rows: int, mean_length: float) -> dict:
    """prepare (split, strip) + vocabulary fit + encode (padded ids) of one multi column."""
    rng = np.random.default_rng(0)
    lengths = rng.poisson(mean_length, rows)
    values = rng.zipf(1.3, int(lengths.sum())) % 10_000
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    text = pl.DataFrame({"row": np.repeat(np.arange(rows), lengths), "v": values.astype(str)})
    cells = pl.DataFrame({"row": np.arange(rows)}).join(
        text.group_by("row", maintain_order=True).agg(pl.col("v").str.join("|")), on="row", how="left"
    )["v"]
    frame = pl.DataFrame({"label": ["1"] * rows, "tags": cells})
    schema = Schema(fields=[Field("tags", kind="multi", max_len=20)])
    start = time.perf_counter()
    prepared = prepare(RawTable("<bench>", frame, 1), schema)
    split = time.perf_counter()
    vocabulary = fit_vocabulary([prepared], schema)
    fitted = time.perf_counter()
    Encoder(schema, vocabulary)(prepared)
    done = time.perf_counter()
    del offsets
    per_m = 1e6 / rows
    return {
        "mean_length": mean_length,
        "rows": rows,
        "split_s_per_1M": round((split - start) * per_m, 3),
        "vocabulary_s_per_1M": round((fitted - split) * per_m, 3),
        "encode_s_per_1M": round((done - fitted) * per_m, 3),
        "total_s_per_1M": round((done - start) * per_m, 3),
    }


def peer(data: Path, without: bool, train_rows: int | None) -> dict | None:
    if not PEER_PYTHON.exists():
        print(f"no peer venv at {PEER_PYTHON}: DeepCTR-Torch skipped", file=sys.stderr)
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        command = [
            str(PEER_PYTHON),
            str(PEERS / "deepctr_torch_multi_entry.py"),
            "--data",
            str(data),
            "--json",
            result.name,
        ]
        command += ["--without_multi"] if without else []
        command += ["--train_rows", str(train_rows)] if train_rows else []
        subprocess.run(command, check=True, cwd=PEERS)
        return json.loads(Path(result.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows generated (80%% of them train)")
    parser.add_argument("--preprocess_rows", type=int, default=1_000_000)
    parser.add_argument("--no_peers", action="store_true")
    parser.add_argument(
        "--peer_rows",
        type=int,
        default=None,
        help="DeepCTR-Torch's timed epoch: the training file's first N rows (default: all)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the four runs")
    parser.add_argument("--out", default=None, help="a JSONL file to write the result lines to")
    parser.add_argument("--root", default=str(REPO / ".lit_ctr_cache" / "bench_multi"))
    args = parser.parse_args()
    root = Path(args.root)
    results = []

    out = Path(args.out) if args.out else None
    if out:
        out.write_text("")

    def record(result: dict) -> None:
        results.append(result)
        print(json.dumps(result), flush=True)
        if out:  # line by line, so that an interrupted run keeps what it measured
            with out.open("a") as lines:
                lines.write(json.dumps(result) + "\n")

    for mean_length in (5.0, 20.0):
        record({"measure": "preprocess", **multi_column_preprocessing(args.preprocess_rows, mean_length)})
    modules = {with_multi: data_module(args.rows, with_multi, root) for with_multi in (False, True)}
    for dm in modules.values():  # generated and encoded before any timing
        dm.prepare_data()
    for round_ in range(1, args.rounds + 1):
        for with_multi, dm in modules.items():
            load = round(os.getloadavg()[0], 2)
            found = train_samples_per_s(dm)
            record(
                {
                    "measure": "train",
                    "round": round_,
                    "library": "lit-ctr",
                    "multi": with_multi,
                    **found,
                    "load_1m": load,
                }
            )
        if args.no_peers:
            continue
        for with_multi, dm in modules.items():
            load = round(os.getloadavg()[0], 2)
            found = peer(dm.data_dir / "train.tsv", without=not with_multi, train_rows=args.peer_rows)
            if found:
                record(
                    {
                        "measure": "train",
                        "round": round_,
                        "library": "deepctr-torch",
                        "multi": with_multi,
                        **found,
                        "load_1m": load,
                    }
                )
    print("| round | library | rows trained | two multi fields | samples/s | 1-min load before |")
    print("|---:|---|---:|---|---:|---:|")
    trained = [r for r in results if r["measure"] == "train"]
    for r in trained:
        print(
            f"| {r['round']} | {r['library']} | {r['rows']:,} | {'yes' if r['multi'] else 'no'} "
            f"| {r['samples_per_s']:,.0f} | {r['load_1m']} |"
        )

    def mean_rate(library: str, multi: bool) -> float | None:
        rates = [r["samples_per_s"] for r in trained if r["library"] == library and r["multi"] is multi]
        return sum(rates) / len(rates) if rates else None

    lit_with, lit_without = mean_rate("lit-ctr", True), mean_rate("lit-ctr", False)
    peer_with = mean_rate("deepctr-torch", True)
    if lit_with and lit_without:
        print(f"lit-ctr with the multi fields: {lit_with / lit_without:.2f}x of without (mean of rounds)")
    if lit_with and peer_with:
        print(f"lit-ctr / DeepCTR-Torch with the multi fields: {lit_with / peer_with:.2f}x (mean of rounds)")


if __name__ == "__main__":
    main()
