import itertools

import torch

from lit_ctr.layers import MLP, BiInteraction, FeatureEmbedding, FeaturesLinear, FMInteraction


def naive_pairwise(vectors: torch.Tensor) -> torch.Tensor:
    fields = vectors.shape[1]
    return sum((vectors[:, i] * vectors[:, j]).sum(-1) for i, j in itertools.combinations(range(fields), 2))


def test_fm_interaction_equals_naive_pairwise_sum():
    vectors = torch.randn(7, 5, 4, dtype=torch.float64)
    assert torch.allclose(FMInteraction()(vectors), naive_pairwise(vectors))


def test_bi_interaction_equals_sum_of_elementwise_pair_products():
    vectors = torch.randn(3, 4, 6, dtype=torch.float64)
    expected = sum(vectors[:, i] * vectors[:, j] for i, j in itertools.combinations(range(4), 2))
    assert torch.allclose(BiInteraction()(vectors), expected)


def test_feature_embedding_is_one_gather_over_global_ids_then_scaled_numeric_vectors():
    layer = FeatureEmbedding([3, 4], num_numeric=2, dim=5)
    ids = torch.tensor([[0, 3], [2, 6]])
    numeric = torch.tensor([[1.0, 2.0], [0.5, 0.0]])
    out = layer(ids, numeric)
    assert out.shape == (2, 4, 5)
    assert torch.equal(out[1, 1], layer.table.weight[6])
    assert torch.allclose(out[0, 3], 2.0 * layer.numeric_vectors[1])
    assert layer.offsets.tolist() == [0, 3]


def test_feature_embedding_offsets_are_a_buffer_not_a_parameter():
    layer = FeatureEmbedding([3, 4, 5], num_numeric=0, dim=2)
    assert "offsets" in dict(layer.named_buffers())
    assert "offsets" not in layer.state_dict()


def test_features_linear_sums_weights_of_active_ids_and_numeric_values():
    layer = FeaturesLinear([2, 2], num_numeric=1)
    with torch.no_grad():
        layer.table.weight.copy_(torch.tensor([[1.0], [2.0], [3.0], [4.0]]))
        layer.numeric_weights.fill_(10.0)
        layer.bias.fill_(0.5)
    out = layer(torch.tensor([[1, 3]]), torch.tensor([[0.1]]))
    assert torch.allclose(out, torch.tensor([2.0 + 4.0 + 1.0 + 0.5]))


def test_mlp_returns_one_logit_per_row_with_batch_norm_and_dropout():
    mlp = MLP(8, [16, 4], dropout=0.2, batch_norm=True)
    assert mlp(torch.randn(5, 8)).shape == (5,)
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in mlp)


def test_mlp_without_output_layer_returns_last_hidden_width():
    mlp = MLP(8, [16, 4], output_layer=False)
    assert mlp(torch.randn(5, 8)).shape == (5, 4)
    assert mlp.out_dim == 4
