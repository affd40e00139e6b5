"""val/test metrics: exact AUC and mean logloss; an AUC over one class is NaN, not 0."""

from __future__ import annotations

import math

import lightning as L
import torch

from lit_ctr.models import FM
from lit_ctr.models.metrics import BinaryAUC, ctr_metrics


def test_auc_over_labels_of_one_class_is_nan():
    auc = BinaryAUC()
    auc.update(torch.tensor([0.2, -1.0, 3.0]), torch.tensor([0, 0, 0]))
    assert math.isnan(float(auc.compute()))


def test_auc_is_the_exact_rank_statistic_of_logits():
    auc = BinaryAUC()
    auc.update(torch.tensor([-2.0, 0.5, 1.0, 3.0]), torch.tensor([0, 1, 0, 1]))
    assert float(auc.compute()) == 0.75


def test_one_collection_gives_auc_and_logloss_under_its_prefix():
    metrics = ctr_metrics("fm/val/")
    metrics.update(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
    values = metrics.compute()
    assert set(values) == {"fm/val/auc", "fm/val/logloss"}
    assert float(values["fm/val/logloss"]) == torch.log(torch.tensor(2.0)).item()


def test_a_validation_split_with_one_class_logs_val_auc_as_nan():
    torch.manual_seed(0)
    batch = {"ids": torch.tensor([[0, 3], [1, 4]]), "numeric": torch.zeros(2, 0), "label": torch.ones(2)}
    loader = torch.utils.data.DataLoader([batch], batch_size=None)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(FM([3, 4], embed_dim=2), loader, loader)
    assert math.isnan(float(trainer.callback_metrics["val/auc"]))
    assert math.isfinite(float(trainer.callback_metrics["val/logloss"]))
