"""The embedding table every model looks its ids up in."""

from __future__ import annotations

from torch import Tensor, nn


class EmbeddingTable(nn.Embedding):
    """``nn.Embedding`` whose dense CPU lookup is ``index_select``: ``ids [...]`` →
    ``[..., dim]``.

    On CPU, ``nn.Embedding``'s dense backward adds the batch's gradient into the table one
    id at a time through a generic kernel; ``index_select``'s backward is a single
    ``index_add_``, several times faster (``bench/throughput/embedding_backward.py``),
    with the same gradient. Ids are looked up as int64, whatever their dtype. Sparse tables
    (``sparse=True``, for sparse optimizers), ``padding_idx``, ``max_norm``,
    ``scale_grad_by_freq`` and other devices keep ``nn.Embedding``'s own lookup.
    Parameters and state-dict keys are ``nn.Embedding``'s.
    """

    def forward(self, ids: Tensor) -> Tensor:
        weight = self.weight
        plain = self.padding_idx is None and self.max_norm is None and not self.scale_grad_by_freq
        if self.sparse or not plain or weight.device.type != "cpu":
            return super().forward(ids)
        # int64 ids: index_add_ (the backward) is slower with int32 ids, which is how the
        # cache stores them: 1.4-3.5x for 10-wide rows, ~25x for 1-wide ones
        # (bench/throughput/embedding_backward.py).
        index = ids.reshape(-1).long()
        return weight.index_select(0, index).view(*ids.shape, weight.shape[1])
