import pytest

from lit_ctr.data import DataError, Field, FileFormat, Schema, SchemaError


def test_duplicate_field_names_raise_schema_error_naming_the_field():
    with pytest.raises(SchemaError, match=r"fields\[2\] \('user'\).*collides with schema.fields\[0\]"):
        Schema(fields=[Field("user"), Field("item"), Field("user")])


def test_field_named_like_the_label_raises_schema_error():
    with pytest.raises(SchemaError, match=r"'click'.*label"):
        Schema(fields=[Field("user"), Field("click")], label="click")


def test_unknown_kind_raises_schema_error_naming_the_field():
    with pytest.raises(SchemaError, match=r"'age'.*kind.*'ordinal'"):
        Schema(fields=[Field("age", kind="ordinal")])


def test_unknown_transform_raises_schema_error_naming_the_field():
    with pytest.raises(SchemaError, match=r"'price'.*transform.*'sqrt'"):
        Schema(fields=[Field("price", kind="numeric", transform="sqrt")])


def test_transform_on_categorical_field_raises_schema_error():
    with pytest.raises(SchemaError, match=r"'user'.*numeric fields only"):
        Schema(fields=[Field("user", transform="log1p")])


@pytest.mark.parametrize("min_count", [0, -3])
def test_min_count_below_one_raises_schema_error(min_count):
    with pytest.raises(SchemaError, match=r"'user'.*min_count"):
        Schema(fields=[Field("user", min_count=min_count)])


def test_empty_fields_raise_schema_error():
    with pytest.raises(SchemaError, match="schema.fields"):
        Schema(fields=[])


def test_empty_field_name_raises_schema_error():
    with pytest.raises(SchemaError, match=r"fields\[1\].*name"):
        Schema(fields=[Field("user"), Field("")])


def test_label_mapping_target_other_than_0_or_1_raises_schema_error():
    with pytest.raises(SchemaError, match="label_mapping"):
        Schema(fields=[Field("user")], label_mapping={"-1": -1, "1": 1})


def test_schema_error_is_a_data_error():
    with pytest.raises(DataError):
        Schema(fields=[])


def test_fields_given_as_dicts_become_field_objects():
    schema = Schema(fields=[{"name": "user"}, {"name": "price", "kind": "numeric"}])
    assert schema.fields == [Field("user"), Field("price", kind="numeric")]


def test_bucketized_numeric_field_is_categorical():
    schema = Schema(
        fields=[
            Field("user"),
            Field("count", kind="numeric", transform="bucketize"),
            Field("price", kind="numeric", transform="log1p"),
        ]
    )
    assert [f.name for f in schema.categorical] == ["user", "count"]
    assert [f.name for f in schema.numeric] == ["price"]


def test_schema_round_trips_through_dict():
    schema = Schema(
        fields=[Field("user", min_count=3), Field("count", kind="numeric", transform="bucketize")],
        label="click",
        label_mapping={"-1": 0, "1": 1},
    )
    assert Schema.from_dict(schema.to_dict()) == schema


def test_unknown_field_key_raises_schema_error_listing_the_keys():
    with pytest.raises(SchemaError, match=r"schema\.fields\[0\]: unknown key\(s\) \['typo'\]"):
        Schema(fields=[{"name": "user", "typo": 1}])


def test_field_that_is_not_a_mapping_raises_schema_error():
    with pytest.raises(SchemaError, match=r"schema\.fields\[1\]: expected a mapping"):
        Schema(fields=[{"name": "user"}, "item"])


@pytest.mark.parametrize("name", [3, "", None])
def test_field_name_that_is_not_a_non_empty_string_raises_schema_error(name):
    with pytest.raises(SchemaError, match=r"schema\.fields\[0\]: expected a non-empty name"):
        Schema(fields=[{"name": name}])


@pytest.mark.parametrize("name", ["*", "^user$"])
def test_name_read_as_a_polars_column_pattern_raises_schema_error(name):
    with pytest.raises(SchemaError, match="polars column pattern"):
        Schema(fields=[{"name": name}])


@pytest.mark.parametrize("fill_value", [float("nan"), float("inf"), 1e39, "zero"])
def test_fill_value_that_is_not_a_finite_float32_raises_schema_error(fill_value):
    with pytest.raises(SchemaError, match="fill_value must be a finite number"):
        Schema(fields=[Field("price", kind="numeric", fill_value=fill_value)])


def test_label_mapping_target_that_is_not_a_number_raises_schema_error():
    with pytest.raises(SchemaError, match="targets must be 0 or 1"):
        Schema(fields=[Field("user")], label_mapping={"yes": "one"})


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"kind": "xml"}, "file_format.kind"),
        ({"separator": ";;"}, "file_format.separator"),
        ({"separator": '"'}, "file_format.separator"),
        ({"columns": ["label", "a", "a"]}, "file_format.columns"),
        ({"field_starts": [0, -1]}, "file_format.field_starts"),
        ({"num_features": 0}, "file_format.num_features"),
    ],
)
def test_unusable_file_format_raises_schema_error_naming_the_key(kwargs, key):
    with pytest.raises(SchemaError, match=key.replace(".", r"\.")):
        FileFormat(**kwargs)
