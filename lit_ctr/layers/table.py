"""The embedding table every model looks its ids up in."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_ctr.layers.gradient_block import GradientBlock, gather_rows


class EmbeddingTable(nn.Embedding):
    """``nn.Embedding`` whose dense CPU lookup is ``index_select``: ``ids [...]`` →
    ``[..., dim]``.

    On CPU, ``nn.Embedding``'s dense backward adds the batch's gradient into the table one
    id at a time through a generic kernel; ``index_select``'s backward is a single
    ``index_add_``, several times faster (``bench/throughput/embedding_backward.py``),
    with the same gradient. Ids are looked up as int64, whatever their dtype. Sparse tables
    (``sparse=True``, for sparse optimizers), ``padding_idx``, ``max_norm``,
    ``scale_grad_by_freq`` and other devices keep ``nn.Embedding``'s own lookup.
    Parameters and state-dict keys are ``nn.Embedding``'s. The dense gradient is written
    into the same block of memory every step (:mod:`lit_ctr.layers.gradient_block`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gradient_block = GradientBlock()

    def forward(self, ids: Tensor) -> Tensor:
        weight = self.weight
        plain = self.padding_idx is None and self.max_norm is None and not self.scale_grad_by_freq
        if self.sparse or not plain or weight.device.type != "cpu":
            return super().forward(ids)
        # int64 ids: index_add_ (the backward) is slower with int32 ids, which is how the
        # cache stores them: 1.4-3.5x for 10-wide rows, ~25x for 1-wide ones
        # (bench/throughput/embedding_backward.py).
        index = ids.reshape(-1).long()
        return gather_rows(weight, index, self._gradient_block).view(*ids.shape, weight.shape[1])
