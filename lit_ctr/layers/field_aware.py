"""FFM's field-aware pairwise interaction (Juan et al. 2016)."""

from __future__ import annotations

from torch import Tensor

from lit_ctr.layers.pairwise import FieldPairs


class FieldAwareInteraction(FieldPairs):
    """``Σ_{i<j} <v_{i,f_j}, v_{j,f_i}>``: ``[batch, fields, fields, dim]`` → ``[batch]``,
    where ``vectors[:, i, j]`` is field ``i``'s vector for pairing with field ``j``.

    Both sides of every pair are one gather each: ``vectors[:, left, right]`` holds
    ``v_{i,f_j}`` and ``vectors[:, right, left]`` holds ``v_{j,f_i}``.

    Args:
        num_fields: number of fields the input holds.
    """

    def forward(self, vectors: Tensor) -> Tensor:
        return (vectors[:, self.left, self.right] * vectors[:, self.right, self.left]).sum(dim=(1, 2))
