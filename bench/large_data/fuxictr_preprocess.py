"""FuxiCTR 2.3.10's own preprocessing of a raw headerless Criteo-shaped TSV, timed.

Run with the peers' environment (bench/.venv-peers, made by
bench/throughput/peers/setup_env.sh). The preprocessing is the same as the timed part of
bench/throughput/peers/fuxictr_entry.py (FeatureProcessor + build_dataset: polars scan,
vocabulary and min/max statistics, Ray transform, parquet write, the same feature
settings and the same header-less reader subclass), without the training that entry
also runs. Prints one JSON line; peak RSS is the driver process only (Ray's workers
are other processes).
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "throughput" / "peers"))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import _common as C  # noqa: E402  (the peers' shared settings: column names)

# Copied out of _common: Ray's workers unpickle the processor below without the peers'
# directory on their path, so it must not refer to that module.
COLUMNS, DENSE, SPARSE = list(C.COLUMNS), list(C.DENSE), list(C.SPARSE)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--data", required=True)
args = parser.parse_args()
out = C.guard_stdout()  # libraries print to stdout: keep it for the JSON line

import fuxictr  # noqa: E402
import polars as pl  # noqa: E402
from fuxictr.preprocess import FeatureProcessor, build_dataset  # noqa: E402


class HeaderlessTSVProcessor(FeatureProcessor):
    """FeatureProcessor.read_data scans '*.csv' files with a header row; the raw TSV has
    none, so only the reader is swapped (same lazy polars scan, named columns)."""

    def read_data(self, data_path, data_format="csv", sep="\t", n_rows=None, **kwargs):
        return pl.scan_csv(
            data_path,
            separator=sep,
            has_header=False,
            new_columns=COLUMNS,
            schema_overrides=self.dtype_dict,
            low_memory=False,
            n_rows=n_rows,
        )


work = tempfile.mkdtemp(prefix="fuxictr_large_")
try:
    start = time.perf_counter()
    processor = HeaderlessTSVProcessor(
        feature_cols=[
            {"name": DENSE, "active": True, "dtype": "float", "type": "numeric", "normalizer": "MinMaxScaler"},
            {"name": SPARSE, "active": True, "dtype": "str", "type": "categorical"},
        ],
        label_col={"name": "label", "dtype": "float"},
        dataset_id="criteo_large",
        data_root=work,
    )
    train_path, _, _ = build_dataset(processor, train_data=args.data, min_categr_count=1)
    seconds = time.perf_counter() - start
    rows = pl.scan_parquet(train_path).select(pl.len()).collect().item()
finally:
    shutil.rmtree(work, ignore_errors=True)

result = {
    "stage": "fuxictr_preprocess",
    "version": fuxictr.__version__,
    "rows": int(rows),
    "seconds": round(seconds, 1),
    "rows_per_s": round(rows / seconds),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}
out.write(json.dumps(result) + "\n")
out.flush()
