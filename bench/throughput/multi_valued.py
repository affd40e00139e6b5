"""Throughput with multi-valued fields: DeepFM samples/s on Criteo-shaped rows plus two
multi-valued fields (mean length 5 and 20), against the same rows without them, and
DeepCTR-Torch's VarLenSparseFeat DeepFM on the same rows in the same run; and the
preprocessing cost of a multi-valued column per 1M rows.

    python bench/throughput/multi_valued.py --rows 200000
    python bench/throughput/multi_valued.py --rows 200000 --no_peers   # lit-ctr only

Training is one epoch of a plain loop (forward, backward, Adam step; the DataModule's
batches, batch 4096, DeepFM embed 10, MLP 400-400-400 as in bench/throughput/peers),
timed after a warm-up of 3 batches. DeepCTR-Torch runs in the peer venv
(bench/.venv-peers, see bench/throughput/peers/README.md) as a subprocess, one epoch of
its fit(). Results: one JSON line per measurement, and a Markdown table.
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


def peer(data: Path, without: bool) -> dict | None:
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
        subprocess.run(command + (["--without_multi"] if without else []), check=True, cwd=PEERS)
        return json.loads(Path(result.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--preprocess_rows", type=int, default=1_000_000)
    parser.add_argument("--no_peers", action="store_true")
    parser.add_argument("--root", default=str(REPO / ".lit_ctr_cache" / "bench_multi"))
    args = parser.parse_args()
    root = Path(args.root)
    results = []
    for mean_length in (5.0, 20.0):
        results.append({"measure": "preprocess", **multi_column_preprocessing(args.preprocess_rows, mean_length)})
        print(json.dumps(results[-1]), flush=True)
    for with_multi in (False, True):
        dm = data_module(args.rows, with_multi, root)
        results.append({"measure": "train", "library": "lit-ctr", "multi": with_multi, **train_samples_per_s(dm)})
        print(json.dumps(results[-1]), flush=True)
        if not args.no_peers:
            found = peer(dm.data_dir / "train.tsv", without=not with_multi)
            if found:
                results.append({"measure": "train", "library": "deepctr-torch", "multi": with_multi, **found})
                print(json.dumps(results[-1]), flush=True)
    print(f"load average: {os.getloadavg()}")
    print("| library | rows | two multi fields | samples/s |")
    print("|---|---:|---|---:|")
    for r in results:
        if r["measure"] == "train":
            print(f"| {r['library']} | {r['rows']:,} | {'yes' if r['multi'] else 'no'} | {r['samples_per_s']:,.0f} |")


if __name__ == "__main__":
    main()
