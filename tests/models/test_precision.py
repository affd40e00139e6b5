"""bf16 mixed precision on CPU trains every model to finite losses and probabilities."""

from __future__ import annotations

import inspect

import polars as pl
import pytest
from lit_ctr.cli import main

import lit_ctr.models
from lit_ctr.models import CTRModule


def model_names() -> list[str]:
    return sorted(
        name for name, obj in vars(lit_ctr.models).items()
        if isinstance(obj, type) and issubclass(obj, CTRModule) and obj is not CTRModule
    )  # fmt: skip


@pytest.mark.parametrize("model", model_names())
def test_bf16_mixed_fit_on_cpu_gives_finite_loss_and_auc(model, write_config):
    small = (
        {"hidden_units": [16, 8]}
        if "hidden_units" in inspect.signature(getattr(lit_ctr.models, model)).parameters
        else {}
    )
    config = write_config(model, small, max_epochs=1, precision="bf16-mixed")
    main(["fit", "--config", str(config)])
    metrics = pl.read_csv(config.parent / "runs" / "test" / "version_0" / "metrics.csv")
    assert metrics["train/loss"].drop_nulls().is_finite().all()
    assert 0.0 <= metrics["val/auc"].drop_nulls()[-1] <= 1.0
