"""lit-ctr predict's output file: the columns the user keeps, row order, empty input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from lit_ctr.cli import main

from lit_ctr.data import DataError

FIELDS = "[{name: user}, {name: ad}]"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> dict[str, Path]:
    """An LR fitted one epoch on a small CSV with an id column; its checkpoint and folder."""
    root = tmp_path_factory.mktemp("writer")
    rng = np.random.default_rng(0)
    n = 200
    user = rng.choice(["a", "b", "c"], n)
    ids = [f"{i:04d}" for i in range(n)]  # leading zeros: kept as written
    pl.DataFrame(
        {"id": ids, "user": user, "ad": rng.choice(["x", "y"], n), "click": (user == "a").astype(int)}
    ).write_csv(root / "train.csv")
    main(args(root))
    (ckpt,) = root.glob("lightning_logs/version_0/checkpoints/last.ckpt")
    return {"root": root, "ckpt": ckpt}


def args(root: Path) -> list[str]:
    return [
        "fit", "--model", "LR",
        "--data.train_path", str(root / "train.csv"), "--data.schema.label", "click",
        "--data.schema.fields", FIELDS, "--data.cache_dir", str(root / "cache"),
        "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(root),
    ]  # fmt: skip


def predict(fitted: dict[str, Path], predict_file: Path, output: Path, *extra: str) -> None:
    root = fitted["root"]
    main(
        [
            "predict", "--model", "LR",
            "--data.train_path", str(root / "train.csv"), "--data.schema.label", "click",
            "--data.schema.fields", FIELDS, "--data.cache_dir", str(root / "cache"),
            "--data.predict_path", str(predict_file), "--trainer.enable_progress_bar", "false",
            "--trainer.default_root_dir", str(root),
            "--ckpt_path", str(fitted["ckpt"]), "--predictions.output", str(output), *extra,
        ]
    )  # fmt: skip


def test_keep_columns_copies_the_named_columns_beside_the_probability_in_row_order(fitted, tmp_path):
    rows = pl.DataFrame({"id": ["0042", "0007", "0100"], "user": ["c", "a", "b"], "ad": ["x", "y", "x"]})
    rows.write_csv(tmp_path / "new.csv")
    predict(fitted, tmp_path / "new.csv", tmp_path / "out.csv", "--predictions.keep_columns", "[id]")
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert out.columns == ["id", "probability"]
    assert out["id"].to_list() == ["0042", "0007", "0100"]
    # the user 'a' rows click: its probability is the highest of the three
    probabilities = out["probability"].cast(pl.Float64).to_list()
    assert probabilities[1] == max(probabilities)


def test_keep_columns_writes_parquet_too(fitted, tmp_path):
    pl.DataFrame({"id": ["1", "2"], "user": ["a", "b"], "ad": ["x", "y"]}).write_csv(tmp_path / "new.csv")
    predict(fitted, tmp_path / "new.csv", tmp_path / "out.parquet", "--predictions.keep_columns", "[id, ad]")
    out = pl.read_parquet(tmp_path / "out.parquet")
    assert out.columns == ["id", "ad", "probability"]
    assert out["ad"].to_list() == ["x", "y"]


def test_a_kept_column_the_file_lacks_is_an_error_naming_the_option_and_the_file(fitted, tmp_path):
    pl.DataFrame({"user": ["a"], "ad": ["x"]}).write_csv(tmp_path / "new.csv")
    with pytest.raises(DataError, match=r"new\.csv: predictions\.keep_columns: no column\(s\) \['id'\] in the file"):
        predict(fitted, tmp_path / "new.csv", tmp_path / "out.csv", "--predictions.keep_columns", "[id]")
    assert not (tmp_path / "out.csv").exists()


def test_a_predict_file_with_a_header_and_no_rows_writes_an_empty_output_with_the_columns(fitted, tmp_path):
    (tmp_path / "new.csv").write_text("id,user,ad\n")
    predict(fitted, tmp_path / "new.csv", tmp_path / "out.csv", "--predictions.keep_columns", "[id]")
    assert (tmp_path / "out.csv").read_text() == "id,probability\n"


def test_an_empty_predict_file_without_kept_columns_still_writes_the_probability_header(fitted, tmp_path):
    (tmp_path / "new.csv").write_text("id,user,ad\n")
    predict(fitted, tmp_path / "new.csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "probability\n"
