"""The L2 penalties of a training step: embedding rows a batch used, and Linear weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows


class Penalties:
    """Mixin of :class:`~lit_ctr.models.CTRModule`: ``embedding_l2 · Σ‖rows used‖² / batch +
    net_l2 · Σ‖W‖²``.

    The layers are found once, in ``configure_model`` (Lightning's hook for shaping the model
    before training; it runs once per fit): a walk over the modules on every step costs time
    and breaks torch.compile's graph.
    """

    embedding_l2: float
    net_l2: float
    _penalised: list[PenalisedRows] | None = None
    _linears: list[nn.Linear] | None = None
    modules: Any

    def configure_model(self) -> None:
        super().configure_model()  # type: ignore[misc]
        self._penalised = [m for m in self.modules() if isinstance(m, PenalisedRows)]
        self._linears = [m for m in self.modules() if isinstance(m, nn.Linear)]
        for layer in self._penalised:
            layer.keep_rows = bool(self.embedding_l2)  # the L2 reuses the forward's rows

    def regularization(self, ids: Tensor) -> Tensor:
        """Embedding L2 on the rows this batch used, plus network L2 on Linear weights."""
        if self._penalised is None or self._linears is None:
            self.configure_model()  # a step outside the Trainer
        penalty = torch.zeros((), device=ids.device)
        for layer in self._penalised if self.embedding_l2 else []:  # type: ignore[union-attr]
            penalty = penalty + self.embedding_l2 * layer.squared_norm(ids)
        for linear in self._linears if self.net_l2 else []:  # type: ignore[union-attr]
            penalty = penalty + self.net_l2 * linear.weight.pow(2).sum()
        return penalty
