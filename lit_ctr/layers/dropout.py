"""Dropout whose mask costs a fraction of ``bernoulli_``'s."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

_LEVELS = 1 << 16  # the mask compares 16 random bits: p is kept to 1/65536
_INT64_MIN = torch.iinfo(torch.int64).min
_INT64_MAX = torch.iinfo(torch.int64).max
_UINT64_END = 1 << 64  # numpy's integers(0, 2**64) spans every uint64


class Dropout(nn.Dropout):
    """``nn.Dropout`` (``[...]`` → ``[...]``, identity in eval) with a cheaper mask.

    On CPU, ``nn.Dropout`` draws one ``bernoulli_`` per element: 18-20 ms forward and
    backward for a ``[4096, 400]`` activation, more than half of the Linear before it, and
    bfloat16 does not shorten it (``bench/throughput/bf16_ops.py``); with three hidden layers
    it was 16% of a regularised DeepFM step in float32 and 23% in bf16-mixed
    (``bench/throughput/step_breakdown.py``). Here the mask comes from 64-bit random
    integers drawn over their full range, 16 bits per element (four per integer), compared
    with a threshold (:func:`random_int16`).
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
        bits = random_int16(input.numel(), input.device).view(input.shape)
        # The comparison written straight into the input's dtype, then scaled in place: 0.20
        # ms for [4096, 400] in float32 and 0.34 in bfloat16, against 1.35 and 1.97 for a bool
        # mask and its cast (bench/throughput/dropout_mask.py); the multiplier holds the same
        # values.
        keep = torch.lt(bits, kept_levels - _LEVELS // 2, out=torch.empty_like(input))
        return input * keep.mul_(_LEVELS / kept_levels)


def kept_mask(count: int, kept_levels: int, device: torch.device) -> Tensor:
    """``count`` booleans, each true with probability ``kept_levels / 65536``: 16 random bits
    per element, all 64 bits of ``ceil(count / 4)`` random words."""
    return random_int16(count, device) < kept_levels - _LEVELS // 2


def random_int16(count: int, device: torch.device) -> Tensor:
    """``count`` int16s uniform on ``[-32768, 32767]``, four from each random 64-bit word.

    On CPU the words come from numpy's SFC64 generator, seeded for each call from torch's
    default generator (so ``torch.manual_seed`` and ``seed_everything`` fix the masks as
    before): 1.4 ms for the 409,600 words of a ``[4096, 400]`` mask, seeding included,
    against 2.2 ms for torch's Mersenne Twister (``bench/throughput/dropout_mask.py``). Elsewhere they come from
    ``random_`` over the full int64 range (plain ``random_()`` leaves the top bit 0), so every
    int16 of the words is uniform and the comparison runs over one contiguous view.
    """
    words = (count + 3) // 4
    if device.type == "cpu":
        seed = int(torch.randint(0, _INT64_MAX, (), dtype=torch.int64))
        bits = np.random.Generator(np.random.SFC64(seed)).integers(0, _UINT64_END, size=words, dtype=np.uint64)
        return torch.from_numpy(bits.view(np.int16)[:count])
    return torch.empty(words, dtype=torch.int64, device=device).random_(_INT64_MIN, None).view(torch.int16)[:count]
