"""Content-hash speed of the encoded cache's key: XXH3-128 (what lit-ctr uses) and SHA-256
(what it used before), side by side on the same file.

    python bench/large_data/hash_speed.py FILE [FILE ...]

Each file is hashed with XXH3-128 through ``lit_ctr.data.cache.content_hash`` (not
memoised), then with SHA-256 in the same 1 MiB blocks; one line per file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from lit_ctr.data import cache
from lit_ctr.data.files import HASH_BLOCK


def sha256_seconds(path: Path) -> float:
    start = time.perf_counter()
    digest, block = hashlib.sha256(), bytearray(HASH_BLOCK)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while got := handle.readinto(block):
            digest.update(view[:got])
    return time.perf_counter() - start


def main() -> None:
    for name in sys.argv[1:]:
        path = Path(name)
        size = path.stat().st_size
        start = time.perf_counter()
        cache.content_hash(path)
        xxh3 = time.perf_counter() - start
        sha256 = sha256_seconds(path)
        print(
            f"{path} {size / 1e9:.2f} GB: xxh3 {xxh3:.2f} s ({size / xxh3 / 1e9:.2f} GB/s), "
            f"sha256 {sha256:.2f} s ({size / sha256 / 1e9:.2f} GB/s), {sha256 / xxh3:.1f}x; "
            f"load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
