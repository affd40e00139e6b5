"""Gathering one training batch of rows from memory-mapped encoded arrays: fancy indexing
against ``np.take`` (what :func:`lit_ctr.data.batching.take_rows` uses), on Criteo-shaped
arrays (26 int32 ids, 13 float32 numbers, a float32 label per row):

    python bench/throughput/batch_gather.py --rows 1000000 --batch 4096
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--batches", type=int, default=300)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        arrays = {
            "ids": rng.integers(0, 1_000_000, (args.rows, 26), dtype=np.int32),
            "numeric": rng.random((args.rows, 13), dtype=np.float32),
            "label": rng.random(args.rows, dtype=np.float32),
        }
        for name, array in arrays.items():
            np.save(Path(tmp) / f"{name}.npy", array)
        mapped = [np.load(Path(tmp) / f"{name}.npy", mmap_mode="r") for name in arrays]
        batches = [np.sort(rng.permutation(args.rows)[: args.batch]) for _ in range(args.batches)]
        ways = {
            "fancy indexing (array[rows])": lambda rows: [a[rows] for a in mapped],
            "np.take(array, rows, axis=0)": lambda rows: [np.take(np.asarray(a), rows, axis=0) for a in mapped],
        }
        print(f"| {args.batch}-row batch from {args.rows:,} memory-mapped rows | ms per batch (median of 3 passes) |")
        print("|---|---|")
        for label, gather in ways.items():
            passes = []
            for _ in range(3):
                for rows in batches[:20]:
                    gather(rows)
                start = time.perf_counter()
                for rows in batches:
                    gather(rows)
                passes.append((time.perf_counter() - start) / len(batches) * 1e3)
            print(f"| {label} | {sorted(passes)[1]:.3f} |")


if __name__ == "__main__":
    main()
