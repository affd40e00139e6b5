"""The synthetic generator plants value weights in its multi-valued fields (``token:weight``,
a weighted mean in the planted FM), and reads them with ``value_weights: true``."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
import pytest

from lit_ctr.synthetic import SyntheticCTRDataModule
from lit_ctr.synthetic.generator import SyntheticSpec, generate_frame, spec_description

SHAPE = {"num_numeric": 1, "cardinalities": [5, 8], "multi_cardinalities": [40], "multi_mean_lengths": [6.0], "seed": 1}


def test_each_value_is_written_with_its_weight():
    frame, _ = generate_frame(SyntheticSpec(rows=2000, **SHAPE, multi_value_weights=True))
    tokens = frame["M1"].str.split("|").explode().drop_nulls()
    weights = tokens.str.split(":").list.get(1).cast(pl.Float64)
    assert tokens.str.count_matches(":").eq(1).all()
    assert weights.min() >= 0.1 and weights.max() <= 2.0 and weights.n_unique() > 100


def test_the_planted_fm_weighs_the_values():
    """Rows with the same values and other weights get other probabilities; a row of one
    value gets the same one whatever its weight (a weighted mean of one vector is that vector)."""
    frame, truth = generate_frame(SyntheticSpec(rows=20000, **SHAPE, multi_value_weights=True, missing_rate=0.0))
    rows = frame.with_columns(
        p=pl.Series(truth.probabilities),
        values=pl.col("M1").str.split("|").list.eval(pl.element().str.split(":").list.first()).list.sort(),
    ).filter(pl.col("M1").is_not_null())
    key = ["I1", "C1", "C2", "values"]
    groups = rows.with_columns(n=pl.col("values").list.len()).group_by([*key, "n"])
    spread = groups.agg(range=pl.col("p").max() - pl.col("p").min(), count=pl.len()).filter(pl.col("count") >= 2)
    assert spread.filter(pl.col("n") == 1)["range"].max() < 1e-9
    assert spread.filter(pl.col("n") >= 2)["range"].max() > 1e-3


def test_an_unweighted_spec_draws_exactly_the_rows_it_drew_before():
    frame, _ = generate_frame(SyntheticSpec(rows=3000, **SHAPE))
    assert hashlib.sha256(frame.write_csv().encode()).hexdigest()[:16] == "2e9748b1dfaa414d"
    assert "multi_value_weights" not in spec_description(SyntheticSpec(rows=10, **SHAPE))


def test_the_datamodule_reads_the_planted_weights(tmp_path):
    dm = SyntheticCTRDataModule(
        rows=500,
        numeric_fields=1,
        categorical_fields=2,
        multi_cardinalities=[40],
        multi_max_len=10,
        multi_value_weights=True,
        data_dir=str(tmp_path / "synthetic"),
        cache_dir=str(tmp_path / "cache"),
    )
    dm.prepare_data()
    assert dm.multi_fields == [{"name": "M1", "max_len": 10, "pooling": "mean", "value_weights": True}]
    numeric = np.load(dm.entry / "train" / "numeric.npy")
    assert numeric.shape[1] == 1 + 10 and numeric[:, 1:].max() == pytest.approx(2.0, abs=0.01)
