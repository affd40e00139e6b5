import logging

import numpy as np
import pytest
import torch

from lit_ctr.data import CTRDataModule, DataError, Field, Schema

SPLIT_SCHEMA = Schema(fields=[Field("user"), Field("rid", kind="numeric")])


@pytest.fixture
def all_csv(write_rows):
    """50 rows, each with its own user and row id."""
    return write_rows("all.csv", [(i % 2, f"u{i}", i) for i in range(50)], header=["label", "user", "rid"])


def split_rows(dm: CTRDataModule) -> dict[str, list[int]]:
    dm.setup("fit")
    return {s: dm.splits[s].numeric[:, 0].astype(int).tolist() for s in ("train", "valid", "test")}


def test_split_fractions_give_disjoint_splits_covering_every_row(all_csv, make_dm):
    rows = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=(0.6, 0.2, 0.2), split_seed=5))
    assert sorted(rows["train"] + rows["valid"] + rows["test"]) == list(range(50))


def test_split_sizes_follow_the_fractions(all_csv, make_dm):
    dm = make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=(0.6, 0.2, 0.2), split_seed=5)
    assert {s: len(r) for s, r in split_rows(dm).items()} == {"train": 30, "valid": 10, "test": 10}
    assert dm.meta["rows"] == {"train": 30, "valid": 10, "test": 10}


def test_same_split_seed_gives_the_same_split(tmp_path, all_csv, make_dm):
    first = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_seed=5, cache_dir=str(tmp_path / "c1")))
    second = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_seed=5, cache_dir=str(tmp_path / "c2")))
    assert first == second


def test_different_split_seed_gives_a_different_split(all_csv, make_dm):
    first = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_seed=5))
    second = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_seed=6))
    assert first["train"] != second["train"]


def test_split_is_a_shuffle_not_a_cut_of_the_file(all_csv, make_dm):
    rows = split_rows(make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=(0.6, 0.2, 0.2)))
    assert rows["train"] != list(range(30))
    assert rows["train"] == sorted(rows["train"])  # file order kept within a split


def test_split_vocabulary_is_fitted_on_the_train_part_only(all_csv, make_dm):
    dm = make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=(0.6, 0.2, 0.2))
    rows = split_rows(dm)
    assert sorted(dm.vocabulary.fields[0].values) == sorted(f"u{i}" for i in rows["train"])
    assert (dm.splits["valid"].ids[:, 0] == 0).all()  # every valid user is unseen: OOV


def test_zero_fraction_leaves_the_split_out(all_csv, make_dm):
    dm = make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=(0.8, 0.2, 0.0))
    dm.setup("fit")
    assert sorted(dm.splits) == ["train", "valid"]


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (1.2, -0.1, -0.1), (0.5, 0.5)])
def test_bad_split_fractions_raise_data_error(all_csv, make_dm, fractions):
    with pytest.raises(DataError, match="split_fractions"):
        make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), split_fractions=fractions)


def test_path_and_train_path_together_raise_data_error(all_csv, make_dm):
    with pytest.raises(DataError, match="either path"):
        make_dm(schema=SPLIT_SCHEMA, path=str(all_csv), train_path=str(all_csv))


def test_no_data_path_raises_data_error(make_dm, schema):
    with pytest.raises(DataError, match="train_path"):
        make_dm(schema=schema)


def test_schema_given_as_dict_is_accepted(train_csv, make_dm):
    dm = make_dm(schema={"fields": [{"name": "user"}, {"name": "item"}]}, train_path=str(train_csv))
    assert dm.field_dims == [5, 4]


def test_train_dataloader_yields_batches_of_tensors(train_csv, valid_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv), batch_size=4)
    dm.prepare_data()
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert [len(b["label"]) for b in batches] == [4, 2]
    batch = batches[0]
    assert batch["ids"].shape == (4, 2) and batch["ids"].dtype == torch.int32
    assert batch["numeric"].shape == (4, 1) and batch["numeric"].dtype == torch.float32
    assert batch["label"].dtype == torch.float32
    assert sorted(torch.cat([b["numeric"][:, 0] for b in batches]).tolist()) == [1, 2, 3, 4, 5, 6]


def test_val_dataloader_yields_valid_rows_in_order(train_csv, valid_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv), eval_batch_size=2)
    dm.setup("fit")
    batches = list(dm.val_dataloader())
    assert torch.cat([b["numeric"][:, 0] for b in batches]).tolist() == [1.5, 2.5, 3.5]
    assert torch.cat([b["label"] for b in batches]).tolist() == [1.0, 0.0, 1.0]


def test_no_valid_split_gives_an_empty_val_dataloader(train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.setup("fit")
    assert dm.val_dataloader() == []


def test_test_dataloader_without_test_split_raises_data_error(train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.setup("test")
    with pytest.raises(DataError, match="no test split"):
        dm.test_dataloader()


def test_predict_rows_without_label_are_encoded_with_the_fitted_vocabulary(train_csv, write, make_dm, schema):
    rows = write("score.csv", "user,item,price\nb,x,1\nnew,y,2\n")
    dm = make_dm(schema=schema, train_path=str(train_csv), predict_path=str(rows))
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert "label" not in batch
    assert batch["ids"].tolist() == [[3, 5 + 2], [0, 5 + 3]]


def test_labels_match_the_file(train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.setup("fit")
    np.testing.assert_array_equal(dm.splits["train"].labels, [1, 0, 1, 0, 0, 1])
    assert dm.meta["positive_rate"]["train"] == pytest.approx(0.5)


def test_preprocessing_state_holds_schema_format_and_vocabulary(train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    state = dm.preprocessing_state()
    assert Schema.from_dict(state["schema"]) == schema
    assert state["vocabulary"]["fields"][0] == {"name": "user", "values": ["a", "b", "c"]}
    assert state["file_format"]["kind"] == "auto"


def test_setup_logs_rows_and_positives_of_every_split(train_csv, valid_csv, make_dm, schema, caplog):
    caplog.set_level(logging.INFO, logger="lit_ctr")
    make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv)).setup("fit")
    lines = [r.getMessage() for r in caplog.records]
    assert "lit-ctr: train split: 6 rows, 3 positives (50.00%)" in lines
    assert "lit-ctr: valid split: 3 rows, 2 positives (66.67%)" in lines


def test_validation_split_with_one_class_warns_that_auc_is_undefined(train_csv, write_rows, make_dm, schema, caplog):
    valid = write_rows(
        "one_class.csv", [(0, "a", "x", 1.0), (0, "b", "y", 2.0)], header=["label", "user", "item", "price"]
    )
    caplog.set_level(logging.INFO, logger="lit_ctr")
    make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid)).setup("fit")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "lit-ctr: warning: every row of the valid split is negative: AUC is undefined there (logged as NaN)"
    ]
