"""LR and FM learn planted data: FM close to the Bayes-optimal AUC, LR short of it."""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch

from lit_ctr.data import SyntheticCTRDataModule
from lit_ctr.models import FM, LR

# FM is expected within this AUC of the Bayes-optimal AUC after 5 epochs on 32k rows
# (the 4k-row validation split alone makes AUC noisy by about 0.01).
FM_MARGIN = 0.025


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> SyntheticCTRDataModule:
    root = tmp_path_factory.mktemp("planted")
    return SyntheticCTRDataModule(
        rows=40_000, numeric_fields=2, categorical_fields=6, max_cardinality=30, seed=5,
        data_dir=str(root / "data"), cache_dir=str(root / "cache"), batch_size=512,
    )  # fmt: skip


def validation_auc(model, datamodule) -> float:
    trainer = L.Trainer(
        max_epochs=5, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu",
    )  # fmt: skip
    trainer.fit(model, datamodule)
    return float(trainer.callback_metrics["val/auc"])


def test_fm_reaches_the_bayes_optimal_auc_within_the_stated_margin(planted):
    L.seed_everything(0)
    fm = FM(planted.field_dims, planted.num_numeric, embed_dim=8, optimizer=partial(torch.optim.Adam, lr=0.01))
    assert validation_auc(fm, planted) >= planted.bayes_auc["valid"] - FM_MARGIN


def test_lr_learns_first_order_signal_but_not_the_pairwise_part(planted):
    L.seed_everything(0)
    lr = LR(planted.field_dims, planted.num_numeric, optimizer=partial(torch.optim.Adam, lr=0.01))
    auc = validation_auc(lr, planted)
    assert 0.6 < auc < planted.bayes_auc["valid"] - FM_MARGIN
