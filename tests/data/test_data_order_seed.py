"""The training order follows ``seed_everything`` unless ``data.shuffle_seed`` is set."""

from __future__ import annotations

import pytest
from lightning.pytorch import seed_everything

from lit_ctr.data import CTRDataModule, DataError


@pytest.fixture
def rows_csv(write_rows):
    """40 rows whose price is their line number: a batch's prices name its rows."""
    return write_rows(
        "train.csv",
        [(i % 2, f"u{i % 5}", f"i{i % 3}", float(i)) for i in range(40)],
        ["label", "user", "item", "price"],
    )


def _order(dm: CTRDataModule) -> list[list[float]]:
    """The first epoch's training batches, each as the prices of its rows."""
    dm.setup("fit")
    return [batch["numeric"][:, 0].tolist() for batch in dm.train_dataloader()]


@pytest.fixture
def order(rows_csv, make_dm, schema, monkeypatch):
    """``order(global_seed, shuffle_seed=None)``: the training order after ``seed_everything(global_seed)``."""
    monkeypatch.setenv("PL_GLOBAL_SEED", "0")  # restored after the test; seed_everything writes it

    def _run(global_seed: int, shuffle_seed: int | None = None) -> list[float]:
        seed_everything(global_seed)
        return _order(make_dm(schema=schema, train_path=str(rows_csv), batch_size=4, shuffle_seed=shuffle_seed))

    return _run


def test_different_seed_everything_gives_a_different_training_order(order):
    assert order(1) != order(2)


def test_same_seed_everything_gives_the_same_training_order(order):
    assert order(7) == order(7)


def test_explicit_shuffle_seed_wins_over_seed_everything(order):
    assert order(1, shuffle_seed=5) == order(2, shuffle_seed=5)


def test_shuffle_seed_defaults_to_the_global_seed(order):
    assert order(3) == order(99, shuffle_seed=3)


def test_without_a_global_seed_the_order_is_that_of_seed_zero(rows_csv, make_dm, schema, monkeypatch):
    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)
    unseeded = _order(make_dm(schema=schema, train_path=str(rows_csv), batch_size=4))
    assert unseeded == _order(make_dm(schema=schema, train_path=str(rows_csv), batch_size=4, shuffle_seed=0))


def test_shuffle_seed_that_is_not_an_integer_raises_data_error(train_csv, make_dm, schema):
    with pytest.raises(DataError, match=r"data\.shuffle_seed: expected an integer or null, got 'x'"):
        make_dm(schema=schema, train_path=str(train_csv), shuffle_seed="x")
