"""Multi-valued fields in the shared layers: ``max_len`` id columns per field, padded with
negative ids, pooled (sum, mean, max) into one field by FeatureEmbedding and FeaturesLinear."""

from __future__ import annotations

import pytest
import torch

import lit_ctr.models as models
from lit_ctr.errors import ConfigError
from lit_ctr.layers import FeatureEmbedding, FeaturesLinear

# One single-valued field (ids 0..3), then a multi-valued one (ids 4..9) of 3 columns.
FIELD_DIMS = [4, 6]
PAD = -1
IDS = torch.tensor(
    [
        [1, 4, 7, PAD],  # two values
        [2, PAD, PAD, PAD],  # an empty list
        [3, 9, 9, 5],  # a full row, one value twice
    ]
)
NUMERIC = torch.zeros(3, 0)


def embedding(pooling: str) -> FeatureEmbedding:
    torch.manual_seed(0)
    return FeatureEmbedding(FIELD_DIMS, 0, 2, multi_fields=[{"max_len": 3, "pooling": pooling}])


def test_sum_pooling_adds_the_vectors_of_a_rows_values() -> None:
    layer = embedding("sum")
    table = layer.table.weight
    out = layer(IDS, NUMERIC)
    assert out.shape == (3, 2, 2)
    torch.testing.assert_close(out[0, 1], table[4] + table[7])
    torch.testing.assert_close(out[2, 1], 2 * table[9] + table[5])
    torch.testing.assert_close(out[:, 0], table[IDS[:, 0]])


def test_mean_pooling_divides_by_the_number_of_values_not_max_len() -> None:
    layer = embedding("mean")
    table = layer.table.weight
    torch.testing.assert_close(layer(IDS, NUMERIC)[0, 1], (table[4] + table[7]) / 2)


def test_max_pooling_takes_the_largest_value_per_dimension() -> None:
    layer = embedding("max")
    table = layer.table.weight
    torch.testing.assert_close(layer(IDS, NUMERIC)[2, 1], torch.stack([table[9], table[5]]).amax(0))


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_an_empty_list_pools_to_the_zero_vector(pooling: str) -> None:
    assert embedding(pooling)(IDS, NUMERIC)[1, 1].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_padding_neither_changes_the_output_nor_gets_a_gradient(pooling: str) -> None:
    layer = embedding(pooling)
    ids = IDS.clone()
    ids[:, 0] = 1  # row 0 of the table is used by padding only
    before = layer(ids, NUMERIC)
    with torch.no_grad():
        layer.table.weight[0] += 100.0
    after = layer(ids, NUMERIC)
    after.sum().backward()
    torch.testing.assert_close(before, after)
    assert layer.table.weight.grad[0].abs().sum() == 0


def test_the_first_order_term_pools_the_weights_like_the_vectors() -> None:
    layer = FeaturesLinear(FIELD_DIMS, 0, multi_fields=[{"max_len": 3, "pooling": "mean"}])
    with torch.no_grad():
        layer.table.weight.copy_(torch.arange(10.0).unsqueeze(1))
    # w_single + mean(w of the values); the empty list contributes 0
    torch.testing.assert_close(layer(IDS, NUMERIC), torch.tensor([1 + (4 + 7) / 2, 2.0, 3 + (9 + 9 + 5) / 3]))


def test_embedding_l2_counts_the_real_rows_only() -> None:
    layer = embedding("sum")
    table = layer.table.weight
    expected = sum(table[i].pow(2).sum() for i in IDS.flatten().tolist() if i >= 0) / 3
    torch.testing.assert_close(layer.squared_norm(IDS), expected)


@pytest.mark.parametrize("name", [n for n in models.__all__ if n != "CTRModule"])
def test_every_model_takes_multi_valued_fields_as_one_field(name: str) -> None:
    model = getattr(models, name)(FIELD_DIMS, num_numeric=1, multi_fields=[{"max_len": 3, "pooling": "mean"}])
    assert model.num_fields == 3  # single, multi, numeric
    logits = model(IDS, torch.ones(3, 1))
    assert logits.shape == (3,)
    logits.sum().backward()
    layers = [m for m in model.modules() if isinstance(m, (FeatureEmbedding, FeaturesLinear))]
    assert layers and all(layer.table.weight.grad[[4, 5, 7, 9]].abs().sum() > 0 for layer in layers)


def test_multi_fields_are_saved_in_the_hyper_parameters() -> None:
    model = models.DeepFM(FIELD_DIMS, multi_fields=[{"max_len": 3, "pooling": "max"}])
    assert model.hparams["multi_fields"] == [{"max_len": 3, "pooling": "max"}]


@pytest.mark.parametrize(
    ("multi_fields", "message"),
    [
        ([{"max_len": 0}], "model.multi_fields[0].max_len: expected an integer >= 1, got 0"),
        (
            [{"max_len": 3, "pooling": "median"}],
            "model.multi_fields[0].pooling: expected one of sum, mean, max, got 'median'",
        ),
        ([{"max_len": 1}] * 3, "model.multi_fields: 3 multi-valued fields but only 2 field_dims"),
    ],
)
def test_a_bad_multi_field_layout_is_a_config_error_naming_the_key(multi_fields, message) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        models.FM(FIELD_DIMS, multi_fields=multi_fields)
