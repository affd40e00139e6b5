"""Dropout whose mask costs a fraction of ``bernoulli_``'s."""

from __future__ import annotations

import sys

import torch
from torch import Tensor, nn

_LEVELS = 1 << 16  # the mask compares 16 random bits: p is kept to 1/65536


class Dropout(nn.Dropout):
    """``nn.Dropout`` (``[...]`` → ``[...]``, identity in eval) with a cheaper mask.

    On CPU, ``nn.Dropout`` draws one ``bernoulli_`` per element: 18-20 ms forward and
    backward for a ``[4096, 400]`` activation, more than half of the Linear before it, and
    bfloat16 does not shorten it (``bench/throughput/bf16_ops.py``); with three hidden layers
    it was 16% of a regularised DeepFM step in float32 and 23% in bf16-mixed
    (``bench/throughput/step_breakdown.py``). Here the mask comes from 64-bit random
    integers, 16 bits per element (three per integer, from its 63 random bits), compared
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
        scale = torch.tensor(_LEVELS / kept_levels, dtype=input.dtype, device=input.device)
        # where(), not keep.to(dtype) * scale: a bool-to-float cast costs 3x the select here.
        return input * torch.where(keep, scale, torch.zeros((), dtype=input.dtype, device=input.device))


def kept_mask(count: int, kept_levels: int, device: torch.device) -> Tensor:
    """``count`` booleans, each true with probability ``kept_levels / 65536``: 16 random bits
    per element, the low 48 bits of ``ceil(count / 3)`` random int64s (``random_`` fills an
    int64 with 63 random bits, so its top 16 are not used)."""
    words = torch.empty((count + 2) // 3, dtype=torch.int64, device=device).random_()
    chunks = words.view(torch.int16).view(-1, 4)
    low = chunks[:, :3] if sys.byteorder == "little" else chunks[:, 1:]
    # int16 bits are uniform on [-32768, 32767]; comparing the strided view skips a copy.
    return (low < kept_levels - _LEVELS // 2).reshape(-1)[:count]
