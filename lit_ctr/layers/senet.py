"""FiBiNET's SENET layer: field importance from the field vectors themselves (Huang et al. 2019)."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.checks import check_int_at_least

ExcitationActivation = Literal["relu", "sigmoid"]


class SENETLayer(nn.Module):
    """Squeeze ``z_i = mean(e_i)``, excite ``a = σ(W_2 ReLU(W_1 z))``, re-weight
    ``v_i = a_i · e_i``: ``[batch, fields, dim]`` → ``[batch, fields, dim]``.

    Args:
        num_fields: ``f``, the number of fields.
        reduction_ratio: ``r``; the hidden layer has ``max(1, f // r)`` units.
        excitation_activation: ``σ``: ``relu`` (the paper's) or ``sigmoid`` (weights in
            (0, 1), 1/2 at the start). Without biases a ReLU excitation is proportional to the
            vectors' size, so ``v`` is quadratic in the vectors: with small vectors the
            weights are near 0 and, once a field's weight is 0, it gets no gradient again.
    """

    def __init__(
        self, num_fields: int, reduction_ratio: int = 3, excitation_activation: ExcitationActivation = "relu"
    ) -> None:
        super().__init__()
        hidden = max(1, num_fields // check_int_at_least("reduction_ratio", reduction_ratio, 1))
        activations = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}
        if excitation_activation not in activations:
            raise ConfigError(
                f"model.excitation_activation: expected one of {sorted(activations)}, got {excitation_activation!r}"
            )
        self.excitation = nn.Sequential(
            nn.Linear(num_fields, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, num_fields, bias=False),
            activations[excitation_activation](),
        )

    def forward(self, vectors: Tensor) -> Tensor:
        return vectors * self.excitation(vectors.mean(dim=2)).unsqueeze(-1)
