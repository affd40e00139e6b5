"""An FwFM checkpoint saved before ``r = 1 + δ`` (it holds ``field_weights.weight`` = r)
scores and resumes from the command line as the model it was."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import torch
from lit_ctr.cli import main


def as_saved_before_offsets(checkpoint: Path, target: Path) -> Path:
    """``checkpoint`` rewritten with ``r`` under its old key, as older lit-ctr wrote it."""
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    state = saved["state_dict"]
    state["field_weights.weight"] = 1 + state.pop("field_weight_offsets.weight")
    torch.save(saved, target)
    return target


def scores(config: Path, checkpoint: Path, rows: Path, output: Path) -> pl.Series:
    main(["predict", "--config", str(config), "--ckpt_path", str(checkpoint),
          "--data.predict_path", str(rows), "--predictions.output", str(output)])  # fmt: skip
    return pl.read_csv(output)["probability"]


def test_an_old_fwfm_checkpoint_predicts_what_it_predicted(write_config, synthetic_files, tmp_path):
    config = write_config("FwFM", {"embed_dim": 4}, max_epochs=1)
    main(["fit", "--config", str(config)])
    best = tmp_path / "runs" / "test" / "version_0" / "checkpoints" / "best.ckpt"
    old = as_saved_before_offsets(best, tmp_path / "old.ckpt")
    expected = scores(config, best, synthetic_files["test"], tmp_path / "new.csv")
    assert scores(config, old, synthetic_files["test"], tmp_path / "old.csv").equals(expected)


def test_a_fit_resumes_from_an_old_fwfm_checkpoint(write_config, tmp_path):
    config = write_config("FwFM", {"embed_dim": 4}, max_epochs=1)
    main(["fit", "--config", str(config)])
    run = tmp_path / "runs" / "test" / "version_0"
    old = as_saved_before_offsets(run / "checkpoints" / "last.ckpt", tmp_path / "old.ckpt")
    main(["fit", "--config", str(config), "--trainer.max_epochs", "2", "--ckpt_path", str(old),
          "--trainer.logger.init_args.version", "1"])  # fmt: skip
    resumed = run.parent / "version_1"
    assert pl.read_csv(resumed / "metrics.csv").drop_nulls("val/auc")["epoch"].to_list() == [1]  # only the 2nd epoch
    saved = torch.load(resumed / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert "field_weight_offsets.weight" in saved["state_dict"]
