"""Fuzzed vocabularies: fitted deterministically, every value with its own id, plain data."""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import polars as pl
import torch
from fuzzing import fuzz_settings, text_values
from hypothesis import given
from hypothesis import strategies as st

from lit_ctr.data import Field, Schema, Vocabulary, fit_vocabulary
from lit_ctr.data.encoding import encode
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, RESERVED_IDS

# Prepared categorical columns: stripped text or None (missing), a few values repeated.
VALUES = st.lists(
    st.one_of(st.none(), text_values.map(lambda v: v.strip() or None), st.sampled_from(["a", "b", "é"])),
    min_size=1,
    max_size=12,
)


@st.composite
def columns(draw: st.DrawFn) -> tuple[Schema, dict[str, list]]:
    n_fields = draw(st.integers(1, 3))
    n_rows = draw(st.integers(1, 12))
    fields = [Field(f"f{i}", min_count=draw(st.integers(1, 3))) for i in range(n_fields)]
    data = {f.name: draw(st.lists(VALUES.map(lambda v: v[0]), min_size=n_rows, max_size=n_rows)) for f in fields}
    return Schema(fields=fields), data


def frame(schema: Schema, data: dict[str, list]) -> pl.DataFrame:
    n = len(next(iter(data.values())))
    return pl.DataFrame({"label": [0.0] * n, **{k: pl.Series(k, v, dtype=pl.String) for k, v in data.items()}})


@fuzz_settings(100)
@given(case=columns())
def test_fit_keeps_values_seen_min_count_times_most_frequent_first_ties_by_value(case):
    schema, data = case
    vocabulary = fit_vocabulary([frame(schema, data)], schema)
    for f, vocab in zip(schema.fields, vocabulary.fields):
        counts = Counter(v for v in data[f.name] if v is not None)
        expected = sorted((v for v, n in counts.items() if n >= f.min_count), key=lambda v: (-counts[v], v))
        assert vocab.values == expected


@fuzz_settings(100)
@given(case=columns(), unseen=st.lists(VALUES.map(lambda v: v[0]), min_size=1, max_size=6))
def test_every_value_maps_to_its_own_id_and_the_rest_to_oov_or_missing(case, unseen):
    schema, data = case
    vocabulary = fit_vocabulary([frame(schema, data)], schema)
    other = {name: (unseen * len(values))[: len(values)] for name, values in data.items()}
    for rows in (data, other):
        ids = encode([frame(schema, rows)], schema, vocabulary).ids
        assert ids.dtype == np.int32
        for j, (f, vocab, offset) in enumerate(zip(schema.fields, vocabulary.fields, vocabulary.offsets)):
            position = {v: i + RESERVED_IDS for i, v in enumerate(vocab.values)}
            expected = [MISSING_ID if v is None else position.get(v, OOV_ID) for v in rows[f.name]]
            assert (ids[:, j] - offset).tolist() == expected
            assert ((ids[:, j] >= offset) & (ids[:, j] < offset + vocab.size)).all()


@fuzz_settings(60)
@given(case=columns())
def test_vocabulary_round_trips_as_plain_data_through_json_and_weights_only_torch_load(case):
    schema, data = case
    vocabulary = fit_vocabulary([frame(schema, data)], schema)
    assert Vocabulary.from_dict(json.loads(json.dumps(vocabulary.to_dict()))) == vocabulary
    buffer = io.BytesIO()
    torch.save({"vocabulary": vocabulary.to_dict()}, buffer)
    buffer.seek(0)
    assert Vocabulary.from_dict(torch.load(buffer, weights_only=True)["vocabulary"]) == vocabulary
    assert vocabulary.offsets == np.cumsum([0, *vocabulary.sizes[:-1]]).tolist()
    assert vocabulary.total_size == sum(vocabulary.sizes)
