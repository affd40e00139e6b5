"""Fuzzed schemas and file formats: built and consistent, or ``SchemaError``, never another exception."""

from __future__ import annotations

import json

from fuzzing import fuzz_settings, names, schemas
from hypothesis import event, given
from hypothesis import strategies as st

from lit_ctr.data import FileFormat, Schema, SchemaError

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**70),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(0, 2), max_size=2),
)


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values three times in four, anything otherwise."""
    return st.integers(0, 3).flatmap(lambda i: ANYTHING if i == 0 else valid)


FIELD = mostly(
    st.fixed_dictionaries(
        {"name": mostly(names)},
        optional={
            "kind": mostly(st.sampled_from(["categorical", "numeric"])),
            "transform": mostly(st.sampled_from(["none", "log1p", "bucketize"])),
            "min_count": mostly(st.integers(1, 5)),
            "fill_value": mostly(st.floats(-1e30, 1e30)),
            "typo": ANYTHING,
        },
    )
)
SCHEMA_ARGS = st.fixed_dictionaries(
    {"fields": mostly(st.lists(FIELD, min_size=1, max_size=4))},
    optional={
        "label": mostly(names),
        "label_mapping": mostly(
            st.dictionaries(st.one_of(names, st.integers()), st.sampled_from([0, 1, 0.0, True]), max_size=3)
        ),
    },
)


@fuzz_settings(200)
@given(args=SCHEMA_ARGS)
def test_schema_from_random_values_is_consistent_or_raises_schema_error(args):
    try:
        schema = Schema(**args)
    except SchemaError as error:
        event(f"SchemaError: {str(error).split(':')[0]}")
        return
    event("built")
    field_names = [f.name for f in schema.fields]
    assert all(isinstance(n, str) and n for n in field_names + [schema.label])
    assert len(set(field_names)) == len(field_names) and schema.label not in field_names
    assert all(
        f.kind in ("categorical", "numeric") and isinstance(f.min_count, int) and f.min_count >= 1
        for f in schema.fields
    )
    assert schema.label_mapping is None or set(schema.label_mapping.values()) <= {0.0, 1.0}
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


@fuzz_settings(100)
@given(schema=schemas())
def test_valid_schema_round_trips_through_json(schema):
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


FORMAT_ARGS = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.one_of(st.sampled_from(["auto", "csv", "tsv", "parquet", "libfm", "xml"]), ANYTHING),
        "has_header": ANYTHING,
        "separator": st.one_of(st.sampled_from([",", "\t", ";;", "é", '"', "\n", ""]), ANYTHING),
        "columns": st.one_of(st.lists(names, max_size=3), ANYTHING),
        "null_values": st.one_of(st.lists(st.text(max_size=3), max_size=2), ANYTHING),
        "field_starts": st.one_of(st.lists(st.integers(-1, 10), max_size=3), ANYTHING),
        "num_features": ANYTHING,
    },
)


@fuzz_settings(200)
@given(args=FORMAT_ARGS)
def test_file_format_from_random_values_is_usable_or_raises_schema_error(args):
    try:
        fmt = FileFormat(**args)
    except SchemaError as error:
        event(f"SchemaError: {str(error).split(':')[0]}")
        return
    event("built")
    assert fmt.kind in ("auto", "csv", "tsv", "parquet", "libfm")
    assert fmt.separator is None or len(fmt.separator.encode()) == 1
    assert fmt.columns is None or len(set(fmt.columns)) == len(fmt.columns)
    assert FileFormat(**json.loads(json.dumps(fmt.to_dict()))) == fmt
