"""Where lit-ctr's preprocessing of a Criteo-shaped TSV goes, piece by piece, in the
datamodule's chunking (``chunk_rows``, 100,000 rows by default):

    python bench/throughput/preprocess_parts.py --data /root/bench_data/rows1000000/train.tsv

The pieces run one after the other here; in ``CTRDataModule.prepare_data`` polars reads
the next chunk while the current one is typed and coded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from litctr_entry import schema

from lit_ctr.data import cache, checks, encoding, files, readers
from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.schema import FileFormat, Schema
from lit_ctr.data.vocabulary import VocabularyCounter


def timed(label: str, work):  # noqa: ANN001, ANN201 - a bench helper
    start = time.perf_counter()
    result = work()
    print(f"{label:<46} {time.perf_counter() - start:6.2f} s", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--chunk-rows", type=int, default=100_000)
    args = p.parse_args()
    spec, fmt = Schema(**schema()), FileFormat(kind="tsv", has_header=False)
    width = 1 + len(spec.fields)
    timed("field-count and quoting check", lambda: readers._check_field_counts(args.data, "\t", width, False))
    tables = timed(
        "read (the check again, then polars)",
        lambda: list(readers.read_tables(args.data, spec, fmt, require_label=True, chunk_rows=args.chunk_rows)),
    )
    frames = timed("typing and checks (prepare)", lambda: [checks.prepare(t, spec) for t in tables])
    counter = VocabularyCounter(spec)
    codes = timed("value codes and counts", lambda: [counter.codes(f) for f in frames])
    numeric = timed("numeric values and labels", lambda: [encoding.numeric_and_labels(f, spec) for f in frames])
    vocabulary = timed("vocabulary (keep, sort)", counter.vocabulary)
    with tempfile.TemporaryDirectory() as tmp:
        writer = cache.SplitWriter(Path(tmp), np.int32, len(spec.categorical), len(spec.numeric))
        timed(
            "write codes, numeric, labels",
            lambda: [writer.append(EncodedArrays(c, *n)) for c, n in zip(codes, numeric)],
        )
        writer.close()
        tables_ = counter.code_ids(vocabulary.offsets, vocabulary.id_dtype)
        timed("codes -> ids in place", lambda: encoding.map_codes_to_ids(Path(tmp) / "ids.npy", tables_))
        timed("vocabulary.json", lambda: files.write_json(Path(tmp) / "vocabulary.json", vocabulary.to_dict()))


if __name__ == "__main__":
    main()
