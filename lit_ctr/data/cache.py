"""On-disk cache of encoded splits, keyed by what produced them, written atomically.

An entry is a directory ``<cache_dir>/<key>/`` holding ``meta.json``,
``vocabulary.json`` and one folder per split with ``ids.npy``, ``numeric.npy`` and
``labels.npy``. It is built under a temporary name and renamed into place only when
complete, with a ``COMPLETE`` marker written last: a run killed while encoding leaves
at most a temporary directory, which no later run reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lit_ctr.data.encoding import EncodedArrays

FORMAT_VERSION = 1
COMPLETE = "COMPLETE"


def file_identity(path: Path) -> dict[str, Any]:
    """What says a file changed: its absolute path, size and modification time."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_key(description: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description of the inputs and settings."""
    text = json.dumps({"version": FORMAT_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def is_complete(entry: Path) -> bool:
    """Whether ``entry`` was fully written."""
    return (entry / COMPLETE).is_file()


def build_entry(entry: Path, write: Callable[[Path], None]) -> bool:
    """Run ``write(tmp_dir)`` and move the result to ``entry`` atomically.

    Returns False when another process completed the same entry first (its copy is
    kept and ours discarded). On any error the temporary directory is removed.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.tmp-", dir=entry.parent))
    try:
        write(tmp)
        (tmp / COMPLETE).write_text("ok\n")
        if entry.exists() and not is_complete(entry):
            shutil.rmtree(entry)  # a leftover from an older, non-atomic writer
        try:
            os.rename(tmp, entry)
        except OSError:
            if is_complete(entry):
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            raise
        return True
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_split(directory: Path, arrays: EncodedArrays) -> None:
    """Write one split's arrays as ``.npy`` files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "ids.npy", arrays.ids)
    np.save(directory / "numeric.npy", arrays.numeric)
    if arrays.labels is not None:
        np.save(directory / "labels.npy", arrays.labels)


def load_split(directory: Path) -> EncodedArrays:
    """Memory-map one split's arrays (pages are shared between DDP ranks)."""
    labels = directory / "labels.npy"
    return EncodedArrays(
        ids=np.load(directory / "ids.npy", mmap_mode="r"),
        numeric=np.load(directory / "numeric.npy", mmap_mode="r"),
        labels=np.load(labels, mmap_mode="r") if labels.exists() else None,
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
