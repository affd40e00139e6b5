"""FNN's FM phase (FMPretraining) trains a minimum, stops on fm/val/auc and fm/val/logloss
together, logs the FM it hands over and warns when that FM is barely better than chance."""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path

import lightning as L
import polars as pl
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from lit_ctr.callbacks import FMPretraining
from lit_ctr.data import SyntheticCTRDataModule
from lit_ctr.models import FNN


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> SyntheticCTRDataModule:
    root = tmp_path_factory.mktemp("fm_phase")
    return SyntheticCTRDataModule(
        rows=1_500, numeric_fields=1, categorical_fields=3, max_cardinality=10, seed=1,
        data_dir=str(root / "data"), cache_dir=str(root / "cache"), batch_size=256,
    )  # fmt: skip


def fit(data: SyntheticCTRDataModule, root: Path, pretraining: FMPretraining, epochs: int) -> pl.DataFrame:
    """A fit whose FM phase learns nothing (learning rate 0: every fm/val/auc is the same)."""
    L.seed_everything(0)
    model = FNN(data.field_dims, data.num_numeric, embed_dim=2, hidden_units=[4], optimizer=partial(torch.optim.Adam))
    trainer = L.Trainer(
        max_epochs=epochs, callbacks=[pretraining], accelerator="cpu", logger=CSVLogger(str(root)),
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(model, data)
    return pl.read_csv(root / "lightning_logs" / "version_0" / "metrics.csv")


def test_patience_cannot_end_the_fm_phase_before_min_epochs(data, tmp_path):
    pretraining = FMPretraining(max_epochs=10, min_epochs=3, patience=1, lr=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = fit(data, tmp_path, pretraining, epochs=4)
    assert pretraining.transfer_epoch == 3
    assert sorted(metrics.drop_nulls("fm/val/auc")["epoch"].to_list()) == [0, 1, 2]


def test_the_handed_over_fm_is_logged_and_a_chance_level_one_is_warned_about(data, tmp_path):
    pretraining = FMPretraining(max_epochs=1, lr=0.0, warn_below_auc=1.01)
    with pytest.warns(UserWarning, match=r"^FMPretraining: the FM handed to FNN is barely better than chance"):
        metrics = fit(data, tmp_path, pretraining, epochs=2)
    logged = metrics.drop_nulls("fm/best_val_auc")["fm/best_val_auc"].to_list()
    assert logged == [pytest.approx(pretraining.best_auc)]


def patience_run(values: list[tuple[float, float]], **kwargs) -> FMPretraining:
    """FMPretraining fed a given (fm/val/auc, fm/val/logloss) at the end of each epoch."""
    pretraining = FMPretraining(max_epochs=len(values) + 5, min_epochs=1, **kwargs)
    model = FNN([3], embed_dim=2, hidden_units=[2])

    class FakeTrainer:
        sanity_checking = False
        callback_metrics: dict = {}
        current_epoch = 0

        class fit_loop:  # noqa: N801 - mirrors Trainer.fit_loop
            class epoch_loop:  # noqa: N801
                class batch_progress:  # noqa: N801
                    is_last_batch = True

    trainer = FakeTrainer()
    for epoch, (auc, logloss) in enumerate(values):
        trainer.current_epoch = epoch
        trainer.callback_metrics = {"fm/val/auc": torch.tensor(auc), "fm/val/logloss": torch.tensor(logloss)}
        pretraining.on_validation_end(trainer, model)
        if pretraining.transfer_epoch is not None:
            break
    return pretraining


def test_a_falling_fm_logloss_keeps_the_fm_phase_going_while_the_auc_is_flat():
    pretraining = patience_run([(0.7, 0.5), (0.7, 0.4), (0.7, 0.3), (0.7, 0.3), (0.7, 0.3)], patience=2)
    assert pretraining.transfer_epoch == 5  # ended after epoch 4: two validations without either improving


def test_the_fm_kept_is_the_one_with_the_best_auc():
    pretraining = patience_run([(0.6, 0.5), (0.8, 0.45), (0.7, 0.4), (0.7, 0.4), (0.7, 0.4)], patience=2)
    assert pretraining.best_epoch == 1 and pretraining.best_auc == pytest.approx(0.8)
