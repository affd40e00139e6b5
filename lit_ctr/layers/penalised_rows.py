"""The embedding L2 from the rows a training step already gathered."""

from __future__ import annotations

from torch import Tensor, nn


class PenalisedRows(nn.Module):
    """Mixin of a lookup layer (one with a ``table``) whose embedding L2 reuses its forward pass.

    The penalty is on the rows a batch looks up. Looking them up a second time for it cost a
    second gather and its backward (issue 18); instead, while ``keep_rows`` is on (set by
    :class:`~lit_ctr.models.CTRModule` when ``embedding_l2 > 0``), a training forward pass
    keeps its gathered rows ``[batch, fields, dim]`` and the penalty takes them, once. A layer
    the model did not call this step (FNN reads ``linear.table`` directly) falls back to a
    lookup, so the penalty is the same either way.
    """

    table: nn.Module  # called on ids: an EmbeddingTable, or torchrec tables when sharded
    keep_rows: bool = False
    _kept: Tensor | None = None

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared weights the batch ``ids`` looks up, over the batch size; each lookup
        layer defines it (the penalty is summed over every ``PenalisedRows`` of a model)."""
        raise NotImplementedError(f"{type(self).__name__} must define squared_norm(ids) for the embedding L2")

    def kept(self, rows: Tensor) -> Tensor:
        """``rows`` unchanged, kept for :meth:`rows_for_penalty` when training."""
        if self.keep_rows and self.training:
            self._kept = rows
        return rows

    def rows_for_penalty(self, ids: Tensor) -> Tensor:
        """The rows this step gathered for ``ids`` (then forgotten), or a fresh lookup."""
        rows, self._kept = self._kept, None
        return rows if rows is not None else self.table(ids)
