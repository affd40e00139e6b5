"""Hashed fields (``hash_buckets: N``): id = 2 + xxh64(value) mod N, no vocabulary, stable
across processes, the same for values never seen in training."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xxhash

from lit_ctr.data import Field, Schema, SchemaError
from lit_ctr.data.rows import encode_rows
from lit_ctr.data.vocabulary import MISSING_ID, PAD_ID

BUCKETS = 7
HEADER = ["label", "user", "tags"]


def expected_id(value: str, offset: int) -> int:
    """The documented rule: 2 + xxh64(utf-8 bytes, seed 0) mod N, in the field's id range."""
    return offset + 2 + xxhash.xxh64_intdigest(value.encode()) % BUCKETS


def hashed_schema() -> Schema:
    return Schema(
        fields=[
            Field("user", hash_buckets=BUCKETS),
            Field("tags", kind="multi", max_len=3, hash_buckets=BUCKETS),
        ]
    )


@pytest.fixture
def dm(make_dm, write_rows):
    train = write_rows("train.csv", [(1, "a", "x|y"), (0, "b", ""), (1, "é", "x")], header=HEADER)
    dm = make_dm(schema=hashed_schema(), train_path=str(train), valid_path=str(train))
    dm.prepare_data()
    return dm


def test_a_hashed_field_has_its_buckets_and_no_values(dm):
    assert dm.field_dims == [BUCKETS + 2, BUCKETS + 2]
    assert dm.vocabulary.to_dict()["fields"][0] == {"name": "user", "values": [], "hash_buckets": BUCKETS}


def test_a_values_id_is_two_plus_its_xxh64_modulo_the_buckets(dm):
    ids = np.load(dm.entry / "train" / "ids.npy")
    offset = dm.vocabulary.offsets
    assert ids[:, 0].tolist() == [expected_id(v, offset[0]) for v in ("a", "b", "é")]
    assert ids[0, 1:].tolist() == [expected_id("x", offset[1]), expected_id("y", offset[1]), PAD_ID]


def test_the_train_split_is_hashed_like_the_other_splits(dm):
    np.testing.assert_array_equal(np.load(dm.entry / "train" / "ids.npy"), np.load(dm.entry / "valid" / "ids.npy"))


def test_a_missing_cell_is_the_missing_id(dm):
    ids = np.load(dm.entry / "train" / "ids.npy")
    assert ids[1, 1] == dm.vocabulary.offsets[1] + MISSING_ID


def test_values_never_seen_in_training_get_their_bucket_at_predict_time(dm):
    rows = [{"user": "never-seen", "tags": ["new", "x"]}]
    ids = encode_rows(dm.preprocessing_state(), rows).ids
    offset = dm.vocabulary.offsets
    assert ids[0].tolist() == [
        expected_id("never-seen", offset[0]),
        expected_id("new", offset[1]),
        expected_id("x", offset[1]),
        PAD_ID,
    ]


def test_the_hash_is_the_same_in_another_process():
    code = (
        "import polars as pl; from lit_ctr.data.hashing import bucket;"
        "print(pl.select(bucket(pl.lit('device-42'), 1000003)).item())"
    )
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert runs == {f"{xxhash.xxh64_intdigest(b'device-42') % 1000003}\n"}


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            {"name": "p", "kind": "numeric", "hash_buckets": 8},
            "hash_buckets applies to categorical and multi fields only",
        ),
        ({"name": "p", "hash_buckets": 0}, "hash_buckets must be an integer in [1, 2147483645], got 0"),
        (
            {"name": "p", "hash_buckets": 8, "min_count": 3},
            "min_count does not apply to a hashed field (no values are counted)",
        ),
    ],
)
def test_bad_hash_settings_name_the_field(field, message):
    with pytest.raises(SchemaError) as error:
        Schema(fields=[{"name": "user"}, field])
    assert str(error.value) == f"schema.fields[1] ('p'): {message}"
