"""Value weights in the shared layers: a weighted multi field pools ``w_i e_i`` (sum, mean as
``Σ w_i e_i / Σ w_i``, max), its weights taken from the columns after the numeric values."""

from __future__ import annotations

import pytest
import torch

import lit_ctr.models as models
from lit_ctr.errors import ConfigError
from lit_ctr.layers import FeatureEmbedding, FeaturesLinear

# One single-valued field (ids 0..3), then a weighted multi-valued one (ids 4..9) of 3 columns.
FIELD_DIMS = [4, 6]
PAD = -1
IDS = torch.tensor(
    [
        [1, 4, 7, PAD],  # two values
        [2, PAD, PAD, PAD],  # an empty list
        [3, 9, 9, 5],  # a full row, one value twice
        [0, 6, 8, PAD],  # two values that weigh 0
    ]
)
WEIGHTS = torch.tensor([[0.5, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 3.0, 0.25], [0.0, 0.0, 0.0]])
PRICE = torch.tensor([[10.0], [20.0], [30.0], [40.0]])  # one numeric field before the weights


def embedding(pooling: str, weighted: bool = True) -> FeatureEmbedding:
    torch.manual_seed(0)
    multi = [{"max_len": 3, "pooling": pooling} | ({"value_weights": True} if weighted else {})]
    return FeatureEmbedding(FIELD_DIMS, 1, 2, multi_fields=multi)


def pooled(pooling: str, weights: torch.Tensor = WEIGHTS) -> torch.Tensor:
    return embedding(pooling)(IDS, torch.cat([PRICE, weights], dim=1))[:, 1]


def test_sum_pooling_adds_the_weighted_vectors() -> None:
    table = embedding("sum").table.weight
    out = pooled("sum")
    torch.testing.assert_close(out[0], 0.5 * table[4] + 2.0 * table[7])
    torch.testing.assert_close(out[2], 1.0 * table[9] + 3.0 * table[9] + 0.25 * table[5])


def test_mean_pooling_divides_by_the_sum_of_the_weights() -> None:
    table = embedding("mean").table.weight
    torch.testing.assert_close(pooled("mean")[0], (0.5 * table[4] + 2.0 * table[7]) / 2.5)


def test_max_pooling_takes_the_largest_weighted_vector_per_dimension() -> None:
    table = embedding("max").table.weight
    expected = torch.stack([1.0 * table[9], 3.0 * table[9], 0.25 * table[5]]).amax(0)
    torch.testing.assert_close(pooled("max")[2], expected)


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_an_empty_list_and_values_that_all_weigh_zero_pool_to_zero(pooling: str) -> None:
    out = pooled(pooling)
    assert out[1].tolist() == [0.0, 0.0] and out[3].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_weights_of_one_pool_exactly_as_the_unweighted_field(pooling: str) -> None:
    ones = (IDS[:, 1:] >= 0).float()  # 1 on every value, 0 on padding: what the data gives
    unweighted = embedding(pooling, weighted=False)(IDS, PRICE)
    weighted = embedding(pooling)(IDS, torch.cat([PRICE, ones], dim=1))
    assert torch.equal(weighted, unweighted)


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_padding_weighs_nothing_whatever_its_given_weight(pooling: str) -> None:
    garbage = WEIGHTS.clone()
    garbage[IDS[:, 1:] < 0] = 7.0
    torch.testing.assert_close(pooled(pooling, garbage), pooled(pooling))


def test_a_mean_over_zero_weights_has_a_finite_gradient() -> None:
    layer = embedding("mean")
    layer(IDS, torch.cat([PRICE, WEIGHTS], dim=1)).sum().backward()
    assert torch.isfinite(layer.table.weight.grad).all() and torch.isfinite(layer.numeric_vectors.grad).all()


def test_the_numeric_field_still_reads_its_own_column() -> None:
    layer = embedding("sum")
    out = layer(IDS, torch.cat([PRICE, WEIGHTS], dim=1))
    torch.testing.assert_close(out[:, 2], PRICE * layer.numeric_vectors[0])


def test_the_first_order_term_pools_its_weights_the_same_way() -> None:
    layer = FeaturesLinear(FIELD_DIMS, 1, multi_fields=[{"max_len": 3, "pooling": "mean", "value_weights": True}])
    with torch.no_grad():
        layer.table.weight.copy_(torch.arange(10.0).unsqueeze(1))
        layer.numeric_weights.fill_(0.5)
    out = layer(IDS, torch.cat([PRICE, WEIGHTS], dim=1))
    # w_single + Σ v_i w_i / Σ v_i + 0.5 · price
    expected = torch.tensor([1 + (0.5 * 4 + 2 * 7) / 2.5 + 5, 2.0 + 10, 3 + (9 + 3 * 9 + 0.25 * 5) / 4.25 + 15, 20.0])
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("name", [n for n in models.__all__ if n != "CTRModule"])
def test_every_model_takes_a_weighted_multi_field(name: str) -> None:
    multi = [{"max_len": 3, "pooling": "mean", "value_weights": True}]
    torch.manual_seed(0)
    model = getattr(models, name)(FIELD_DIMS, num_numeric=1, multi_fields=multi).eval()
    with torch.no_grad():
        for parameter in model.parameters():  # no zero-initialised layer hides the weights
            parameter.normal_(0.0, 0.5)
        numeric = torch.cat([PRICE, WEIGHTS], dim=1)
        logits = model(IDS, numeric)
        assert logits.shape == (4,)
        other = numeric.clone()
        other[0, 1] = 5.0  # another weight for row 0's first value changes row 0 only
        changed = model(IDS, other)
    assert changed[0] != logits[0]
    torch.testing.assert_close(changed[1:], logits[1:])


def test_the_weighted_layout_is_saved_in_the_hyper_parameters() -> None:
    model = models.DeepFM(FIELD_DIMS, multi_fields=[{"max_len": 3, "pooling": "max", "value_weights": True}])
    assert model.hparams["multi_fields"] == [{"max_len": 3, "pooling": "max", "value_weights": True}]


def test_a_bad_value_weights_setting_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^model.multi_fields\[0\].value_weights: expected true or false, got 'yes'"):
        models.FM(FIELD_DIMS, multi_fields=[{"max_len": 3, "value_weights": "yes"}])
