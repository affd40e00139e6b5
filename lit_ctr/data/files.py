"""File I/O shared by the data stages: exact positional reads and writes, ``.npy`` headers,
streamed hashes, JSON, and the one atomic directory writer.

Nothing here knows about schemas or splits: the cache (:mod:`lit_ctr.data.cache`), the
block reader (:mod:`lit_ctr.data.batching`) and the synthetic data files
(:mod:`lit_ctr.synthetic.files`) build on it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

HASH_BLOCK = 1 << 20
"""Bytes read at a time by :func:`stream_hash`."""


def write_directory(target: Path, write: Callable[[Path], None], *, replace: bool = False) -> bool:
    """Run ``write(staging)`` in a fresh folder beside ``target`` and rename it to ``target``.

    A reader never sees a half-written ``target``: it is absent, the old folder or the new
    one. On any error (or a kill) only a hidden ``.<name>.tmp-*`` folder is left, which no
    reader looks at. When ``target`` exists: with ``replace`` it is moved aside and removed
    after the new one is in place (each step a rename); without, the existing folder wins
    (another process finished the same work first), ours is discarded and False returned.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would make the folder private
        write(staging)
        if replace and target.exists():
            graveyard = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            target.rename(graveyard / target.name)
            staging.rename(target)
            shutil.rmtree(graveyard)
            return True
        try:
            os.rename(staging, target)
        except OSError:
            if target.is_dir() and any(target.iterdir()):  # completed by another process first
                shutil.rmtree(staging, ignore_errors=True)
                return False
            raise
        return True
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_json(path: Path, data: dict[str, Any], *, indent: int | None = None) -> None:
    """``data`` as JSON; compact unless ``indent`` (an indent makes ``json`` fall back to
    its pure-Python encoder: 3x slower on a vocabulary of a million values)."""
    separators = (",", ":") if indent is None else None
    path.write_text(json.dumps(data, indent=indent, separators=separators, sort_keys=True))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def stream_hash(path: Path) -> str:
    """XXH3-128 hex digest of a file's bytes, read in ``HASH_BLOCK`` blocks (memory stays at one).

    XXH3 rather than SHA-256: the key only has to tell a changed file from an unchanged one
    (no adversary), and XXH3 runs at memory speed (12 GB/s against SHA-256's 0.66 GB/s here),
    so hashing a 13 GB training file costs what reading it costs (docs/large_data.md).
    """
    digest = xxhash.xxh3_128()
    block = bytearray(HASH_BLOCK)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while got := handle.readinto(block):
            digest.update(view[:got])
    return digest.hexdigest()


def npy_header(path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """dtype, shape and data offset of a C-order ``.npy`` file."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle)
        if fortran:
            raise ValueError("Fortran order")
        return dtype, tuple(shape), handle.tell()


class FdReader:
    """A file descriptor read from an offset, for numpy's ``.npy`` header readers."""

    def __init__(self, fd: int, offset: int = 0) -> None:
        self.fd, self.offset = fd, offset

    def read(self, size: int = -1, /) -> bytes:
        data = os.pread(self.fd, size, self.offset)
        self.offset += len(data)
        return data


def read_exactly(fd: int, out: np.ndarray, position: int, filename: str | Path) -> None:
    """Fill ``out`` with the file's bytes from ``position`` (``preadv`` until done)."""
    if out.nbytes == 0:  # e.g. no categorical fields: a memoryview of it cannot be cast
        return
    view, done = memoryview(out).cast("B"), 0  # type: ignore[arg-type]  # ndarray is a buffer
    while done < len(view):
        got = os.preadv(fd, [view[done:]], position + done)
        if got == 0:
            raise OSError(f"{filename}: unexpected end of file")
        done += got


def write_all(fd: int, data: Any, position: int) -> None:
    """Write all of ``data`` (a buffer) at ``position`` (``pwrite`` until done)."""
    view, done = memoryview(data), 0
    if view.nbytes == 0:  # a memoryview of an empty array cannot be cast
        return
    view = view.cast("B")
    while done < len(view):
        done += os.pwrite(fd, view[done:], position + done)
