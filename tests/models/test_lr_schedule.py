"""A learning-rate schedule is stepped once an epoch, with dense or sparse tables; a plateau
schedule watches val/auc."""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch

from lit_ctr.errors import ConfigError
from lit_ctr.models import FM


def batches(n: int = 2) -> torch.utils.data.DataLoader:
    torch.manual_seed(0)
    data = [
        {
            "ids": torch.randint(0, 10, (16, 2)),
            "numeric": torch.zeros(16, 0),
            "label": torch.randint(0, 2, (16,)).float(),
        }
        for _ in range(n)
    ]
    return torch.utils.data.DataLoader(data, batch_size=None)


def fit(model: FM, epochs: int) -> L.Trainer:
    trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(model, batches(), batches())
    return trainer


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_a_step_schedule_lowers_every_optimizers_rate_once_an_epoch(sparse):
    model = FM([5, 5], 0, embed_dim=3, sparse=sparse, optimizer=partial(torch.optim.Adam, lr=0.1),
               sparse_optimizer=partial(torch.optim.SparseAdam, lr=0.1),
               lr_scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5))  # fmt: skip
    trainer = fit(model, epochs=3)
    assert len(trainer.optimizers) == (2 if sparse else 1)
    for optimizer in trainer.optimizers:
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_a_plateau_schedule_lowers_the_rate_when_val_auc_stops_rising(sparse):
    # lr 1e-12 leaves every ranking, so val/auc, as it was after epoch 1: epochs 2 and 3
    # do not improve on it and each halves the rate.
    model = FM([5, 5], 0, embed_dim=3, sparse=sparse, optimizer=partial(torch.optim.SGD, lr=1e-12),
               sparse_optimizer=partial(torch.optim.SGD, lr=1e-12),
               lr_scheduler=partial(torch.optim.lr_scheduler.ReduceLROnPlateau, mode="max", factor=0.5, patience=0))  # fmt: skip
    trainer = fit(model, epochs=3)
    for config in trainer.lr_scheduler_configs:
        assert config.scheduler.best == pytest.approx(float(trainer.callback_metrics["val/auc"]))
    for optimizer in trainer.optimizers:
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.25e-12)


def test_a_plateau_schedule_on_val_auc_must_maximize():
    model = FM([5, 5], 0, lr_scheduler=partial(torch.optim.lr_scheduler.ReduceLROnPlateau, mode="min"))
    with pytest.raises(
        ConfigError,
        match="model.lr_scheduler: ReduceLROnPlateau watches 'val/auc', where higher is better: set mode: max",
    ):
        model.configure_optimizers()
