"""The fully connected layer of the MLPs and cross networks, with its fast CPU training path."""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx, once_differentiable

# oneDNN's matmul beats torch's default CPU BLAS (MKL) from about this size of layer up and
# loses below it (per-call overhead). Forward + backward, ms, nn.Linear → oneDNN, on the
# 2-core AMD EPYC CI machine (python bench/throughput/dense_linear.py, docs/throughput.md):
#   4096 × 390 → 400   29.9 → 24.1      2048 × 400 → 400   13.9 → 12.6
#   4096 × 400 → 400   28.7 → 25.0      1024 × 256 → 256    3.15 → 3.22
#   10000 × 400 → 400  61.8 → 56.5       256 × 400 → 400    1.84 → 1.90
_MIN_ROWS = 2048
_MIN_WIDTH = 256


def onednn_linear_enabled() -> bool:
    """Whether large float32 CPU training matmuls may take oneDNN (``LIT_CTR_ONEDNN_LINEAR=0``
    turns it off, e.g. to compare with torch's default kernel)."""
    return (
        os.environ.get("LIT_CTR_ONEDNN_LINEAR", "1") != "0"
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


class Linear(nn.Linear):
    """``nn.Linear`` (``[..., in]`` → ``[..., out]``, the same parameters and state-dict keys)
    whose large float32 training matmuls on CPU run on oneDNN.

    On the CPU the benchmarks run on, torch's default BLAS does the MLP's ``[4096, 390] ×
    [390, 400]`` forward product at ~114 GFLOP/s and oneDNN at ~178; a DeepFM step spends
    over half its time in these matmuls. The forward product and the input's gradient go to
    oneDNN, the weight's gradient stays with torch (as fast there). The values are the same
    up to float32 rounding (the sums run in another order). Everything else (evaluation,
    no-grad, bfloat16 autocast, which already uses oneDNN, float64, ``torch.compile``, other
    devices, layers smaller than ``_MIN_ROWS × _MIN_WIDTH``) is ``nn.Linear`` itself.
    """

    def forward(self, input: Tensor) -> Tensor:
        if self._takes_onednn(input):
            flat = input.reshape(-1, self.in_features)
            out = _OneDNNLinear.apply(flat, self.weight, self.bias)
            return out.view(*input.shape[:-1], self.out_features)
        return F.linear(input, self.weight, self.bias)

    def _takes_onednn(self, input: Tensor) -> bool:
        return (
            self.training
            and torch.is_grad_enabled()
            and input.device.type == "cpu"
            and input.dtype == torch.float32
            and self.weight.dtype == torch.float32
            and self.in_features >= _MIN_WIDTH
            and self.out_features >= _MIN_WIDTH
            and input.numel() >= _MIN_ROWS * self.in_features
            and self.weight.is_contiguous()
            and not torch.is_autocast_enabled("cpu")
            and not torch.compiler.is_compiling()
            and onednn_linear_enabled()
        )


class _OneDNNLinear(torch.autograd.Function):
    """``x W^T + b`` with oneDNN's forward and input gradient; ``x [rows, in]``."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        x = x.contiguous()
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None  # type: ignore[attr-defined]
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors  # type: ignore[attr-defined]
        grad = grad.contiguous()
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad  # type: ignore[attr-defined]
        # grad W = grad x: the same linear product with W^T as the weight.
        grad_x = (
            torch.ops.mkldnn._linear_pointwise(grad, weight.t().contiguous(), None, "none", [], "") if needs_x else None
        )
        grad_weight = grad.t().mm(x) if needs_weight else None
        grad_bias = grad.sum(0) if ctx.has_bias and needs_bias else None  # type: ignore[attr-defined]
        return grad_x, grad_weight, grad_bias
