"""EmbeddingTable: nn.Embedding's lookup and gradient, through index_select on CPU."""

import pytest
import torch
from torch import nn

from lit_ctr.layers import EmbeddingTable


def lookup_and_gradient(table: nn.Embedding, ids: torch.Tensor, upstream: torch.Tensor):
    table.zero_grad(set_to_none=True)
    out = table(ids)
    out.backward(upstream)
    return out, table.weight.grad


def twin_tables(rows: int, dim: int, **options) -> tuple[nn.Embedding, EmbeddingTable]:
    reference = nn.Embedding(rows, dim, **options)
    table = EmbeddingTable(rows, dim, **options)
    table.load_state_dict(reference.state_dict())
    return reference, table


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])  # the cache stores int32 ids
def test_lookup_and_dense_gradient_equal_nn_embedding_with_repeated_ids(dtype):
    reference, table = twin_tables(50, 4)
    ids = torch.tensor([[3, 3, 7], [49, 3, 0]], dtype=dtype)  # id 3 three times: its gradients add up
    upstream = torch.randn(2, 3, 4)
    expected_out, expected_grad = lookup_and_gradient(reference, ids, upstream)
    out, grad = lookup_and_gradient(table, ids, upstream)
    assert torch.equal(out, expected_out)
    assert torch.allclose(grad, expected_grad)
    assert not grad.is_sparse


def test_a_sparse_table_still_gives_a_sparse_gradient():
    reference, table = twin_tables(20, 3, sparse=True)
    ids = torch.tensor([[1, 5], [5, 19]])
    upstream = torch.randn(2, 2, 3)
    _, grad = lookup_and_gradient(table, ids, upstream)
    _, expected = lookup_and_gradient(reference, ids, upstream)
    assert grad.is_sparse
    assert torch.allclose(grad.to_dense(), expected.to_dense())


def test_padding_idx_keeps_nn_embedding_semantics_no_gradient_at_the_padding_row():
    reference, table = twin_tables(10, 2, padding_idx=0)
    ids = torch.tensor([[0, 4, 0]])
    upstream = torch.ones(1, 3, 2)
    _, grad = lookup_and_gradient(table, ids, upstream)
    _, expected = lookup_and_gradient(reference, ids, upstream)
    assert torch.equal(grad[0], torch.zeros(2))
    assert torch.allclose(grad, expected)


def test_an_id_past_the_table_is_an_index_error():
    with pytest.raises(IndexError, match="out of range"):
        EmbeddingTable(5, 3)(torch.tensor([[5]]))


def test_state_dict_keys_are_nn_embeddings():
    assert list(EmbeddingTable(4, 2).state_dict()) == ["weight"]
