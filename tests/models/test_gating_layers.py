"""FiBiNET's SENET layer and FinalMLP's feature gate and bilinear fusion against their equations."""

from __future__ import annotations

import torch

from lit_ctr.layers import BilinearFusion, FeatureGate, SENETLayer


def test_senet_reweights_each_field_by_its_excitation_of_the_mean_pooled_vectors():
    layer = SENETLayer(num_fields=6, reduction_ratio=3)
    vectors = torch.randn(2, 6, 4)
    w1, w2 = layer.excitation[0].weight, layer.excitation[2].weight
    assert w1.shape == (2, 6)  # 6 // 3 hidden units
    weights = torch.relu(torch.relu(vectors.mean(-1) @ w1.T) @ w2.T)
    torch.testing.assert_close(layer(vectors), vectors * weights.unsqueeze(-1))


def test_senet_with_a_sigmoid_excitation_weights_each_field_by_the_sigmoid_of_the_excitation():
    layer = SENETLayer(num_fields=6, reduction_ratio=3, excitation_activation="sigmoid")
    vectors = torch.randn(2, 6, 4)
    w1, w2 = layer.excitation[0].weight, layer.excitation[2].weight
    weights = torch.sigmoid(torch.relu(vectors.mean(-1) @ w1.T) @ w2.T)
    torch.testing.assert_close(layer(vectors), vectors * weights.unsqueeze(-1))


def test_feature_gate_starts_as_the_identity_when_its_output_is_zero():
    gate = FeatureGate(width=6, context_dim=3, hidden_units=[4])
    torch.nn.init.zeros_(gate.out.weight)
    torch.nn.init.zeros_(gate.out.bias)
    flat = torch.randn(2, 6)
    torch.testing.assert_close(gate(flat), flat)  # 2·σ(0) = 1


def test_feature_gate_scales_each_entry_by_twice_the_sigmoid_of_the_gate_mlp():
    gate = FeatureGate(6, 3, [4])
    flat = torch.randn(2, 6)
    expected = flat * 2 * torch.sigmoid(gate.out(gate.mlp(gate.context)))
    torch.testing.assert_close(gate(flat), expected)


def test_bilinear_fusion_adds_a_bilinear_term_per_head_to_both_linear_terms():
    fusion = BilinearFusion(4, 6, num_heads=2)
    first, second = torch.randn(3, 4), torch.randn(3, 6)
    expected = fusion.linear1(first).squeeze(-1) + fusion.linear2(second).squeeze(-1)
    for h in range(2):
        expected = expected + ((first[:, 2 * h : 2 * h + 2] @ fusion.bilinear[h]) * second[:, 3 * h : 3 * h + 3]).sum(
            -1
        )
    torch.testing.assert_close(fusion(first, second), expected)
