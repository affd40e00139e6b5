"""The one MLP block all deep models use."""

from __future__ import annotations

from torch import Tensor, nn

from lit_ctr.errors import ConfigError
from lit_ctr.layers.checks import check_probability, check_widths
from lit_ctr.layers.dense import Linear
from lit_ctr.layers.dropout import Dropout


class MLP(nn.Sequential):
    """``[Linear → BatchNorm? → activation → Dropout?] × len(hidden)`` (→ Linear to 1).

    ``[batch, in_dim]`` → ``[batch, hidden[-1]]``, or ``[batch]`` logits when
    ``output_layer`` is true.

    Args:
        in_dim: input width.
        hidden: widths of the hidden layers.
        dropout: dropout probability after each hidden layer (0 = none).
        batch_norm: batch normalisation after each hidden Linear.
        activation: ``relu``, ``tanh``, ``sigmoid`` or ``gelu``.
        output_layer: end with a Linear to one logit and squeeze it.
    """

    _ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}

    def __init__(
        self,
        in_dim: int,
        hidden: list[int],
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
        output_layer: bool = True,
    ) -> None:
        if activation not in self._ACTIVATIONS:
            raise ConfigError(f"model.activation: expected one of {sorted(self._ACTIVATIONS)}, got {activation!r}")
        hidden = check_widths("hidden_units", hidden)
        dropout = check_probability("dropout", dropout)
        layers: list[nn.Module] = []
        width = in_dim
        for units in hidden:
            layers.append(Linear(width, units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(units))
            layers.append(self._ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(Dropout(dropout))
            width = units
        if output_layer:
            layers.append(Linear(width, 1))
        super().__init__(*layers)
        self.output_layer = output_layer
        self.out_dim = 1 if output_layer else width

    def forward(self, x: Tensor) -> Tensor:
        out = super().forward(x)
        return out.squeeze(-1) if self.output_layer else out
