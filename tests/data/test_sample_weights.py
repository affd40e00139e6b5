"""``schema.weight``: a per-row sample weight column, checked, cached and batched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_ctr.data import DataError, Field, Schema, SchemaError
from lit_ctr.data.rows import encode_rows

HEADER = ["label", "user", "w"]


def weighted_schema() -> Schema:
    return Schema(fields=[Field("user")], weight="w")


def test_each_split_caches_its_weights_and_batches_carry_them(make_dm, write_rows):
    train = write_rows("train.csv", [(1, "a", 2.0), (0, "b", 0.5), (1, "a", 0)], header=HEADER)
    dm = make_dm(schema=weighted_schema(), train_path=str(train), valid_path=str(train), batch_size=3)
    dm.prepare_data()
    dm.setup("fit")
    assert np.load(dm.entry / "train" / "weights.npy").tolist() == [2.0, 0.5, 0.0]
    batch = next(iter(dm.val_dataloader()))
    assert torch.equal(batch["weight"], torch.tensor([2.0, 0.5, 0.0]))


def test_without_schema_weight_there_is_no_weight_file(make_dm, train_csv, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    dm.prepare_data()
    assert not (dm.entry / "train" / "weights.npy").exists()


@pytest.mark.parametrize(("weight", "found"), [("", "nothing"), ("-1", "'-1'"), ("heavy", "'heavy'"), ("inf", "'inf'")])
def test_a_bad_weight_is_a_located_error(make_dm, write_rows, weight, found):
    train = write_rows("bad.csv", [(1, "a", 1.0), (0, "b", weight)], header=HEADER)
    with pytest.raises(DataError) as error:
        make_dm(schema=weighted_schema(), train_path=str(train)).prepare_data()
    assert (
        str(error.value)
        == f"{train}, line 3, column 'w': expected a sample weight, a finite number >= 0, found {found}"
    )


def test_a_file_without_the_weight_column_names_it(make_dm, write_rows):
    train = write_rows("noweight.csv", [(1, "a")], header=["label", "user"])
    with pytest.raises(DataError, match=r"the file lacks schema column\(s\) \['w'\]"):
        make_dm(schema=weighted_schema(), train_path=str(train)).prepare_data()


def test_rows_to_score_need_no_weight(make_dm, write_rows):
    train = write_rows("train.csv", [(1, "a", 1.0), (0, "b", 1.0)], header=HEADER)
    dm = make_dm(schema=weighted_schema(), train_path=str(train))
    dm.prepare_data()
    assert encode_rows(dm.preprocessing_state(), [{"user": "a"}]).weights is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": "label"}, "schema.weight: the weight column cannot be the label column"),
        ({"weight": "user"}, "schema.fields[0] ('user'): name collides with the weight column"),
        ({"weight": ""}, "schema.weight: expected a non-empty name, got ''"),
    ],
)
def test_a_bad_weight_setting_names_the_key(kwargs, message):
    with pytest.raises(SchemaError) as error:
        Schema(fields=[Field("user")], **kwargs)
    assert str(error.value) == message
