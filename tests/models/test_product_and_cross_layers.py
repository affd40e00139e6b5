"""PNN's product layers and DCN's cross network against explicit reference computations."""

import itertools

import pytest
import torch

from lit_ctr.layers import CrossNetwork, InnerProduct, OuterProduct
from lit_ctr.models import PNN


def test_inner_product_equals_explicit_loops_over_field_pairs():
    vectors = torch.randn(3, 5, 4, dtype=torch.float64)
    expected = torch.stack(
        [(vectors[:, i] * vectors[:, j]).sum(-1) for i, j in itertools.combinations(range(5), 2)], dim=1
    )
    assert torch.allclose(InnerProduct(5)(vectors), expected)


def test_outer_product_equals_kernel_weighted_outer_product_per_pair():
    layer = OuterProduct(4, dim=3).double()
    vectors = torch.randn(2, 4, 3, dtype=torch.float64)
    expected = torch.stack(
        [
            (torch.einsum("ba,bc->bac", vectors[:, i], vectors[:, j]) * layer.kernel[pair]).sum(dim=(1, 2))
            for pair, (i, j) in enumerate(itertools.combinations(range(4), 2))
        ],
        dim=1,
    )
    assert torch.allclose(layer(vectors), expected)


def test_cross_layer_computes_x0_x0t_w_plus_b_plus_x0():
    layer = CrossNetwork(4, num_layers=1).double()
    with torch.no_grad():
        layer.biases.normal_()
    x0 = torch.randn(3, 4, dtype=torch.float64)
    w, b = layer.weights[0].weight[0], layer.biases[0]
    expected = torch.stack([torch.outer(x, x) @ w + b + x for x in x0])
    assert torch.allclose(layer(x0), expected)


def test_every_cross_layer_crosses_its_input_with_x0():
    layer = CrossNetwork(4, num_layers=2).double()
    x0 = torch.randn(3, 4, dtype=torch.float64)
    x1 = torch.stack([torch.outer(x, x) @ layer.weights[0].weight[0] + layer.biases[0] + x for x in x0])
    w, b = layer.weights[1].weight[0], layer.biases[1]
    expected = torch.stack([torch.outer(x, xl) @ w + b + xl for x, xl in zip(x0, x1)])
    assert torch.allclose(layer(x0), expected)


@pytest.mark.parametrize("product_type", ["inner", "outer", "both"])
def test_pnn_feeds_its_mlp_the_vectors_and_one_product_per_pair_and_type(product_type):
    model = PNN([3, 4, 5], num_numeric=1, embed_dim=2, hidden_units=[8], product_type=product_type)
    pairs = 4 * 3 // 2
    assert model.mlp[0].in_features == 4 * 2 + pairs * (2 if product_type == "both" else 1)
    assert model(torch.tensor([[0, 3, 7], [2, 6, 11]]), torch.randn(2, 1)).shape == (2,)
