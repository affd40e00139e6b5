"""Collisions of hashed fields (``hash_buckets: N``) on a Zipf-shaped field.

Draws ``--rows`` values of a field with ``--distinct`` values whose frequencies follow
Zipf's law (exponent ``--exponent``), hashes them exactly as lit-ctr does
(``lit_ctr.data.hashing.bucket``: xxh64 mod N, inside polars) and reports, per number of
buckets: the share of distinct values that share their bucket with another value, and
the share of rows whose value does (what the model feels: frequent values dominate rows).
The expected share of colliding distinct values for a uniform hash is
``1 - (1 - 1/N)^(D-1)``; it is printed alongside.

    python bench/accuracy/hash_collisions.py --distinct 1000000 --rows 10000000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from lit_ctr.data.hashing import bucket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--exponent", type=float, default=1.1)
    parser.add_argument("--buckets", type=int, nargs="+", default=[2**18, 2**20, 2**22, 2**24])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    weights = 1.0 / np.arange(1, args.distinct + 1) ** args.exponent
    draws = rng.choice(args.distinct, size=args.rows, p=weights / weights.sum())
    frame = pl.DataFrame({"id": draws}).select((pl.lit("ip-") + pl.col("id").cast(pl.String)).alias("value"))
    counts = frame.group_by("value").len()
    seen = counts.height
    print(
        f"Zipf field: {args.rows:,} rows, {seen:,} distinct values seen (of {args.distinct:,}), exponent {args.exponent}"
    )
    print(
        "| buckets | distinct values colliding | expected (uniform hash) | rows whose value collides | hash time (s) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in args.buckets:
        start = time.perf_counter()
        hashed = frame.select(bucket(pl.col("value"), n).alias("b"))
        elapsed = time.perf_counter() - start
        per_value = counts.with_columns(bucket(pl.col("value"), n).alias("b"))
        shared = per_value.with_columns(pl.len().over("b").alias("values_in_bucket"))
        colliding = shared.filter(pl.col("values_in_bucket") > 1)
        share_values = colliding.height / seen
        share_rows = colliding["len"].sum() / args.rows
        expected = 1 - (1 - 1 / n) ** (seen - 1)
        print(f"| {n:,} | {share_values:.2%} | {expected:.2%} | {share_rows:.2%} | {elapsed:.2f} |")
        del hashed


if __name__ == "__main__":
    main()
