"""Second-order interactions in linear time (the sum-square identity)."""

from __future__ import annotations

from torch import Tensor, nn


class BiInteraction(nn.Module):
    """Bi-Interaction pooling (He & Chua 2017): ``0.5·((Σ_i v_i)² − Σ_i v_i²)``.

    ``[batch, fields, dim]`` → ``[batch, dim]``: the element-wise sum of all pairwise
    products ``v_i ⊙ v_j`` (i < j), in O(fields·dim) and with no parameters.
    """

    def forward(self, vectors: Tensor) -> Tensor:
        square_of_sum = vectors.sum(dim=1).pow(2)
        sum_of_square = vectors.pow(2).sum(dim=1)
        return 0.5 * (square_of_sum - sum_of_square)


class FMInteraction(BiInteraction):
    """The FM second-order term ``Σ_{i<j} <v_i, v_j>``: ``[batch, fields, dim]`` → ``[batch]``."""

    def forward(self, vectors: Tensor) -> Tensor:
        return super().forward(vectors).sum(dim=1)
