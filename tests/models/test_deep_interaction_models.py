"""xDeepFM, AutoInt, DCN-V2, FiBiNET and FinalMLP: how each composes its layers, and the
options that switch parts on and off."""

from __future__ import annotations

import torch

from lit_ctr.layers import CrossLayerMix
from lit_ctr.models import AutoInt, DCNv2, FiBiNET, FinalMLP, xDeepFM

FIELD_DIMS = [3, 4, 5]
IDS = torch.tensor([[0, 3, 7], [2, 6, 11], [1, 5, 9]])
NUMERIC = torch.tensor([[0.5], [2.0], [-1.0]])


def test_xdeepfm_adds_linear_cin_and_mlp_logits():
    model = xDeepFM(FIELD_DIMS, num_numeric=1, embed_dim=3, hidden_units=[5], cin_layer_sizes=[4, 2]).eval()
    v = model.embedding(IDS, NUMERIC)
    expected = model.linear(IDS, NUMERIC) + model.cin_output(model.cin(v)).squeeze(-1) + model.mlp(v.flatten(1))
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_xdeepfm_without_hidden_units_is_linear_plus_cin():
    model = xDeepFM(FIELD_DIMS, num_numeric=1, embed_dim=3, hidden_units=[], cin_layer_sizes=[4, 2])
    assert model.mlp is None
    v = model.embedding(IDS, NUMERIC)
    torch.testing.assert_close(
        model(IDS, NUMERIC), model.linear(IDS, NUMERIC) + model.cin_output(model.cin(v)).squeeze(-1)
    )


def test_autoint_reads_out_the_last_interacting_layer_with_a_linear():
    model = AutoInt(FIELD_DIMS, num_numeric=1, embed_dim=3, attention_layers=2, num_heads=2, attention_dim=4)
    assert model.mlp is None and len(model.attention) == 2
    assert model.attention[1].query.in_features == 8  # the first layer's 2 heads × 4
    expected = model.attention_output(model.attention(model.embedding(IDS, NUMERIC)).flatten(1)).squeeze(-1)
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_autoint_plus_adds_an_mlp_on_the_field_vectors():
    model = AutoInt(FIELD_DIMS, num_numeric=1, embed_dim=3, attention_layers=1, hidden_units=[5]).eval()
    v = model.embedding(IDS, NUMERIC)
    expected = model.attention_output(model.attention(v).flatten(1)).squeeze(-1) + model.mlp(v.flatten(1))
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_dcn_v2_parallel_combines_the_cross_network_and_the_mlp_side_by_side():
    model = DCNv2(FIELD_DIMS, num_numeric=1, embed_dim=3, hidden_units=[5], structure="parallel").eval()
    x0 = model.embedding(IDS, NUMERIC).flatten(1)
    expected = model.combine(torch.cat([model.cross(x0), model.mlp(x0)], dim=1)).squeeze(-1)
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_dcn_v2_stacked_puts_the_mlp_on_the_cross_networks_output():
    model = DCNv2(FIELD_DIMS, num_numeric=1, embed_dim=3, hidden_units=[5], structure="stacked").eval()
    x0 = model.embedding(IDS, NUMERIC).flatten(1)
    assert model.combine.in_features == 5
    torch.testing.assert_close(model(IDS, NUMERIC), model.combine(model.mlp(model.cross(x0))).squeeze(-1))


def test_dcn_v2_low_rank_uses_mixture_of_experts_cross_layers():
    model = DCNv2(FIELD_DIMS, embed_dim=3, hidden_units=[5], low_rank=2, num_experts=4)
    assert all(isinstance(layer, CrossLayerMix) and layer.u.shape == (4, 2, 9) for layer in model.cross.layers)


def test_fibinet_feeds_the_bilinear_products_of_plain_and_senet_vectors_to_the_mlp():
    model = FiBiNET(FIELD_DIMS, num_numeric=1, embed_dim=3, hidden_units=[5], bilinear_type="field_each").eval()
    v = model.embedding(IDS, NUMERIC)
    p, q = model.bilinear(v), model.bilinear(model.senet(v))
    expected = model.linear(IDS, NUMERIC) + model.mlp(torch.cat([p.flatten(1), q.flatten(1)], dim=1))
    torch.testing.assert_close(model(IDS, NUMERIC), expected)


def test_finalmlp_fuses_two_streams_over_separately_gated_inputs():
    model = FinalMLP(FIELD_DIMS, num_numeric=1, embed_dim=3, mlp1_hidden_units=[4], mlp2_hidden_units=[6],
                     fs_hidden_units=[5], num_heads=2).eval()  # fmt: skip
    flat = model.embedding(IDS, NUMERIC).flatten(1)
    expected = model.fusion(model.mlp1(model.gate1(flat)), model.mlp2(model.gate2(flat)))
    torch.testing.assert_close(model(IDS, NUMERIC), expected)
    assert model.gate1 is not model.gate2  # each stream selects its own features


def test_finalmlp_without_feature_selection_gives_both_streams_the_plain_vectors():
    model = FinalMLP(FIELD_DIMS, num_numeric=1, embed_dim=3, mlp1_hidden_units=[4], mlp2_hidden_units=[6],
                     feature_selection=False).eval()  # fmt: skip
    flat = model.embedding(IDS, NUMERIC).flatten(1)
    torch.testing.assert_close(model(IDS, NUMERIC), model.fusion(model.mlp1(flat), model.mlp2(flat)))
