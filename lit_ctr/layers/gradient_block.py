"""An embedding table's dense gradient written into one block of memory kept from step to step.

A dense table's gradient is a ``[rows, dim]`` tensor per backward: zeros, then the batch's
rows added in. Allocated afresh each step (``index_select``'s own backward), the block's pages
are first touched again every step; on this project's CPU machines that first touch costs
far more than the zeroing: ``torch.zeros(1_457_830, 10)`` (58 MB) took 100-120 ms right after
a DeepFM training step against 1.5 ms to zero a block already in use, and the fill was the
largest cost after the matmuls and Adam in ``bench/throughput/step_breakdown.py``. Here the
gradient goes into the block of the previous step when nothing else holds it any more
(``zero_grad`` set ``.grad`` to None and no one kept a reference), so only the zeroing is
paid. The gradient's values are ``index_select``'s, bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

# How many references a storage has (torch >= 2.1). Without it no block is ever reused.
_storage_use_count = getattr(torch._C, "_storage_Use_Count", None)


def _references(block: Tensor) -> int:
    return int(_storage_use_count(block.untyped_storage()._cdata)) if _storage_use_count else -1


class GradientBlock:
    """The ``[rows, dim]`` block a table's gradient is written into.

    :meth:`take` returns the block of the last step, zeroed, when no tensor but this object's
    own still references it; otherwise (gradients accumulated over several batches, a
    ``.grad`` someone kept, another shape or dtype) a new zeroed block, which becomes the one
    kept.
    """

    def __init__(self) -> None:
        self._block: Tensor | None = None
        self._unshared = -1  # the reference count of the block when only self._block holds it

    def take(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> Tensor:
        """A zeroed ``shape`` tensor of ``dtype`` on ``device``, on memory that no other
        tensor is using."""
        block = self._block
        if (
            block is not None
            and block.shape == shape
            and block.dtype == dtype
            and block.device == device
            and _references(block) == self._unshared
        ):
            block.zero_()
        else:
            block = torch.zeros(shape, dtype=dtype, device=device)
            self._block, self._unshared = block, _references(block)
        # A fresh tensor on the block: autograd makes it the parameter's ``.grad`` without a
        # copy, as it does with a gradient it allocated itself.
        return block.view(block.shape)

    def __getstate__(self) -> dict[str, Any]:
        return {"_block": None, "_unshared": -1}  # deep copies and pickles start afresh


class _GatherRows(torch.autograd.Function):
    """``weight.index_select(0, index)`` whose backward adds into a :class:`GradientBlock`."""

    @staticmethod
    def forward(ctx: FunctionCtx, weight: Tensor, index: Tensor, block: GradientBlock) -> Tensor:
        ctx.save_for_backward(index)
        ctx.weight_meta = (weight.shape, weight.dtype, weight.device)  # type: ignore[attr-defined]
        ctx.block = block  # type: ignore[attr-defined]
        return weight.index_select(0, index)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (index,) = ctx.saved_tensors
        gradient = ctx.block.take(*ctx.weight_meta)
        gradient.index_add_(0, index, grad.to(gradient.dtype))
        return gradient, None, None


def gather_rows(weight: Tensor, index: Tensor, block: GradientBlock) -> Tensor:
    """``weight[index]`` (``[rows, dim]``, ``[n]`` int64 → ``[n, dim]``) with its gradient
    written into ``block``; without a gradient, and while tracing (export) or compiling, plain
    ``index_select``."""
    if (
        not (torch.is_grad_enabled() and weight.requires_grad)
        or torch.jit.is_tracing()
        or torch.compiler.is_compiling()
    ):
        return weight.index_select(0, index)
    return _GatherRows.apply(weight, index, block)
