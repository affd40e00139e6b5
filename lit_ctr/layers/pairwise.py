"""Element-wise products of every pair of field vectors, the input of AFM's attention and
FiBiNET's bilinear layer."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FieldPairs(nn.Module):
    """Index pairs ``(i, j), i < j`` of ``num_fields`` fields in row-major order, as buffers
    (``vectors[:, left]``, ``vectors[:, right]``), and as blocks: the pairs of left field
    ``i`` are consecutive and their right fields are the slice ``vectors[:, i + 1:]``.

    A layer with a matrix per pair runs faster by blocks: one matmul per left field
    instead of a batched matmul over every pair (FiBiNET, docs/models/index.md).

    Args:
        num_fields: number of fields the input holds.
    """

    left: Tensor
    right: Tensor

    def __init__(self, num_fields: int) -> None:
        super().__init__()
        self.num_fields = num_fields
        left, right = torch.triu_indices(num_fields, num_fields, offset=1)
        self.register_buffer("left", left, persistent=False)
        self.register_buffer("right", right, persistent=False)

    @property
    def num_pairs(self) -> int:
        return self.left.numel()

    def blocks(self) -> list[tuple[int, int, int]]:
        """``(i, first, count)`` per left field ``i`` with pairs: its pairs are
        ``first .. first + count - 1`` of ``left``/``right``, with right fields ``i + 1 ..``."""
        out, first = [], 0
        for i in range(self.num_fields - 1):
            count = self.num_fields - 1 - i
            out.append((i, first, count))
            first += count
        return out


class PairwiseProduct(FieldPairs):
    """``v_i ⊙ v_j`` for every pair ``i < j``: ``[batch, fields, dim]`` → ``[batch, pairs, dim]``
    with ``pairs = fields·(fields−1)/2``.

    Args:
        num_fields: number of fields the input holds.
    """

    def forward(self, vectors: Tensor) -> Tensor:
        return vectors[:, self.left] * vectors[:, self.right]
