"""Layers over pairs of fields (AFM's products, FFM's field-aware interaction, FiBiNET's
bilinear layer) against explicit loops over the pairs."""

from __future__ import annotations

import pytest
import torch

from lit_ctr.layers import BilinearInteraction, FieldAwareInteraction, PairwiseProduct

PAIRS_OF_4 = [(i, j) for i in range(4) for j in range(i + 1, 4)]


def test_pairwise_product_is_the_element_wise_product_of_every_pair_in_order():
    vectors = torch.randn(2, 4, 3)
    expected = torch.stack([vectors[:, i] * vectors[:, j] for i, j in PAIRS_OF_4], dim=1)
    torch.testing.assert_close(PairwiseProduct(4)(vectors), expected)


def test_field_aware_interaction_pairs_each_fields_vector_for_the_other_field():
    vectors = torch.randn(2, 4, 4, 3)  # [b, i, j]: field i's vector for field j
    expected = sum((vectors[:, i, j] * vectors[:, j, i]).sum(-1) for i, j in PAIRS_OF_4)
    torch.testing.assert_close(FieldAwareInteraction(4)(vectors), expected)


def _bilinear_reference(layer: BilinearInteraction, vectors: torch.Tensor) -> torch.Tensor:
    out = []
    for p, (i, j) in enumerate(PAIRS_OF_4):
        weight = {"field_all": 0, "field_each": i, "field_interaction": p}[layer.bilinear_type]
        out.append((vectors[:, i] @ layer.weight[weight]) * vectors[:, j])
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("bilinear_type", ["field_all", "field_each", "field_interaction"])
def test_bilinear_interaction_is_v_i_times_its_weight_times_v_j(bilinear_type):
    layer = BilinearInteraction(4, 3, bilinear_type)
    vectors = torch.randn(2, 4, 3)
    torch.testing.assert_close(layer(vectors), _bilinear_reference(layer, vectors))


@pytest.mark.parametrize(("bilinear_type", "matrices"), [("field_all", 1), ("field_each", 4), ("field_interaction", 6)])
def test_bilinear_types_hold_one_matrix_for_all_per_field_or_per_pair(bilinear_type, matrices):
    assert BilinearInteraction(4, 3, bilinear_type).weight.shape == (matrices, 3, 3)


@pytest.mark.parametrize("bilinear_type", ["field_all", "field_each", "field_interaction"])
def test_bilinear_weights_start_at_xavier_scale_for_one_dim_by_dim_matrix_whatever_the_field_count(bilinear_type):
    # Xavier for a k × k matrix: std sqrt(2 / (k + k)) = sqrt(1 / k), here 0.354; not the
    # convolution-kernel fans of the [matrices, k, k] stack (0.018 for 40 fields' 780 pairs).
    torch.manual_seed(0)
    weight = BilinearInteraction(40, 8, bilinear_type).weight
    assert abs(weight.std().item() - 8**-0.5) < 0.05


@pytest.mark.parametrize("bilinear_type", ["field_all", "field_each", "field_interaction"])
def test_bilinear_interaction_gradients_match_the_loop_over_pairs(bilinear_type):
    layer = BilinearInteraction(4, 3, bilinear_type)
    vectors = torch.randn(2, 4, 3, requires_grad=True)
    upstream = torch.randn(2, 6, 3)
    got = torch.autograd.grad((layer(vectors) * upstream).sum(), [vectors, layer.weight])
    expected = torch.autograd.grad((_bilinear_reference(layer, vectors) * upstream).sum(), [vectors, layer.weight])
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_field_pairs_blocks_are_each_left_fields_consecutive_pairs():
    pairs = BilinearInteraction(4, 3)
    assert pairs.blocks() == [(0, 0, 3), (1, 3, 2), (2, 5, 1)]
    for i, first, count in pairs.blocks():
        assert pairs.left[first : first + count].tolist() == [i] * count
        assert pairs.right[first : first + count].tolist() == list(range(i + 1, 4))
