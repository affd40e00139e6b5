"""Multi-process training with Lightning's DDP strategy (gloo on CPU), through the CLI."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
from lit_ctr.cli import main


def test_ddp_validation_auc_equals_one_process_auc_of_the_same_checkpoint(write_config, capsys):
    config = write_config("FM", {"embed_dim": 4}, max_epochs=1)
    subprocess.run(
        [
            sys.executable, "-m", "lit_ctr", "fit", "--config", str(config),
            "--trainer.strategy=ddp", "--trainer.devices=2", "--trainer.accelerator=cpu",
            "--data.init_args.eval_batch_size=250",
        ],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    run = config.parent / "runs" / "test" / "version_0"
    ddp_auc = pl.read_csv(run / "metrics.csv").drop_nulls("val/auc")["val/auc"][-1]

    main(
        [
            "validate", "--config", str(config), "--ckpt_path", str(run / "checkpoints" / "last.ckpt"),
            "--trainer.logger.init_args.version=1",
        ]
    )  # fmt: skip
    single = pl.read_csv(config.parent / "runs" / "test" / "version_1" / "metrics.csv")
    assert abs(single["val/auc"][-1] - ddp_auc) < 1e-6
