"""Measured speed-ups of a training step, kept apart from what the models compute.

* :class:`HookNameShortcut`: Lightning sets ``module._current_fx_name`` around every hook
  call, about 40 times a training step; ``nn.Module.__setattr__`` checks each string for
  being a parameter, module or buffer: a sixth of what the Trainer adds to a step
  (``bench/throughput/trainer_overhead.py --hook-overhead``). The shortcut stores that one
  attribute directly.
* :func:`prefer_fused`: torch's default Adam on CPU makes one Python-level pass per tensor
  and per operation; over a ``[1.4M, 10]`` embedding table that costs ~12x the fused
  kernel's single pass (``bench/throughput/adam_step.py``: 48 ms against 4 ms a step), a
  large share of a DeepFM step. The update is the same Adam.
* :func:`keep_large_blocks`: an embedding table's dense gradient is a fresh tensor every
  step (``[1.4M, 10]`` float32 is 56 MB). glibc serves blocks above 32 MB with ``mmap`` and
  unmaps them on free, so every step page-faults the whole gradient in again: the
  embedding backward of one batch took 31 ms against 15.5 ms with freed blocks kept, as fast
  as a block reused by hand (``bench/throughput/large_blocks.py``, docs/throughput.md).
  Raising glibc's mmap and trim thresholds keeps freed blocks in the heap for the next
  step. The tensors and results are unchanged.

Two more live with the layers they speed up, each with its numbers:
:class:`lit_ctr.layers.dense.Linear` (large float32 training matmuls on oneDNN, ~1.1-1.25x
faster than the default BLAS on the CI machine's AMD CPU; ``LIT_CTR_ONEDNN_LINEAR=0`` turns
it off) and :func:`lit_ctr.layers.dropout.random_int16` (dropout's random bits from numpy's
SFC64, and the mask compared straight into the activation's dtype).
"""

from __future__ import annotations

import ctypes
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

try:  # private, but the list torch itself checks ``fused=True`` against (torch 2.4-2.13)
    from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
except ImportError:  # pragma: no cover - older torch

    def _get_fused_kernels_supported_devices() -> list[str]:
        return ["cuda", "cpu"]


_FUSABLE = (torch.optim.Adam, torch.optim.AdamW)

# mallopt's parameter numbers (glibc malloc.h) and its largest value (an int).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_LARGEST_KEPT_BLOCK = 2**31 - 1
# glibc reads these at start-up; someone who set them chose their own allocator policy.
_USER_MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES", "LD_PRELOAD")
_large_blocks_kept: bool | None = None


class HookNameShortcut(nn.Module):
    """Stores Lightning's running-hook name without ``nn.Module.__setattr__``'s checks."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


def keep_large_blocks() -> bool:
    """Have glibc keep freed blocks up to 2 GiB in the heap instead of unmapping them, once
    per process; True when it does. Skipped (False) off glibc, and when the process was
    started with its own allocator settings (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``) or a preloaded allocator (``LD_PRELOAD``,
    e.g. jemalloc or tcmalloc). ``LIT_CTR_KEEP_LARGE_BLOCKS=0`` opts out.

    The heap then holds on to the memory of freed large blocks (the process's resident size
    stays at its peak rather than falling back between steps); the peak itself is the same.
    """
    global _large_blocks_kept
    if _large_blocks_kept is not None:
        return _large_blocks_kept
    _large_blocks_kept = False
    if os.environ.get("LIT_CTR_KEEP_LARGE_BLOCKS", "1") == "0" or any(os.environ.get(k) for k in _USER_MALLOC_SETTINGS):
        return False
    if not sys.platform.startswith("linux") or not _is_glibc():
        return False
    libc = ctypes.CDLL(None)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # pragma: no cover - a libc without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # The trim threshold first: with only the mmap one raised, a freed block at the heap's top
    # would be handed back to the kernel and faulted in again.
    _large_blocks_kept = bool(mallopt(_M_TRIM_THRESHOLD, _LARGEST_KEPT_BLOCK)) and bool(
        mallopt(_M_MMAP_THRESHOLD, _LARGEST_KEPT_BLOCK)
    )
    return _large_blocks_kept


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):
        return False


def prefer_fused(optimizer: Optimizer) -> Optimizer:
    """``optimizer`` rebuilt with ``fused=True`` when it is Adam or AdamW left to choose its
    kernel (``foreach`` and ``fused`` both unset) and every parameter can take the fused
    kernel; otherwise ``optimizer`` itself. ``fused: false`` (or ``foreach``) in the
    optimizer's ``init_args`` opts out."""
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


def compiled(objective: Callable[[dict[str, Tensor]], tuple[Tensor, Tensor]]) -> Callable[..., tuple[Tensor, Tensor]]:
    """``objective`` (a model's training forward, loss and penalty) through ``torch.compile``.

    The batch dimension is marked dynamic on every call, so an epoch's last, smaller batch
    reuses the graph instead of compiling a second one (30-60 s on a 2-core CPU); every
    other size (fields, widths) stays static, which inductor fuses best.
    """
    graph = torch.compile(objective)

    def run(batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        for tensor in batch.values():
            torch._dynamo.mark_dynamic(tensor, 0)
        return graph(batch)

    return run


class CompiledObjective:
    """Mixin of :class:`~lit_ctr.models.CTRModule` for ``compile: true``: the training
    objective goes through :func:`compiled` in ``configure_model`` (once per fit, after the
    model's final shape is set); ``training_step`` calls ``_objective`` when it is set."""

    compile_step: bool
    training_objective: Callable[[dict[str, Tensor]], tuple[Tensor, Tensor]]
    _objective: Callable[[dict[str, Tensor]], tuple[Tensor, Tensor]] | None = None

    def configure_model(self) -> None:
        super().configure_model()  # type: ignore[misc]
        if self.compile_step and self._objective is None:
            self._objective = compiled(self.training_objective)
