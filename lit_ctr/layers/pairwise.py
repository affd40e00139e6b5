"""Element-wise products of every pair of field vectors, the input of AFM's attention and
FiBiNET's bilinear layer."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FieldPairs(nn.Module):
    """Index pairs ``(i, j), i < j`` of ``num_fields`` fields, as buffers, so a layer over
    pairs is one gather per side: ``vectors[:, left]`` and ``vectors[:, right]``.

    Args:
        num_fields: number of fields the input holds.
    """

    left: Tensor
    right: Tensor

    def __init__(self, num_fields: int) -> None:
        super().__init__()
        left, right = torch.triu_indices(num_fields, num_fields, offset=1)
        self.register_buffer("left", left, persistent=False)
        self.register_buffer("right", right, persistent=False)

    @property
    def num_pairs(self) -> int:
        return self.left.numel()


class PairwiseProduct(FieldPairs):
    """``v_i ⊙ v_j`` for every pair ``i < j``: ``[batch, fields, dim]`` → ``[batch, pairs, dim]``
    with ``pairs = fields·(fields−1)/2``.

    Args:
        num_fields: number of fields the input holds.
    """

    def forward(self, vectors: Tensor) -> Tensor:
        return vectors[:, self.left] * vectors[:, self.right]
