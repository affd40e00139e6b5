"""Optimizer choices shared by every model."""

from __future__ import annotations

import inspect

import torch
from torch.optim import Optimizer

try:  # private, but the list torch itself checks ``fused=True`` against
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
except ImportError:  # pragma: no cover - older torch

    def _get_fused_kernels_supported_devices() -> list[str]:
        return ["cuda", "cpu"]


_FUSABLE = (torch.optim.Adam, torch.optim.AdamW)


def prefer_fused(optimizer: Optimizer) -> Optimizer:
    """``optimizer`` rebuilt with ``fused=True`` when it is Adam or AdamW left to choose its
    kernel (``foreach`` and ``fused`` both unset) and every parameter can take the fused
    kernel; otherwise ``optimizer`` itself.

    Why: torch's default on CPU is one Python-level pass per tensor and per operation, which
    over a [1.4M, 10] embedding table costs ~12x the fused kernel's single pass
    (bench/throughput/adam_step.py: 48 ms against 4 ms a step), a large share of a DeepFM
    step. The update is the same
    Adam; set ``fused: false`` (or ``foreach``) in the optimizer's ``init_args`` to opt out.
    """
    if type(optimizer) not in _FUSABLE or optimizer.state:
        return optimizer
    defaults = optimizer.defaults
    if defaults.get("fused") is not None or defaults.get("foreach") is not None or defaults.get("differentiable"):
        return optimizer
    devices = set(_get_fused_kernels_supported_devices())
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if not params or not all(p.is_floating_point() and p.device.type in devices and not p.is_sparse for p in params):
        return optimizer
    accepted = inspect.signature(type(optimizer).__init__).parameters
    kwargs = {key: value for key, value in defaults.items() if key in accepted}
    groups = [{**group, "fused": True} for group in optimizer.param_groups]
    return type(optimizer)(groups, **{**kwargs, "fused": True})
