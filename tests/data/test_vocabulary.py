import random

import numpy as np
import polars as pl

from lit_ctr.data import Field, Schema, Vocabulary, fit_vocabulary
from lit_ctr.data.encoding import encode
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, RESERVED_IDS


def frame(**columns) -> pl.DataFrame:
    return pl.DataFrame(columns, schema={name: pl.String for name in columns})


def test_values_rarer_than_min_count_map_to_oov_id():
    schema = Schema(fields=[Field("user", min_count=2)])
    train = frame(user=["a", "a", "b", "c", "c", "c"])
    vocabulary = fit_vocabulary([train], schema)
    assert vocabulary.fields[0].values == ["c", "a"]
    ids = encode([train], schema, vocabulary).ids[:, 0]
    assert ids[2] == OOV_ID


def test_missing_value_maps_to_missing_id():
    schema = Schema(fields=[Field("user")])
    train = frame(user=["a", None, "a"])
    vocabulary = fit_vocabulary([train], schema)
    assert vocabulary.fields[0].values == ["a"]
    np.testing.assert_array_equal(encode([train], schema, vocabulary).ids[:, 0], [2, MISSING_ID, 2])


def test_ids_are_ordered_by_frequency_then_value():
    schema = Schema(fields=[Field("user")])
    train = frame(user=["d", "b", "c", "b", "a", "c", "e", "c"])
    vocabulary = fit_vocabulary([train], schema)
    assert vocabulary.fields[0].values == ["c", "b", "a", "d", "e"]
    np.testing.assert_array_equal(
        encode([frame(user=["c", "b", "a", "e"])], schema, vocabulary).ids[:, 0], [2, 3, 4, 6]
    )


def test_vocabulary_counts_over_all_training_frames():
    schema = Schema(fields=[Field("user", min_count=2)])
    vocabulary = fit_vocabulary([frame(user=["a", "b"]), frame(user=["b", "c"])], schema)
    assert vocabulary.fields[0].values == ["b"]


def test_value_seen_only_outside_training_maps_to_oov_id(train_csv, valid_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv), valid_path=str(valid_csv))
    dm.setup("fit")
    assert "z" not in dm.vocabulary.fields[0].values
    assert "w" not in dm.vocabulary.fields[1].values
    valid = dm.splits["valid"].ids
    assert valid[1, 0] == OOV_ID  # user "z" only in valid
    assert valid[2, 1] == dm.vocabulary.offsets[1] + OOV_ID  # item "w" only in valid


def test_size_counts_oov_and_missing_ids():
    schema = Schema(fields=[Field("user"), Field("item")])
    vocabulary = fit_vocabulary([frame(user=["a", "b", "a"], item=[None, None, None])], schema)
    assert vocabulary.sizes == [2 + RESERVED_IDS, RESERVED_IDS]
    assert vocabulary.offsets == [0, 4]
    assert vocabulary.total_size == 6


def test_offsets_make_field_ids_global():
    schema = Schema(fields=[Field("a"), Field("b"), Field("c")])
    rng = random.Random(0)
    train = frame(**{name: [rng.choice("pqrstu" if name != "b" else "pq") for _ in range(50)] for name in "abc"})
    test = frame(a=["p", "zz", None], b=["q", "zz", None], c=["u", "zz", None])
    vocabulary = fit_vocabulary([train], schema)
    for arrays in (encode([train], schema, vocabulary), encode([test], schema, vocabulary)):
        for i, (offset, size) in enumerate(zip(vocabulary.offsets, vocabulary.sizes)):
            assert arrays.ids[:, i].min() >= offset
            assert arrays.ids[:, i].max() < offset + size
    assert vocabulary.offsets == [0, vocabulary.sizes[0], vocabulary.sizes[0] + vocabulary.sizes[1]]


def test_ids_are_int32_and_c_contiguous():
    schema = Schema(fields=[Field("a"), Field("b")])
    train = frame(a=["x", "y"], b=["u", None])
    ids = encode([train], schema, fit_vocabulary([train], schema)).ids
    assert ids.dtype == np.int32
    assert ids.shape == (2, 2)
    assert ids.flags.c_contiguous


def test_encoding_keeps_row_order_of_shuffled_rows():
    schema = Schema(fields=[Field("a", min_count=3), Field("b"), Field("n", kind="numeric")])
    rng = random.Random(1234)
    n = 1000
    a = [rng.choice([None, *[f"a{i}" for i in range(60)]]) for _ in range(n)]
    b = [f"b{rng.randrange(400)}" for _ in range(n)]
    numbers = list(range(n))
    rng.shuffle(numbers)
    train = pl.DataFrame(
        {"a": a, "b": b, "n": [float(x) for x in numbers]},
        schema={"a": pl.String, "b": pl.String, "n": pl.Float32},
    )
    vocabulary = fit_vocabulary([train[:600], train[600:]], schema)
    arrays = encode([train[:600], train[600:]], schema, vocabulary)

    # pure-Python expectation
    expected = []
    offset = 0
    for name, min_count in (("a", 3), ("b", 1)):
        values = [v for v in (a if name == "a" else b) if v is not None]
        counts = {v: values.count(v) for v in set(values)}
        kept = sorted((v for v in counts if counts[v] >= min_count), key=lambda v: (-counts[v], v))
        ids = {v: j + RESERVED_IDS for j, v in enumerate(kept)}
        column = a if name == "a" else b
        expected.append([offset + (MISSING_ID if v is None else ids.get(v, OOV_ID)) for v in column])
        offset += len(kept) + RESERVED_IDS
    np.testing.assert_array_equal(arrays.ids, np.array(expected).T)
    np.testing.assert_array_equal(arrays.numeric[:, 0], numbers)


def test_vocabulary_round_trips_through_dict():
    schema = Schema(fields=[Field("a"), Field("b")])
    vocabulary = fit_vocabulary([frame(a=["x", "y", "x"], b=["1", "2", None])], schema)
    assert Vocabulary.from_dict(vocabulary.to_dict()) == vocabulary


def test_field_dims_are_the_vocabulary_sizes(train_csv, make_dm, schema):
    dm = make_dm(schema=schema, train_path=str(train_csv))
    assert dm.field_dims == dm.vocabulary.sizes == [3 + RESERVED_IDS, 2 + RESERVED_IDS]
    assert dm.num_numeric == 1
