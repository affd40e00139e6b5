"""lit-ctr's preprocessing of a Criteo-shaped TSV by ``chunk_rows``, each run in a fresh
process (as the throughput benchmark's entry), sizes interleaved: wall time, user and
system CPU, and minor page faults (fresh pages the kernel hands out) inside
``prepare_data``:

    python bench/throughput/preprocess_chunks.py --data /root/bench_data/rows1000000/train.tsv \\
        --chunk-rows 100000 250000 --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def one(data: str, chunk_rows: int) -> str:
    from litctr_entry import schema

    from lit_ctr.data import CTRDataModule

    cache = tempfile.mkdtemp()
    dm = CTRDataModule(
        schema=schema(), train_path=data, file_format={"kind": "tsv", "has_header": False},
        cache_dir=cache, chunk_rows=chunk_rows,
    )  # fmt: skip
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    dm.prepare_data()
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    shutil.rmtree(cache)
    return (
        f"{wall:.2f} | {after.ru_utime - before.ru_utime:.2f} | {after.ru_stime - before.ru_stime:.2f} | "
        f"{after.ru_minflt - before.ru_minflt:,}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--chunk-rows", type=int, nargs="+", default=[100_000, 250_000])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # a chunk size, in this process
    args = p.parse_args()
    if args.one is not None:
        print(one(args.data, args.one))
        return
    print("| chunk_rows | seconds | user s | system s | minor faults |")
    print("|---|---|---|---|---|")
    for _ in range(args.rounds):
        for chunk_rows in args.chunk_rows:
            command = [sys.executable, __file__, "--data", args.data, "--one", str(chunk_rows)]
            line = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(f"| {chunk_rows:,} | {line} |", flush=True)
            subprocess.run(["sync"], check=False)


if __name__ == "__main__":
    main()
