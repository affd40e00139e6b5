import math

import numpy as np
import pytest

from lit_ctr.data import Field, Schema
from lit_ctr.data.checks import bucket_of
from lit_ctr.data.encoding import encode
from lit_ctr.data.vocabulary import MISSING_ID, RESERVED_IDS, fit_vocabulary

VALUES = [-7.5, -1.0, -0.25, 0.0, 0.5, 1.0, 1.99, 2.0, 2.0001, 2.5, 3.0, 7.389, 100.0, 12345.678, 1e9]


def numeric_file(write, values, name="n.csv"):
    lines = ["label,x"] + [f"1,{'' if v is None else repr(v)}" for v in values]
    return write(name, "\n".join(lines) + "\n")


def test_log1p_is_signed_log1p_of_the_absolute_value(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric", transform="log1p")])
    got = prepared(numeric_file(write, VALUES), schema)["x"].to_numpy()
    expected = [math.copysign(math.log1p(abs(v)), v) for v in VALUES]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_no_transform_passes_numbers_through_as_float32(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric")])
    got = prepared(numeric_file(write, VALUES), schema)["x"].to_numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array(VALUES, dtype=np.float32))


def test_bucketize_matches_log_squared_rule_and_bucket_of(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric", transform="bucketize")])
    got = prepared(numeric_file(write, VALUES), schema)["x"].to_list()
    rule = [str(int(math.floor(math.log(v) ** 2))) if v > 2 else str(int(v)) for v in VALUES]
    assert got == rule
    assert got == [bucket_of(v) for v in VALUES]


def test_integer_text_is_bucketized_like_its_float(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric", transform="bucketize")])
    path = write("n.csv", "label,x\n1,3\n1,1000\n1,2\n")
    assert prepared(path, schema)["x"].to_list() == [bucket_of(3.0), bucket_of(1000.0), bucket_of(2.0)]


@pytest.mark.parametrize("transform", ["none", "log1p"])
def test_missing_numeric_value_becomes_fill_value(write, prepared, transform):
    schema = Schema(fields=[Field("x", kind="numeric", transform=transform, fill_value=-9.0)])
    got = prepared(numeric_file(write, [None, 1.0]), schema)["x"].to_list()
    assert got[0] == -9.0
    assert got[1] != -9.0


def test_missing_bucketized_value_gets_the_missing_id(write, fit_encode):
    schema = Schema(fields=[Field("x", kind="numeric", transform="bucketize")])
    _, arrays = fit_encode(numeric_file(write, [None, 5.0, 5.0]), schema)
    np.testing.assert_array_equal(arrays.ids[:, 0], [MISSING_ID, RESERVED_IDS, RESERVED_IDS])


def test_bucketized_field_counts_in_field_dims_not_num_numeric(write, make_dm):
    schema = Schema(
        fields=[
            Field("user"),
            Field("count", kind="numeric", transform="bucketize"),
            Field("price", kind="numeric", transform="log1p"),
        ]
    )
    path = write("t.csv", "label,user,count,price\n1,a,1,1\n0,b,50,2\n1,a,50,3\n0,a,1000,\n")
    dm = make_dm(schema=schema, train_path=str(path))
    dm.setup("fit")
    # count buckets: "1", "15", "47" plus OOV and missing
    assert dm.field_dims == [2 + RESERVED_IDS, 3 + RESERVED_IDS]
    assert dm.num_numeric == 1
    train = dm.splits["train"]
    assert train.ids.shape == (4, 2)
    assert train.numeric.shape == (4, 1)


def test_surrounding_whitespace_is_ignored(write, prepared):
    schema = Schema(fields=[Field("user"), Field("x", kind="numeric")])
    path = write("t.csv", "label,user,x\n 1 , a , 2.5 \n")
    assert prepared(path, schema).rows() == [(1.0, "a", 2.5)]


def test_a_blank_numeric_cell_is_missing_and_gets_the_fill_value(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric", fill_value=-1.0), Field("y", kind="numeric")])
    path = write("t.csv", 'label,x,y\n1,"  ",3\n0,2,4\n')
    assert prepared(path, schema).rows() == [(1.0, -1.0, 3.0), (0.0, 2.0, 4.0)]


def test_padded_numbers_in_one_field_leave_the_other_fields_as_read(write, prepared):
    schema = Schema(fields=[Field("x", kind="numeric"), Field("y", kind="numeric", transform="bucketize")])
    path = write("t.csv", "label,x,y\n1, 7 ,100\n0,8,1\n")
    assert prepared(path, schema).rows() == [(1.0, 7.0, bucket_of(100.0)), (0.0, 8.0, "1")]


def test_unlabelled_rows_encode_without_labels(write, prepared, schema):
    train = prepared(write("t.csv", "label,user,item,price\n1,a,x,1\n"), schema)
    rows = prepared(write("p.csv", "user,item,price\na,y,2\n"), schema, require_label=False)
    arrays = encode([rows], schema, fit_vocabulary([train], schema))
    assert arrays.labels is None
    assert arrays.ids.shape == (1, 2)
