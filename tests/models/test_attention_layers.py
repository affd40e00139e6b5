"""AFM's attentional pooling and AutoInt's interacting layer against their equations."""

from __future__ import annotations

import torch

from lit_ctr.layers import AttentionalPooling, InteractingLayer


def test_attentional_pooling_is_the_softmax_weighted_sum_of_the_interactions():
    layer = AttentionalPooling(dim=3, attention_dim=5)
    interactions = torch.randn(2, 6, 3)
    w, h = layer.attention[0], layer.attention[2]
    scores = torch.relu(interactions @ w.weight.T + w.bias) @ h.weight.T  # [2, 6, 1]
    expected = (torch.softmax(scores, dim=1) * interactions).sum(dim=1)
    torch.testing.assert_close(layer(interactions), expected)


def test_attentional_pooling_of_equal_interactions_is_that_interaction():
    interactions = torch.randn(2, 1, 3).expand(2, 6, 3)
    torch.testing.assert_close(AttentionalPooling(3, 4)(interactions), interactions[:, 0])


def test_attentional_pooling_l2_norm_is_the_attention_weights_squared_sum():
    layer = AttentionalPooling(3, 4)
    assert torch.isclose(layer.attention_squared_norm(), layer.attention[0].weight.pow(2).sum())


def _interacting_reference(layer: InteractingLayer, e: torch.Tensor, scaling: float = 1.0) -> torch.Tensor:
    d = layer.head_dim
    heads = []
    for h in range(layer.num_heads):
        rows = slice(h * d, (h + 1) * d)
        q, k, v = (e @ lin.weight[rows].T for lin in (layer.query, layer.key, layer.value))
        alpha = torch.softmax(q @ k.transpose(1, 2) * scaling, dim=-1)  # [B, F, F]
        heads.append(alpha @ v)
    out = torch.cat(heads, dim=-1)
    if layer.residual is not None:
        out = out + e @ layer.residual.weight.T
    return torch.relu(out)


def test_interacting_layer_concatenates_heads_of_attention_over_fields_plus_the_residual():
    layer = InteractingLayer(in_dim=3, head_dim=2, num_heads=2)
    e = torch.randn(2, 4, 3)
    out = layer(e)
    assert out.shape == (2, 4, 4)
    torch.testing.assert_close(out, _interacting_reference(layer, e))


def test_interacting_layer_without_residual_has_no_residual_weight():
    layer = InteractingLayer(3, 2, 2, residual=False)
    e = torch.randn(2, 4, 3)
    assert layer.residual is None
    torch.testing.assert_close(layer(e), _interacting_reference(layer, e))


def test_interacting_layer_scaling_divides_the_logits_by_the_root_of_the_head_width():
    layer = InteractingLayer(3, 4, 1, scaling=True)
    e = torch.randn(2, 4, 3)
    torch.testing.assert_close(layer(e), _interacting_reference(layer, e, scaling=0.5))
