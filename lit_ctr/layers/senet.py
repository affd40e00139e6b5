"""FiBiNET's SENET layer: field importance from the field vectors themselves (Huang et al. 2019)."""

from __future__ import annotations

from torch import Tensor, nn

from lit_ctr.layers.checks import check_int_at_least


class SENETLayer(nn.Module):
    """Squeeze ``z_i = mean(e_i)``, excite ``a = ReLU(W_2 ReLU(W_1 z))``, re-weight
    ``v_i = a_i · e_i``: ``[batch, fields, dim]`` → ``[batch, fields, dim]``.

    Args:
        num_fields: ``f``, the number of fields.
        reduction_ratio: ``r``; the hidden layer has ``max(1, f // r)`` units.
    """

    def __init__(self, num_fields: int, reduction_ratio: int = 3) -> None:
        super().__init__()
        hidden = max(1, num_fields // check_int_at_least("reduction_ratio", reduction_ratio, 1))
        self.excitation = nn.Sequential(
            nn.Linear(num_fields, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, num_fields, bias=False),
            nn.ReLU(),
        )

    def forward(self, vectors: Tensor) -> Tensor:
        return vectors * self.excitation(vectors.mean(dim=2)).unsqueeze(-1)
