"""A dense embedding table's gradient goes into one block kept from step to step, with
index_select's values, and never into memory something else still uses."""

from __future__ import annotations

import copy

import torch

from lit_ctr.layers.table import EmbeddingTable


def table_and_reference(rows: int = 50, dim: int = 4) -> tuple[EmbeddingTable, torch.Tensor]:
    torch.manual_seed(0)
    table = EmbeddingTable(rows, dim)
    return table, table.weight.detach().clone().requires_grad_(True)


def backward(table: EmbeddingTable, ids: torch.Tensor, upstream: torch.Tensor) -> None:
    (table(ids) * upstream).sum().backward()


def reference_grad(weight: torch.Tensor, ids: torch.Tensor, upstream: torch.Tensor) -> torch.Tensor:
    weight.grad = None
    (weight.index_select(0, ids.reshape(-1)).view(*ids.shape, -1) * upstream).sum().backward()
    return weight.grad


def batch(seed: int, rows: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, rows, (8, 3), generator=generator)
    return ids, torch.randn(8, 3, 4, generator=generator)


def test_the_gradient_equals_index_selects_bit_for_bit():
    table, weight = table_and_reference()
    for seed in range(3):
        ids, upstream = batch(seed)
        table.zero_grad(set_to_none=True)
        backward(table, ids, upstream)
        assert torch.equal(table.weight.grad, reference_grad(weight, ids, upstream))


def test_the_next_step_writes_into_the_same_block_once_grad_was_set_to_none():
    table, _ = table_and_reference()
    backward(table, *batch(0))
    first = table.weight.grad.data_ptr()
    table.zero_grad(set_to_none=True)
    backward(table, *batch(1))
    assert table.weight.grad.data_ptr() == first


def test_gradients_accumulated_over_batches_are_summed_not_overwritten():
    table, weight = table_and_reference()
    backward(table, *batch(0))
    backward(table, *batch(1))  # no zero_grad: accumulate
    expected = reference_grad(weight, *batch(0)).clone() + reference_grad(weight, *batch(1))
    assert torch.allclose(table.weight.grad, expected)


def test_a_gradient_someone_kept_is_not_overwritten_by_the_next_step():
    table, weight = table_and_reference()
    backward(table, *batch(0))
    kept = table.weight.grad
    table.zero_grad(set_to_none=True)
    backward(table, *batch(1))
    assert torch.equal(kept, reference_grad(weight, *batch(0)))
    assert kept.data_ptr() != table.weight.grad.data_ptr()


def test_a_table_looked_up_twice_in_one_step_gets_both_gradients():
    table, weight = table_and_reference()
    (ids_a, up_a), (ids_b, up_b) = batch(0), batch(1)
    ((table(ids_a) * up_a).sum() + (table(ids_b) * up_b).sum()).backward()
    expected = reference_grad(weight, ids_a, up_a).clone() + reference_grad(weight, ids_b, up_b)
    assert torch.allclose(table.weight.grad, expected)


def test_a_copied_table_does_not_share_the_block():
    table, _ = table_and_reference()
    backward(table, *batch(0))
    twin = copy.deepcopy(table)
    table.zero_grad(set_to_none=True)
    twin.zero_grad(set_to_none=True)
    backward(table, *batch(1))
    backward(twin, *batch(1))
    assert twin.weight.grad.data_ptr() != table.weight.grad.data_ptr()
    assert torch.equal(twin.weight.grad, table.weight.grad)
