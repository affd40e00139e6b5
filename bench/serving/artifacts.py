"""The serving benchmarks' model: a small DeepFM trained on Criteo-shaped synthetic data
(13 numeric + 26 categorical fields), exported as ONNX and TorchScript, and raw rows to
score (the held-out rows as dicts of field → text, as a client would send them).

    python bench/serving/artifacts.py --out /tmp/lit-ctr-serving   # writes model.onnx, model.pt, rows.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

CONFIG = {
    "seed_everything": 0,
    "trainer": {
        "max_epochs": 1,
        "accelerator": "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"name": "bench", "version": 0}},
    },
    "model": {"class_path": "DeepFM", "init_args": {"embed_dim": 10, "hidden_units": [200, 200]}},
    "data": {
        "class_path": "SyntheticCTRDataModule",
        "init_args": {"rows": 20_000, "numeric_fields": 13, "categorical_fields": 26, "max_cardinality": 1000},
    },
}


def make(out: Path) -> dict[str, Path]:
    """Train, export and write rows into ``out`` (reused when already there)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"onnx": out / "model.onnx", "torchscript": out / "model.pt", "rows": out / "rows.json"}
    if all(p.exists() for p in paths.values()):
        return paths
    from lit_ctr.cli import main

    config = dict(CONFIG)
    config["trainer"] = {**CONFIG["trainer"], "default_root_dir": str(out / "runs")}
    config["trainer"]["logger"] = {
        "class_path": "lightning.pytorch.loggers.CSVLogger",
        "init_args": {"save_dir": str(out / "runs"), "name": "bench", "version": 0},
    }
    config["data"] = {
        "class_path": "SyntheticCTRDataModule",
        "init_args": {**CONFIG["data"]["init_args"], "data_dir": str(out / "data"), "cache_dir": str(out / "cache")},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(out / "config.yaml")])
    checkpoint = out / "runs" / "bench" / "version_0" / "checkpoints" / "best.ckpt"
    for kind in ("onnx", "torchscript"):
        main(["export", "--ckpt_path", str(checkpoint), "--format", kind, "--output", str(paths[kind])])
    paths["rows"].write_text(json.dumps(raw_rows(out / "data", paths["onnx"])))
    return paths


def raw_rows(data_dir: Path, artifact: Path, n: int = 4096) -> list[dict]:
    """``n`` held-out rows of the generated files, label dropped, as dicts of text."""
    import polars as pl

    from lit_ctr.predictor import load_predictor

    schema = load_predictor(artifact).schema
    names = [f.name for f in schema.fields]
    test = sorted(p for p in data_dir.rglob("*") if p.is_file() and "test" in p.name)[0]
    frame = pl.read_csv(test, separator="\t", has_header=False, infer_schema=False, n_rows=n)
    frame = frame.drop(frame.columns[0])
    frame.columns = names
    return frame.to_dicts()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/lit-ctr-serving"))
    print({k: str(v) for k, v in make(parser.parse_args().out).items()})
