"""DCN-V2's cross layers against their equations."""

from __future__ import annotations

import torch

from lit_ctr.layers import CrossLayerMix, CrossLayerV2, CrossNetworkV2


def test_full_rank_cross_layer_is_x0_times_a_linear_map_of_x_plus_x():
    layer = CrossLayerV2(4)
    x0, x = torch.randn(3, 4), torch.randn(3, 4)
    expected = x0 * (x @ layer.weight.weight.T + layer.weight.bias) + x
    torch.testing.assert_close(layer(x0, x), expected)


def test_low_rank_experts_are_mixed_by_a_softmax_gate():
    layer = CrossLayerMix(4, rank=2, num_experts=3)
    x0, x = torch.randn(3, 4), torch.randn(3, 4)
    gates = torch.softmax(x @ layer.gate.weight.T, dim=1)
    expected = x.clone()
    for e in range(3):
        hidden = torch.tanh(torch.tanh(x @ layer.v[e]) @ layer.c[e])
        expected = expected + gates[:, e : e + 1] * x0 * (hidden @ layer.u[e] + layer.bias)
    torch.testing.assert_close(layer(x0, x), expected)


def test_cross_network_is_full_rank_without_low_rank_and_mixes_experts_with_it():
    assert all(isinstance(layer, CrossLayerV2) for layer in CrossNetworkV2(4, 2).layers)
    mix = CrossNetworkV2(4, 2, low_rank=2, num_experts=3)
    assert all(isinstance(layer, CrossLayerMix) and layer.v.shape == (3, 4, 2) for layer in mix.layers)


def test_cross_network_feeds_each_layer_x0_and_the_previous_output():
    network = CrossNetworkV2(4, 2)
    x0 = torch.randn(3, 4)
    first, second = network.layers
    torch.testing.assert_close(network(x0), second(x0, first(x0, x0)))
