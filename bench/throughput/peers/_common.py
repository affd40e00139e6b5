"""Shared bits of the peer-library entries: CLI, thread pinning, stdout guard, result line."""

import argparse
import json
import os
import resource
import sys

import torch

HIDDEN = (400, 400, 400)
EMBED_DIM = 10
BATCH = 4096
LR = 1e-3
DENSE = [f"I{i}" for i in range(1, 14)]
SPARSE = [f"C{i}" for i in range(1, 27)]
COLUMNS = ["label"] + DENSE + SPARSE  # raw Criteo TSV layout, no header
# The "regularised" preset (bench/throughput/litctr_entry.py PRESETS), given to each peer in
# its own terms: batch norm and dropout in the MLP, the library's own embedding L2.
BATCH_NORM = True
DROPOUT = 0.2
EMBEDDING_L2 = 0.05
# Issue 15's models (DeepCTR-Torch only): lit-ctr's configs/frappe/<name>.yaml network settings.
FRAPPE_MODELS = ["afm", "xdeepfm", "autoint", "dcn_v2", "fibinet"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB: VmHWM of its own address space.
    Not ``ru_maxrss``, which Linux carries over from the parent across fork + exec, so
    every entry started by a large driver would report at least the driver's memory."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True, help="headerless Criteo-shaped TSV")
    p.add_argument("--model", required=True, choices=["deepfm", "nfm", "fm", *FRAPPE_MODELS])
    p.add_argument("--json", required=True, help="where to write the result JSON")
    p.add_argument("--preset", choices=["bare", "regularised"], default="bare")
    args = p.parse_args()
    if args.preset == "regularised" and args.model != "deepfm":
        p.error("the regularised preset is defined for deepfm only")
    return args


def pin_threads():
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(2024)


def guard_stdout():
    """Send everything the libraries print (Python or native) to stderr; return a stream
    on the real stdout for the single JSON result line."""
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return real


def report(out, json_path, library, version, model, rows, preprocess_s, train_s, preset="bare"):
    result = {
        "library": library,
        "version": version,
        "model": model,
        "preset": preset,
        "rows": int(rows),
        "preprocess_s": round(preprocess_s, 3),
        "train_s": round(train_s, 3),
        "samples_per_s": round(rows / train_s, 1),
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
    }
    line = json.dumps(result)
    with open(json_path, "w") as f:
        f.write(line + "\n")
    out.write(line + "\n")
    out.flush()
