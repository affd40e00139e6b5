"""train/loss: the mean over the batches since it was last logged, at the Trainer's cadence."""

from __future__ import annotations

from functools import partial

import lightning as L
import polars as pl
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from lit_ctr.data import SyntheticCTRDataModule
from lit_ctr.models import FM


class StepLosses(L.Callback):
    """Every training step's loss, as training_step returned it (no L2: the BCE itself)."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.logged: list[float | None] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))
        value = trainer.callback_metrics.get("train/loss")
        self.logged.append(None if value is None else float(value))


@pytest.fixture(scope="module")
def datamodule(tmp_path_factory):
    root = tmp_path_factory.mktemp("loss_logging")
    return SyntheticCTRDataModule(
        rows=3_000, numeric_fields=2, categorical_fields=3, max_cardinality=20, seed=1,
        data_dir=str(root / "data"), cache_dir=str(root / "cache"), batch_size=256,
    )  # fmt: skip


def fit(datamodule, tmp_path, *, progress_bar: bool, every: int = 3) -> tuple[StepLosses, pl.DataFrame]:
    torch.manual_seed(0)
    model = FM(datamodule.field_dims, datamodule.num_numeric, embed_dim=4, optimizer=partial(torch.optim.Adam, lr=0.01))
    steps = StepLosses()
    trainer = L.Trainer(
        max_steps=7, limit_val_batches=0, num_sanity_val_steps=0, log_every_n_steps=every, accelerator="cpu",
        enable_progress_bar=progress_bar, enable_model_summary=False, enable_checkpointing=False,
        logger=CSVLogger(str(tmp_path)), callbacks=[steps],
    )  # fmt: skip
    trainer.fit(model, datamodule)
    metrics = pl.read_csv(tmp_path / "lightning_logs" / "version_0" / "metrics.csv").drop_nulls("train/loss")
    return steps, metrics


def test_the_logged_train_loss_is_the_mean_of_the_batches_since_the_last_log(datamodule, tmp_path):
    datamodule.prepare_data()
    steps, metrics = fit(datamodule, tmp_path, progress_bar=False)
    assert metrics["step"].to_list() == [2, 5]
    expected = [sum(steps.losses[0:3]) / 3, sum(steps.losses[3:6]) / 3]
    assert metrics["train/loss"].to_list() == pytest.approx(expected, rel=1e-6)


def test_without_a_progress_bar_train_loss_changes_only_on_logging_steps(datamodule, tmp_path):
    datamodule.prepare_data()
    steps, _ = fit(datamodule, tmp_path, progress_bar=False)
    assert steps.logged[:2] == [None, None]
    assert steps.logged[2] == steps.logged[3] == steps.logged[4]


def test_with_a_progress_bar_train_loss_is_the_running_mean_every_step(datamodule, tmp_path):
    datamodule.prepare_data()
    steps, metrics = fit(datamodule, tmp_path, progress_bar=True)
    assert steps.logged[3] == pytest.approx(steps.losses[3], rel=1e-6)  # the window restarted after step 2
    assert steps.logged[4] == pytest.approx(sum(steps.losses[3:5]) / 2, rel=1e-6)
    assert metrics["train/loss"].to_list() == pytest.approx(
        [sum(steps.losses[0:3]) / 3, sum(steps.losses[3:6]) / 3], rel=1e-6
    )
