"""The data block of every CLI test config: the session's small synthetic TSV files
(``synthetic_files`` in conftest.py: label, 2 numeric + 6 categorical fields, no header)."""

from __future__ import annotations

from pathlib import Path

SYNTHETIC_SCHEMA = {
    "label": "label",
    "fields": [
        {"name": "I1", "kind": "numeric", "transform": "log1p"},
        {"name": "I2", "kind": "numeric", "transform": "bucketize"},
    ]
    + [{"name": f"C{i}"} for i in range(1, 7)],
}


def synthetic_data_config(files: dict[str, Path], cache_dir: Path) -> dict:
    """``data:`` for a config: CTRDataModule over the train/valid/test files, batch 256."""
    return {
        "class_path": "CTRDataModule",
        "init_args": {
            "schema": SYNTHETIC_SCHEMA,
            "train_path": str(files["train"]),
            "valid_path": str(files["valid"]),
            "test_path": str(files["test"]),
            "file_format": {"kind": "tsv", "has_header": False},
            "cache_dir": str(cache_dir),
            "batch_size": 256,
        },
    }
