"""glibc keeps freed large blocks (an embedding table's per-step gradient) in the heap once
training is configured, so they are not page-faulted in again every step."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None, reason="glibc only"
)

# Runs in a fresh process: the allocator policy is process-wide and cannot be undone.
PROBE = """
import ctypes, json, torch
from lit_ctr.models import FM

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
model = FM([10, 20])
model.configure_model()
model.configure_optimizers()
before = mallinfo2().hblkhd
block = torch.zeros(16 * 2**20)  # 64 MiB, above glibc's largest dynamic mmap threshold
mapped = mallinfo2().hblkhd - before
from lit_ctr.models._speed import keep_large_blocks
print(json.dumps({"kept": keep_large_blocks(), "mapped_mib": mapped / 2**20}))
"""


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LIT_CTR_KEEP_LARGE_BLOCKS"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_configuring_the_optimizers_keeps_large_blocks_in_the_heap():
    assert probe() == {"kept": True, "mapped_mib": 0.0}


def test_lit_ctr_keep_large_blocks_0_leaves_glibcs_policy_alone():
    result = probe(LIT_CTR_KEEP_LARGE_BLOCKS="0")
    assert result["kept"] is False
    assert result["mapped_mib"] >= 64


def test_a_users_own_malloc_settings_are_respected():
    result = probe(MALLOC_MMAP_THRESHOLD_="1048576")
    assert result["kept"] is False
    assert result["mapped_mib"] >= 64
