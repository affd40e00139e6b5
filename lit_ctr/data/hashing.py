"""Hashed fields (``hash_buckets: N``): a value's id from a stable hash, no vocabulary pass.

A hashed field's value ``v`` (its text, as for a vocabulary) goes to bucket
``xxh64(utf8(v), seed=0) mod N`` — the 64-bit xxHash of its UTF-8 bytes, as
``xxhash.xxh64_intdigest(v.encode())`` computes it in Python — and has the field-local id
``2 + bucket`` (ids 0 and 1 stay the OOV and missing ids; a missing cell is id 1). The hash
runs inside polars (the ``polars-hash`` plugin: vectorised, no Python per row) and is the
same on every machine, process and polars version, unlike Python's ``hash`` (salted per
process) and polars' ``hash()`` (free to change between versions). So a hashed field needs
no training data to score: ``predict`` and exported artifacts hash raw rows the same way.

Distinct values may share a bucket (a collision); ``bench/accuracy/hash_collisions.py``
measures how many for a Zipf-shaped field (docs/data.md).
"""

from __future__ import annotations

import polars as pl

MAX_BUCKETS = 2**31 - 3
"""Buckets per field at most: its ids, 2 + bucket, stay int32 value codes."""


def bucket(values: pl.Expr, buckets: int) -> pl.Expr:
    """Each value's bucket in ``[0, buckets)`` (UInt32; null stays null)."""
    import polars_hash  # noqa: F401 - registers the .nchash namespace; imported when first used

    return (values.nchash.xxhash64() % buckets).cast(pl.UInt32)  # type: ignore[attr-defined]


def list_bucket(values: pl.Expr, buckets: int) -> pl.Expr:
    """:func:`bucket` of every value of a list column (a multi field)."""
    return values.list.eval(bucket(pl.element(), buckets))
