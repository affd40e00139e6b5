"""PNN's product layer (Qu et al. 2016): one value per pair of fields."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.layers.pairwise import FieldPairs


class InnerProduct(FieldPairs):
    """Inner products ``<v_i, v_j>`` of every pair of fields:
    ``[batch, fields, dim]`` → ``[batch, fields·(fields−1)/2]``.

    Args:
        num_fields: number of fields the input holds.
    """

    def forward(self, vectors: Tensor) -> Tensor:
        return (vectors[:, self.left] * vectors[:, self.right]).sum(dim=-1)


class OuterProduct(FieldPairs):
    """Kernel outer products ``v_i^T K_ij v_j`` of every pair of fields, one learned
    ``dim × dim`` kernel per pair: ``[batch, fields, dim]`` → ``[batch, pairs]``.

    The kernel reduces the ``dim × dim`` outer product ``v_i v_j^T`` to one value,
    ``Σ_{a,b} K_ij[a, b] (v_i v_j^T)[a, b]``, without materialising it.

    Args:
        num_fields: number of fields the input holds.
        dim: vector size.
    """

    def __init__(self, num_fields: int, dim: int) -> None:
        super().__init__(num_fields)
        self.kernel = nn.Parameter(torch.empty(self.num_pairs, dim, dim))
        nn.init.xavier_uniform_(self.kernel)

    def forward(self, vectors: Tensor) -> Tensor:
        return torch.einsum("bpd,pde,bpe->bp", vectors[:, self.left], self.kernel, vectors[:, self.right])
