"""Where lit-ctr's preprocessing of a Criteo-shaped TSV goes, piece by piece, in the
throughput benchmark's chunking (250,000 rows):

    python bench/throughput/preprocess_parts.py --data /root/bench_data/rows1000000/train.tsv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from litctr_entry import schema

from lit_ctr.data import encoding, readers
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import VocabularyCounter


def timed(label: str, work):  # noqa: ANN001, ANN201 - a bench helper
    start = time.perf_counter()
    result = work()
    print(f"{label:<34} {time.perf_counter() - start:6.2f} s", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--chunk-rows", type=int, default=250_000)
    args = p.parse_args()
    spec, fmt = Schema(**schema()), FileFormat(kind="tsv", has_header=False)
    width = 1 + len(spec.fields)
    timed("field-count and quoting check", lambda: readers._check_field_counts(args.data, "\t", width, False))
    tables = timed("read (the check again, then polars)", lambda: list(readers.read_tables(args.data, spec, fmt, require_label=True, chunk_rows=args.chunk_rows)))
    frames = timed("typing and checks (prepare)", lambda: [encoding.prepare(t, spec) for t in tables])
    counter = VocabularyCounter(spec)
    vocabulary = timed("vocabulary", lambda: ([counter.update(f) for f in frames], counter.vocabulary())[1])
    encoder = encoding.Encoder(spec, vocabulary)
    timed("encoding", lambda: [encoder(f) for f in frames])


if __name__ == "__main__":
    main()
