"""The sharded layers in one process (tables not yet sharded): the dense layers' outputs and keys."""

from __future__ import annotations

import pytest
import torch

from lit_ctr.layers import FeatureEmbedding, FeaturesLinear
from lit_ctr.models import DeepFM
from lit_ctr.sharding.layers import ShardedFeatureEmbedding, ShardedFeaturesLinear

pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")

FIELD_DIMS = [3, 5, 2]
IDS = torch.tensor([[0, 3, 8], [2, 7, 9], [1, 4, 8]])  # global ids: field i owns [offset_i, offset_i + dims_i)
NUMERIC = torch.tensor([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])


def test_sharded_embedding_gives_the_dense_vectors_for_the_same_weights():
    dense = FeatureEmbedding(FIELD_DIMS, 2, dim=4)
    sharded = ShardedFeatureEmbedding(FIELD_DIMS, 2, dim=4)
    sharded.load_state_dict(dense.state_dict())
    assert torch.equal(sharded(IDS, NUMERIC), dense(IDS, NUMERIC))


def test_sharded_linear_gives_the_dense_first_order_term_for_the_same_weights():
    dense = FeaturesLinear(FIELD_DIMS, 2)
    torch.nn.init.normal_(dense.table.weight)
    torch.nn.init.normal_(dense.numeric_weights)
    sharded = ShardedFeaturesLinear(FIELD_DIMS, 2)
    sharded.load_state_dict(dense.state_dict())
    assert torch.allclose(sharded(IDS, NUMERIC), dense(IDS, NUMERIC), atol=1e-6)


def test_sharded_layers_state_dicts_have_the_dense_layers_keys_and_shapes():
    for dense, sharded in [
        (FeatureEmbedding(FIELD_DIMS, 2, 4), ShardedFeatureEmbedding(FIELD_DIMS, 2, 4)),
        (FeaturesLinear(FIELD_DIMS, 2), ShardedFeaturesLinear(FIELD_DIMS, 2)),
    ]:
        expected = {key: tuple(value.shape) for key, value in dense.state_dict().items()}
        assert {key: tuple(value.shape) for key, value in sharded.state_dict().items()} == expected


def test_sharded_embedding_squared_norm_equals_the_dense_one():
    dense = FeatureEmbedding(FIELD_DIMS, 2, dim=4)
    sharded = ShardedFeatureEmbedding(FIELD_DIMS, 2, dim=4)
    sharded.load_state_dict(dense.state_dict())
    sharded(IDS, NUMERIC)  # the L2 term reuses this lookup
    assert torch.allclose(sharded.squared_norm(IDS), dense.squared_norm(IDS))


def test_sharded_deepfm_checkpoint_state_loads_into_the_dense_deepfm_and_scores_alike():
    torch.manual_seed(0)
    sharded = DeepFM(FIELD_DIMS, 2, embed_dim=4, hidden_units=[8], embedding="sharded").eval()
    dense = DeepFM(FIELD_DIMS, 2, embed_dim=4, hidden_units=[8]).eval()
    dense.load_state_dict(sharded.state_dict())
    assert torch.allclose(dense(IDS, NUMERIC), sharded(IDS, NUMERIC), atol=1e-6)


def test_one_seed_starts_the_sharded_and_the_dense_deepfm_from_the_same_weights():
    torch.manual_seed(7)
    dense = DeepFM(FIELD_DIMS, 2, embed_dim=4, hidden_units=[8]).state_dict()
    torch.manual_seed(7)
    sharded = DeepFM(FIELD_DIMS, 2, embed_dim=4, hidden_units=[8], embedding="sharded").state_dict()
    assert all(torch.equal(sharded[key], value) for key, value in dense.items())
