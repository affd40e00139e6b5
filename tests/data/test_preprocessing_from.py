"""A checkpoint's preprocessing (schema, file format, vocabulary) is the truth for evaluation."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
import yaml
from lit_ctr.cli import main

from lit_ctr.data import CTRDataModule, DataError, Field, Schema, SyntheticCTRDataModule


def fake_checkpoint(path: Path, dm: CTRDataModule) -> Path:
    """A checkpoint holding only what Lightning stores for the data module."""
    torch.save({"state_dict": {}, "CTRDataModule": dm.state_dict()}, path)
    return path


@pytest.fixture
def checkpoint(tmp_path, train_csv, make_dm, schema) -> Path:
    return fake_checkpoint(tmp_path / "model.ckpt", make_dm(schema=schema, train_path=str(train_csv)))


def test_preprocessing_from_encodes_test_rows_with_the_checkpoint_vocabulary(
    checkpoint, train_csv, valid_csv, make_dm, schema
):
    fitted = make_dm(schema=schema, train_path=str(train_csv), test_path=str(valid_csv))
    fitted.setup("test")
    adopted = make_dm(schema=schema, test_path=str(valid_csv), preprocessing_from=str(checkpoint))
    adopted.setup("test")
    assert adopted.field_dims == fitted.field_dims and adopted.num_numeric == fitted.num_numeric
    np.testing.assert_array_equal(adopted.splits["test"].ids, fitted.splits["test"].ids)
    assert "train" not in adopted.splits


def test_preprocessing_from_never_reads_a_missing_train_path(checkpoint, tmp_path, valid_csv, make_dm, schema):
    dm = make_dm(
        schema=schema,
        train_path=str(tmp_path / "gone.csv"),
        valid_path=str(valid_csv),
        preprocessing_from=str(checkpoint),
    )
    dm.setup("validate")
    assert len(dm.splits["valid"]) == 3


def test_preprocessing_from_ignores_a_different_train_file(checkpoint, write_rows, valid_csv, make_dm, schema):
    other = write_rows("other.csv", [(1, "q", "r", 1.0)], header=["label", "user", "item", "price"])
    dm = make_dm(schema=schema, train_path=str(other), test_path=str(valid_csv), preprocessing_from=str(checkpoint))
    assert dm.vocabulary.fields[0].values == ["a", "b", "c"]


def test_preprocessing_from_with_a_different_schema_uses_the_checkpoint_one_and_says_so(
    checkpoint, valid_csv, make_dm, caplog
):
    caplog.set_level(logging.INFO, logger="lit_ctr")
    other = Schema(fields=[Field("user"), Field("item")])
    dm = make_dm(schema=other, test_path=str(valid_csv), preprocessing_from=str(checkpoint))
    assert [f.name for f in dm.schema.fields] == ["user", "item", "price"]
    assert any("using the schema saved in" in r.getMessage() for r in caplog.records)


def test_preprocessing_from_a_checkpoint_without_preprocessing_is_a_data_error(tmp_path, valid_csv, make_dm, schema):
    bare = tmp_path / "bare.ckpt"
    torch.save({"state_dict": {}}, bare)
    with pytest.raises(DataError, match="data.preprocessing_from: the checkpoint holds no preprocessing"):
        make_dm(schema=schema, test_path=str(valid_csv), preprocessing_from=str(bare))


def test_resuming_with_changed_training_data_is_a_data_error(checkpoint, write_rows, make_dm, schema):
    changed = write_rows(
        "changed.csv", [(1, "q", "r", 1.0), (0, "s", "r", 2.0)], header=["label", "user", "item", "price"]
    )
    dm = make_dm(schema=schema, train_path=str(changed))
    state = torch.load(checkpoint, weights_only=True)["CTRDataModule"]
    with pytest.raises(DataError, match="the training data changed since this checkpoint was written"):
        dm.load_state_dict(state)


def test_resuming_with_the_same_training_data_loads_the_state(checkpoint, train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.load_state_dict(torch.load(checkpoint, weights_only=True)["CTRDataModule"])
    assert dm.loaded_preprocessing["vocabulary"] == dm.vocabulary.to_dict()


def test_synthetic_datamodule_passes_preprocessing_from_on(tmp_path):
    kwargs = {"rows": 400, "categorical_fields": 3, "numeric_fields": 1, "data_dir": str(tmp_path / "d")}
    first = SyntheticCTRDataModule(cache_dir=str(tmp_path / "c1"), **kwargs)
    ckpt = fake_checkpoint(tmp_path / "s.ckpt", first)
    other = SyntheticCTRDataModule(cache_dir=str(tmp_path / "c2"), preprocessing_from=str(ckpt), **kwargs)
    assert other.preprocessing_from == str(ckpt)
    assert other.field_dims == first.field_dims


# ---------------------------------------------------------------- through the command line
def test_cli_test_and_predict_with_a_checkpoint_use_its_vocabulary_whatever_train_path_says(
    write_config, synthetic_files, tmp_path
):
    config = write_config("FM", {"embed_dim": 4})
    main(["fit", "--config", str(config)])
    best = tmp_path / "runs" / "test" / "version_0" / "checkpoints" / "best.ckpt"
    rows = tmp_path / "rows.tsv"
    rows.write_text("".join(synthetic_files["test"].read_text().splitlines(keepends=True)[:200]))

    def evaluate(config_path: Path, tag: str) -> tuple[float, np.ndarray]:
        logs = tmp_path / f"eval-{tag}"
        logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(logs)}}
        common = ["--config", str(config_path), "--ckpt_path", str(best), "--trainer.logger", yaml.safe_dump(logger)]
        main(["test", *common])
        (metrics,) = logs.rglob("metrics.csv")
        auc = pl.read_csv(metrics).drop_nulls("test/auc")["test/auc"][0]
        output = tmp_path / f"scores-{tag}.parquet"
        main(["predict", *common, "--data.predict_path", str(rows), "--predictions.output", str(output)])
        return auc, pl.read_parquet(output)["probability"].to_numpy()

    auc, scores = evaluate(config, "original")
    for tag, train_path in (("other", synthetic_files["valid"]), ("missing", tmp_path / "no-such-train.tsv")):
        changed = yaml.safe_load(config.read_text())
        changed["data"]["init_args"]["train_path"] = str(train_path)
        changed["data"]["init_args"]["cache_dir"] = str(tmp_path / f"cache-{tag}")
        changed_config = tmp_path / f"{tag}.yaml"
        changed_config.write_text(yaml.safe_dump(changed))
        changed_auc, changed_scores = evaluate(changed_config, tag)
        assert changed_auc == pytest.approx(auc, abs=1e-7)
        np.testing.assert_allclose(changed_scores, scores, atol=1e-7)
