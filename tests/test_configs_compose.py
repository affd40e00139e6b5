"""Composable configs: a model file (configs/models) after which a data file (configs/data,
or the user's own) completes the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from lit_ctr.cli import LitCtrCLI, build_cli, main

REPO = Path(__file__).resolve().parents[1]
MODEL_CONFIGS = sorted(REPO.glob("configs/models/*.yaml"))
DATA_CONFIGS = sorted(REPO.glob("configs/data/*.yaml"))
MODELS = [
    "lr", "fm", "fnn", "deepfm", "nfm", "wide_deep", "pnn", "dcn",
    "afm", "ffm", "fwfm", "xdeepfm", "autoint", "dcn_v2", "fibinet", "finalmlp",
]  # fmt: skip


def test_there_is_a_model_config_for_every_model_and_a_data_config_per_data_set():
    assert sorted(p.stem for p in MODEL_CONFIGS) == sorted(MODELS)
    assert sorted(p.stem for p in DATA_CONFIGS) == ["criteo", "frappe", "synthetic"]


def test_model_configs_hold_no_data_and_data_configs_hold_only_data():
    for path in MODEL_CONFIGS:
        assert "data" not in yaml.safe_load(path.read_text()), path
    for path in DATA_CONFIGS:
        assert list(yaml.safe_load(path.read_text())) == ["data"], path


@pytest.mark.parametrize("data", DATA_CONFIGS, ids=lambda p: p.stem)
@pytest.mark.parametrize("model", MODEL_CONFIGS, ids=lambda p: p.stem)
def test_every_model_config_parses_with_every_data_config(model, data, monkeypatch):
    monkeypatch.setattr(LitCtrCLI, "instantiate_classes", lambda self: None)  # parse only
    cli = build_cli(["--config", str(model), "--config", str(data)], run=False)
    config = cli.config
    assert config["model"]["class_path"].startswith("lit_ctr.models.")
    assert config["data"]["class_path"].startswith(("lit_ctr.data.", "lit_ctr.synthetic."))
    assert config["early_stopping"]["monitor"] == "val/auc"


def fit(args: list[str], tmp_path: Path) -> Path:
    """Run ``lit-ctr fit`` for one epoch; the run's folder."""
    main(
        [
            "fit", *args,
            "--trainer.max_epochs", "1",
            "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false",
            "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
            "--data.init_args.cache_dir", str(tmp_path / "cache"),
        ]
    )  # fmt: skip
    (run,) = (tmp_path / "runs").glob("*/version_0")
    return run


def test_a_model_config_composes_with_a_shipped_data_config(tmp_path):
    run = fit(
        [
            "--config", str(REPO / "configs/models/deepfm.yaml"),
            "--config", str(REPO / "configs/data/synthetic.yaml"),
            "--data.init_args.rows", "2000",
            "--data.init_args.data_dir", str(tmp_path / "synthetic"),
        ],
        tmp_path,
    )  # fmt: skip
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["model"]["class_path"] == "lit_ctr.models.DeepFM"
    assert saved["data"]["class_path"] == "lit_ctr.synthetic.SyntheticCTRDataModule"
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_a_model_config_composes_with_the_users_data_file(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 400
    user = rng.choice(["a", "b", "c"], n)
    pl.DataFrame({"user": user, "price": rng.random(n), "click": (user == "a").astype(int)}).write_csv(
        tmp_path / "train.csv"
    )
    main(["schema", str(tmp_path / "train.csv"), "--label", "click"])
    my_data = yaml.safe_load(capsys.readouterr().out)
    my_data["data"]["init_args"]["valid_path"] = str(tmp_path / "train.csv")
    (tmp_path / "my_data.yaml").write_text(yaml.safe_dump(my_data))
    run = fit(["--config", str(REPO / "configs/models/fm.yaml"), "--config", str(tmp_path / "my_data.yaml")], tmp_path)
    metrics = pl.read_csv(run / "metrics.csv")
    assert metrics["val/auc"].drop_nulls().len() == 1
