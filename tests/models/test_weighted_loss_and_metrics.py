"""Sample weights in training and evaluation: the weighted loss, and exact weighted metrics
logged next to the unweighted ones."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from csv_fit_run import quiet_trainer

from lit_ctr.models import FM
from lit_ctr.models.metrics import ctr_loss, weighted_auc, weighted_ctr_metrics

LOGITS = torch.tensor([0.3, -1.2, 2.0, 0.3, 0.0])
LABELS = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0])
WEIGHTS = torch.tensor([2.0, 1.0, 0.5, 3.0, 0.0])


def test_the_weighted_loss_is_the_weighted_mean_of_the_row_losses():
    losses = F.binary_cross_entropy_with_logits(LOGITS, LABELS, reduction="none")
    torch.testing.assert_close(ctr_loss(LOGITS, LABELS, WEIGHTS), (losses * WEIGHTS).sum() / WEIGHTS.sum())


def test_without_weights_the_loss_is_the_plain_mean():
    torch.testing.assert_close(ctr_loss(LOGITS, LABELS), F.binary_cross_entropy_with_logits(LOGITS, LABELS))


def brute_force_auc(scores, labels, weights) -> float:
    pairs = total = 0.0
    for (sp, lp, wp), (sn, ln, wn) in itertools.product(zip(scores, labels, weights), repeat=2):
        if lp == 1 and ln == 0:
            total += wp * wn
            pairs += wp * wn * (1.0 if sp > sn else 0.5 if sp == sn else 0.0)
    return pairs / total


def test_the_weighted_auc_is_exact_with_ties_counting_half():
    expected = brute_force_auc(LOGITS.tolist(), LABELS.tolist(), WEIGHTS.tolist())
    assert weighted_auc(LOGITS.double(), LABELS.double(), WEIGHTS.double()).item() == pytest.approx(expected, abs=1e-6)


def test_integer_weights_give_the_auc_of_repeated_rows():
    from torchmetrics.functional.classification import binary_auroc

    counts = torch.tensor([2, 1, 1, 3, 1])
    repeated = binary_auroc(LOGITS.repeat_interleave(counts), LABELS.repeat_interleave(counts).long())
    got = weighted_auc(LOGITS.double(), LABELS.double(), counts.double())
    assert got.item() == pytest.approx(repeated.item(), abs=1e-6)


def test_the_weighted_auc_is_nan_when_a_class_has_no_weight():
    assert weighted_auc(LOGITS.double(), LABELS.double(), (1 - LABELS).double()).isnan()


def test_weighted_metrics_have_their_own_names():
    metrics = weighted_ctr_metrics("val/")
    metrics.update(LOGITS, LABELS, WEIGHTS)
    assert set(metrics.compute()) == {"val/weighted_auc", "val/weighted_logloss"}


def test_a_training_step_weighs_the_rows():
    model = FM([3, 4], embed_dim=2)
    batch = {
        "ids": torch.tensor([[0, 3], [1, 4], [2, 6]]),
        "numeric": torch.zeros(3, 0),
        "label": torch.tensor([1.0, 0.0, 1.0]),
    }
    weights = torch.tensor([1.0, 0.0, 3.0])
    logits = model(batch["ids"], batch["numeric"])
    expected = ctr_loss(logits, batch["label"], weights)
    got = model.training_step(batch | {"weight": weights}, 0)
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(model.training_step(batch, 0), expected)


def test_a_fit_with_weights_logs_weighted_and_unweighted_metrics(tmp_path):
    import numpy as np
    import polars as pl
    import yaml
    from lit_ctr.cli import main

    rng = np.random.default_rng(0)
    rows = ["label,user,w"] + [
        f"{int(rng.random() < 0.5)},u{rng.integers(5)},{rng.uniform(0, 2):.3f}" for _ in range(200)
    ]
    data = tmp_path / "rows.csv"
    data.write_text("\n".join(rows) + "\n")
    config = {
        "seed_everything": 0,
        "trainer": quiet_trainer(str(tmp_path), "w", max_epochs=1),
        "model": {"class_path": "FM", "init_args": {"embed_dim": 2}},
        "data": {
            "class_path": "CTRDataModule",
            "init_args": {
                "schema": {"label": "label", "weight": "w", "fields": [{"name": "user"}]},
                "train_path": str(data),
                "valid_path": str(data),
                "file_format": {"kind": "csv"},
                "cache_dir": str(tmp_path / "cache"),
                "batch_size": 64,
            },
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path)])
    metrics = pl.read_csv(tmp_path / "w" / "version_0" / "metrics.csv")
    assert {"val/auc", "val/logloss", "val/weighted_auc", "val/weighted_logloss"} <= set(metrics.columns)
    assert metrics["val/weighted_auc"].drop_nulls().item() != metrics["val/auc"].drop_nulls().item()
