"""``valid_fraction``: validation rows carved out of ``train_path`` while the test split
comes from ``test_path``; ``path`` with split files, and ``split_fractions`` without ``path``, are errors, not
silent ignores."""

from __future__ import annotations

import pytest

from lit_ctr.data import DataError

HEADER = ["label", "user", "item", "price"]


@pytest.fixture
def train20(write_rows):
    """20 training rows whose price is their row number (0..19), each with its own user."""
    return write_rows("train.csv", [(i % 2, f"u{i}", f"i{i % 3}", float(i)) for i in range(20)], HEADER)


@pytest.fixture
def test5(write_rows):
    """5 test rows priced 100..104."""
    return write_rows("test.csv", [(i % 2, "u0", "i0", 100.0 + i) for i in range(5)], HEADER)


def _prices(dm, split: str) -> list[float]:
    return dm.splits[split].numeric[:, 0].tolist()


@pytest.fixture
def carved(make_dm, schema, train20, test5):
    """``carved(**kwargs)``: a set-up module with ``valid_fraction=0.25`` over train20 + test5."""

    def _make(**kwargs):
        kwargs.setdefault("valid_fraction", 0.25)
        dm = make_dm(schema=schema, train_path=str(train20), test_path=str(test5), **kwargs)
        dm.setup("fit")
        return dm

    return _make


def test_valid_fraction_holds_out_that_share_of_the_training_rows(carved):
    dm = carved()
    assert (len(dm.splits["train"]), len(dm.splits["valid"])) == (15, 5)


def test_valid_fraction_splits_the_training_file_into_disjoint_parts_covering_it(carved):
    dm = carved()
    assert sorted(_prices(dm, "train") + _prices(dm, "valid")) == [float(i) for i in range(20)]


def test_valid_fraction_takes_the_test_split_from_test_path(carved):
    assert _prices(carved(), "test") == [100.0, 101.0, 102.0, 103.0, 104.0]


def test_valid_fraction_is_seeded_by_split_seed(carved, tmp_path):
    first = _prices(carved(split_seed=1), "valid")
    assert _prices(carved(split_seed=1, cache_dir=str(tmp_path / "other")), "valid") == first
    assert _prices(carved(split_seed=2), "valid") != first


def test_valid_fraction_leaves_the_held_out_rows_out_of_the_vocabulary(carved):
    dm = carved()
    assert set(dm.vocabulary.fields[0].values) == {f"u{int(p)}" for p in _prices(dm, "train")}


@pytest.mark.parametrize("split", ["valid_path", "test_path"])
def test_path_with_a_split_file_raises_data_error(make_dm, schema, train20, test5, split):
    with pytest.raises(DataError, match=f"path is cut into train/valid/test by split_fractions, so {split}"):
        make_dm(schema=schema, path=str(train20), **{split: str(test5)})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid_fraction": 0.0}, r"data\.valid_fraction: expected a fraction between 0 and 1"),
        ({"valid_fraction": 1.0}, r"data\.valid_fraction: expected a fraction between 0 and 1"),
        ({"valid_fraction": 0.2, "valid_path": "v.csv"}, "either valid_path or valid_fraction, not both"),
    ],
)
def test_valid_fraction_that_cannot_work_raises_data_error(make_dm, schema, train20, kwargs, message):
    with pytest.raises(DataError, match=message):
        make_dm(schema=schema, train_path=str(train20), **kwargs)


def test_valid_fraction_with_path_raises_data_error(make_dm, schema, train20):
    with pytest.raises(DataError, match=r"data\.valid_fraction: .* with path, use split_fractions"):
        make_dm(schema=schema, path=str(train20), valid_fraction=0.2)


def test_split_fractions_beside_train_path_raise_data_error(make_dm, schema, train20, test5):
    with pytest.raises(
        DataError, match=r"data\.split_fractions: cut only path .* \[0\.9, 0\.1, 0\.0\] would be ignored"
    ):
        make_dm(schema=schema, train_path=str(train20), test_path=str(test5), split_fractions=(0.9, 0.1, 0.0))


def test_the_old_default_split_fractions_beside_train_path_still_load(make_dm, schema, train20, test5):
    """Configs that ``lit-ctr fit`` saved before the default became ``None`` carry it."""
    dm = make_dm(schema=schema, train_path=str(train20), test_path=str(test5), split_fractions=(0.8, 0.1, 0.1))
    dm.setup("fit")
    assert len(dm.splits["train"]) == 20


def test_path_without_split_fractions_is_cut_8_1_1(make_dm, schema, train20):
    dm = make_dm(schema=schema, path=str(train20))
    dm.setup("fit")
    assert (len(dm.splits["train"]), len(dm.splits["valid"])) == (16, 2)
