"""The command line, driven the way users drive it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import torch
from lit_ctr.cli import build_cli, main

from lit_ctr.models import FM
from lit_ctr.scoring import score


def run_dir(config: Path) -> Path:
    return config.parent / "runs" / "test" / "version_0"


def test_help_runs_as_a_console_script_and_as_a_module():
    for command in (["lit-ctr", "--help"], [sys.executable, "-m", "lit_ctr", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        assert "{fit,validate,test,predict}" in result.stdout


def test_print_config_documents_the_model_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--model", "FM", "--data", "SyntheticCTRDataModule", "--print_config"])
    printed = capsys.readouterr().out
    assert "class_path: lit_ctr.models.FM" in printed
    assert "embed_dim: 10" in printed
    assert "class_path: lit_ctr.synthetic.SyntheticCTRDataModule" in printed


def test_field_sizes_are_linked_from_the_data_into_the_model(write_config):
    cli = build_cli(["--config", str(write_config("FM"))], run=False)
    assert cli.model.hparams["field_dims"] == cli.datamodule.field_dims
    assert cli.model.hparams["num_numeric"] == cli.datamodule.num_numeric == 1


def test_fit_writes_best_and_last_checkpoints_and_validation_metrics(write_config):
    config = write_config("FM")
    main(["fit", "--config", str(config)])
    checkpoints = run_dir(config) / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()
    metrics = pl.read_csv(run_dir(config) / "metrics.csv")
    assert {"train/loss", "val/auc", "val/logloss"} <= set(metrics.columns)


def test_fit_test_load_and_predict_raw_rows_round_trip(write_config, synthetic_files, tmp_path):
    config = write_config(
        "FM", {"embed_dim": 4, "optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 0.02}}}
    )
    main(["fit", "--config", str(config)])
    best = run_dir(config) / "checkpoints" / "best.ckpt"

    main(["test", "--config", str(config), "--ckpt_path", str(best)])
    test_metrics = pl.read_csv(run_dir(config) / "metrics.csv").drop_nulls("test/auc")
    assert test_metrics["test/auc"][0] > 0.6

    model = FM.load_from_checkpoint(best, weights_only=True)  # no datamodule needed
    assert model.hparams["field_dims"] and model.preprocessing["vocabulary"]["fields"]

    names = ["I1", "I2"] + [f"C{i}" for i in range(1, 7)]
    raw = pl.read_csv(synthetic_files["test"], separator="\t", has_header=False, infer_schema=False)
    rows = raw.drop(raw.columns[0]).head(300)
    rows.columns = names  # a CSV with a header and no label column
    rows_file = tmp_path / "rows.csv"
    rows.write_csv(rows_file)
    output = tmp_path / "scores.parquet"
    main(
        [
            "predict", "--config", str(config), "--ckpt_path", str(best),
            "--data.predict_path", str(rows_file), "--data.predict_file_format.kind", "csv",
            "--predictions.output", str(output),
        ]
    )  # fmt: skip
    written = pl.read_parquet(output)["probability"].to_numpy()
    assert written.shape == (300,)
    expected = score(best, rows)
    assert torch.allclose(torch.from_numpy(written), torch.from_numpy(expected), atol=1e-6)


def test_unknown_model_name_is_an_error_that_names_the_key(write_config, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--config", str(write_config("NoSuchModel"))])
    assert "model" in capsys.readouterr().err
