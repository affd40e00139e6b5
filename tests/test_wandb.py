"""An offline W&B run of ``lit-ctr fit`` and ``lit-ctr test``, read back from its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from lit_ctr.cli import main
from synthetic_config import synthetic_data_config

wandb = pytest.importorskip("wandb")


def read_wandb_records(path: Path) -> list:
    """Every record of an offline run's ``run-<id>.wandb`` transaction log.

    wandb 0.31 has no Python reader any more (the writer is the Go core), so this reads
    the format directly: a 7-byte header (``:W&B``, magic, version), then LevelDB log
    records in 32 KiB blocks (checksum 4, length 2, type 1: full/first/middle/last), each
    payload one ``wandb.proto.wandb_internal_pb2.Record``.
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    block, header = 32768, 7
    position, pending, payloads = header, b"", []
    while position + header <= len(data):
        left = block - position % block
        if left < header:  # the block's zero-filled tail
            position += left
            continue
        length = int.from_bytes(data[position + 4 : position + 6], "little")
        kind = data[position + 6]
        chunk = data[position + header : position + header + length]
        position += header + length
        if kind == 1:
            payloads.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            payloads.append(pending + chunk)
    records = []
    for payload in payloads:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        records.append(record)
    return records


class OfflineRun:
    """History keys, config and saved files of one offline run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.history: dict[str, list] = {}
        self.config: dict = {}
        for record in read_wandb_records(next(run_dir.glob("run-*.wandb"))):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                for item in record.history.item:
                    key = item.key or "/".join(item.nested_key)
                    self.history.setdefault(key, []).append(json.loads(item.value_json))
            elif kind in ("run", "config"):
                updates = record.run.config.update if kind == "run" else record.config.update
                for item in updates:
                    self.config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)

    def media(self, key: str) -> Path:
        """The file an image logged under ``key`` was saved as."""
        return self.dir / "files" / self.history[f"{key}/path"][-1]


@pytest.fixture(scope="module")
def wandb_runs(tmp_path_factory, synthetic_files, monkeypatch_module) -> dict[str, OfflineRun]:
    """``lit-ctr fit`` then ``lit-ctr test`` of FM with a WandbLogger, W&B offline."""
    root = tmp_path_factory.mktemp("wandb")
    monkeypatch_module.setenv("WANDB_MODE", "offline")
    monkeypatch_module.setenv("WANDB_DIR", str(root))
    config = {
        "seed_everything": 0,
        "trainer": {
            "max_epochs": 2,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "log_every_n_steps": 5,
            "logger": {
                "class_path": "lightning.pytorch.loggers.WandbLogger",
                "init_args": {
                    "save_dir": str(root / "runs"),
                    "project": "lit-ctr-test",
                    "name": "fm",
                    "tags": ["test"],
                },
            },
        },
        "model": {"class_path": "FM", "init_args": {"embed_dim": 4}},
        "data": synthetic_data_config(synthetic_files, root / "cache"),
    }
    path = root / "fm.yaml"
    path.write_text(yaml.safe_dump(config))
    runs = {}
    for stage in ("fit", "test"):
        before = set((root / "runs" / "wandb").glob("offline-run-*")) if (root / "runs" / "wandb").exists() else set()
        args = [stage, "--config", str(path)]
        if stage == "test":
            args += ["--ckpt_path", str(next((root / "runs").glob("lit-ctr-test/*/checkpoints/best.ckpt")))]
        try:
            main(args)
        finally:
            # A CLI process ends its run and flushes the offline files at exit; here, by hand.
            wandb.finish()
            wandb.teardown()
        (new,) = set((root / "runs" / "wandb").glob("offline-run-*")) - before
        runs[stage] = OfflineRun(new)
    return runs


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_fit_run_logs_metrics_grouped_by_prefix_with_learning_rate_and_throughput(wandb_runs):
    keys = set(wandb_runs["fit"].history)
    assert {"train/loss", "val/auc", "val/logloss", "train/lr", "train/samples_per_sec"} <= keys
    assert all(rate > 0 for rate in wandb_runs["fit"].history["train/samples_per_sec"])
    assert wandb_runs["fit"].history["train/lr"][0] == pytest.approx(1e-3)


def test_run_config_holds_the_resolved_config_data_statistics_and_parameter_count(wandb_runs):
    config = wandb_runs["fit"].config
    assert config["config"]["model"]["init_args"]["embed_dim"] == 4
    assert config["config"]["trainer"]["max_epochs"] == 2
    assert config["config"]["data"]["init_args"]["batch_size"] == 256
    data = config["data"]
    assert set(data["rows"]) == {"train", "valid", "test"} and data["rows"]["train"] > 0
    assert set(data["fields"]) == {"I2", "C1", "C2", "C3", "C4", "C5", "C6"}  # bucketized I2 is categorical
    assert data["fields"]["C1"]["vocabulary_size"] == data["fields"]["C1"]["cardinality"] + 2  # + OOV + missing
    assert data["vocabulary_size"] == sum(f["vocabulary_size"] for f in data["fields"].values())
    model = config["model"]
    assert model["parameters"] == model["trainable_parameters"] > data["vocabulary_size"] * 4


def test_test_run_logs_test_metrics_roc_calibration_and_probability_plots(wandb_runs):
    run = wandb_runs["test"]
    assert {"test/auc", "test/logloss"} <= set(run.history)
    for key in ("test/roc", "test/calibration", "test/probabilities"):
        assert run.history[f"{key}/_type"] == ["image-file"]
        assert run.media(key).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.history["test/roc_curve_table/_type"] == ["table-file"]
