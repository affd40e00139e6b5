"""FiBiNET's bilinear interaction (Huang et al. 2019)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.pairwise import FieldPairs

BilinearType = Literal["field_all", "field_each", "field_interaction"]


class BilinearInteraction(FieldPairs):
    """``p_ij = (v_i · W) ⊙ v_j`` for every pair ``i < j``:
    ``[batch, fields, dim]`` → ``[batch, pairs, dim]``.

    ``W`` is one ``dim × dim`` matrix shared by all pairs (``field_all``), one per field ``i``
    (``field_each``) or one per pair of fields (``field_interaction``).

    Args:
        num_fields: number of fields.
        dim: vector size.
        bilinear_type: ``field_all``, ``field_each`` or ``field_interaction``.
    """

    def __init__(self, num_fields: int, dim: int, bilinear_type: BilinearType = "field_interaction") -> None:
        super().__init__(num_fields)
        counts = {"field_all": 1, "field_each": num_fields, "field_interaction": self.num_pairs}
        if bilinear_type not in counts:
            raise ConfigError(f"model.bilinear_type: expected one of {sorted(counts)}, got {bilinear_type!r}")
        self.bilinear_type = bilinear_type
        self.weight = nn.Parameter(torch.empty(counts[bilinear_type], dim, dim))
        # Xavier for each dim × dim matrix, std sqrt(2 / (dim + dim)). xavier_normal_ on the
        # [matrices, dim, dim] stack would take it for a convolution kernel and give
        # std sqrt(2 / (dim·dim + matrices·dim)): 0.054 for frappe's 45 pairs of 10-vectors,
        # 0.016 for Criteo's 741, shrinking p and q (already products of small vectors) further.
        nn.init.normal_(self.weight, std=(1.0 / dim) ** 0.5)

    def forward(self, vectors: Tensor) -> Tensor:
        batch, _, dim = vectors.shape
        if self.bilinear_type == "field_interaction":
            # Left field i's pairs hold consecutive matrices: v_i times all of them is one
            # [dim, count·dim] matmul, where a batched matmul over 741 pairs of 10 × 10
            # matrices ran at a few GFLOP/s.
            pieces = []
            for i, first, count in self.blocks():
                weight = self.weight[first : first + count].transpose(0, 1).reshape(dim, count * dim)
                left = (vectors[:, i] @ weight).view(batch, count, dim)
                pieces.append(left * vectors[:, i + 1 :])
            return torch.cat(pieces, dim=1)
        if self.bilinear_type == "field_all":
            left = (vectors @ self.weight[0])[:, self.left]
        else:
            left = torch.einsum("bfk,fkl->bfl", vectors, self.weight)[:, self.left]
        return left * vectors[:, self.right]
