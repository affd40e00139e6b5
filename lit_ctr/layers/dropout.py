"""Dropout whose mask costs a fraction of ``bernoulli_``'s."""

from __future__ import annotations

import torch
from torch import Tensor, nn

_LEVELS = 1 << 16  # the mask compares 16 random bits: p is kept to 1/65536
_INT64_MIN = torch.iinfo(torch.int64).min


class Dropout(nn.Dropout):
    """``nn.Dropout`` (``[...]`` → ``[...]``, identity in eval) with a cheaper mask.

    On CPU, ``nn.Dropout`` draws one ``bernoulli_`` per element: 18-20 ms forward and
    backward for a ``[4096, 400]`` activation, more than half of the Linear before it, and
    bfloat16 does not shorten it (``bench/throughput/bf16_ops.py``); with three hidden layers
    it was 16% of a regularised DeepFM step in float32 and 23% in bf16-mixed
    (``bench/throughput/step_breakdown.py``). Here the mask comes from 64-bit random
    integers drawn over their full range, 16 bits per element (four per integer), compared
    with a threshold: ``torch.Tensor.random_`` fills a quarter as many int64s in ~2 ms.
    An element is kept with probability ``round((1 - p) · 65536) / 65536`` (within 1e-5 of
    ``1 - p``) and scaled by its inverse, so the expectation is unchanged.
    """

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return input
        if self.p == 1.0:
            return input * 0.0
        if torch.compiler.is_compiling():
            return super().forward(input)  # inductor draws its own mask; random_ breaks the graph
        kept_levels = round((1.0 - self.p) * _LEVELS)
        keep = kept_mask(input.numel(), kept_levels, input.device).view(input.shape)
        # The cast and an in-place scale: 0.56 ms for [4096, 400] float32 against where()'s
        # 1.86 ms (0.99 against 1.74 in bfloat16; bench/throughput/dropout_mask.py); the
        # multiplier holds the same values.
        return input * keep.to(input.dtype).mul_(_LEVELS / kept_levels)


def kept_mask(count: int, kept_levels: int, device: torch.device) -> Tensor:
    """``count`` booleans, each true with probability ``kept_levels / 65536``: 16 random bits
    per element, all 64 bits of ``ceil(count / 4)`` random int64s."""
    # random_(min, None) draws the full 64-bit range (plain random_() leaves the top bit 0),
    # so every int16 of the words is uniform on [-32768, 32767] and the comparison runs over
    # one contiguous view: 1.51 against 2.01 ms to draw, 0.58 against 1.84 ms to compare, for
    # [4096, 400] (2 threads, bench/throughput/dropout_mask.py), than three int16s from each
    # 63-bit word.
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_(_INT64_MIN, None)
    return words.view(torch.int16)[:count] < kept_levels - _LEVELS // 2
