"""The same config and seed give the same metrics twice in a row on CPU."""

from __future__ import annotations

import numpy as np
import polars as pl
from conftest import run_dir
from lit_ctr.cli import main


def test_same_config_and_seed_give_the_same_metrics_twice_in_a_row(fit_config, reference_run):
    config = fit_config()
    main(["fit", "--config", str(config)])
    first = pl.read_csv(run_dir(reference_run) / "metrics.csv")
    second = pl.read_csv(run_dir(config) / "metrics.csv")
    for name in ("train/loss", "val/auc", "val/logloss"):
        a, b = first.drop_nulls(name), second.drop_nulls(name)
        assert a.height == b.height > 0, name
        assert a["step"].to_list() == b["step"].to_list(), name
        np.testing.assert_allclose(b[name].to_numpy(), a[name].to_numpy(), rtol=0, atol=1e-6, err_msg=name)
