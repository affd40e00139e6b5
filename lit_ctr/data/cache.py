"""On-disk cache of encoded splits: entries keyed by what produced them, written atomically,
checked when read. Storage only: what goes into an entry is the pipeline's business
(:mod:`lit_ctr.data.pipeline`).

An entry is a directory ``<cache_dir>/<key>/`` holding ``meta.json``,
``vocabulary.json`` and one folder per split with ``ids.npy``, ``numeric.npy`` and
``labels.npy``. It is built under a temporary name and renamed into place only when
complete (:func:`~lit_ctr.data.files.write_directory`), with a ``COMPLETE`` marker
written last: a run killed while encoding leaves at most a temporary directory, which no
later run reads. ``meta.json`` lists every array's dtype, shape, size and checksum, which
:func:`damage` checks on every load.

The key holds the SHA-256 of every input file (:func:`file_identity`), memoised under the
file's stat in ``<cache_dir>/.inputs/hashes/``; ``<cache_dir>/.inputs/last/`` records
which inputs each configuration's last entry was built from, so that a rebuild can say
which file changed (:func:`why_new`).

A split larger than memory is written chunk by chunk with :class:`SplitWriter`: each
chunk is appended to the ``.npy`` files and the headers get the final row count at the
end. One file per array (rather than one folder per chunk) keeps every reader simple:
``np.load(mmap_mode="r")`` for random access, and a row range is one contiguous byte
range for the block reader (:class:`~lit_ctr.data.batching.BlockSplit`). Appending
with plain writes (rather than through ``open_memmap``) also keeps the writer's
resident memory at one chunk: pages written through a memory map count in the
process's RSS until unmapped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.files import HASH_BLOCK, npy_header, stream_hash, write_directory

FORMAT_VERSION = 3  # 3: content and array hashes are XXH3-128 (were SHA-256)
COMPLETE = "COMPLETE"
HASHES_DIR = ".inputs/hashes"
"""Folder of ``cache_dir`` holding the memoised content hashes of input files."""
LAST_DIR = ".inputs/last"
"""Folder of ``cache_dir`` recording, per configuration, the inputs its last entry was built from."""
FULL_HASH_BYTES = 512 * 2**20
"""Array files up to this size get a checksum of all their bytes; larger ones a checksum of
``SAMPLED_BLOCKS`` blocks spread over the file (see :func:`array_checksum`)."""
SAMPLED_BLOCKS = 16


def file_identity(path: Path, hashes_dir: Path | None = None) -> dict[str, Any]:
    """What says a file changed: its absolute path, size and the XXH3-128 of its content.

    The hash is memoised in ``hashes_dir`` under the file's stat (device, inode, size,
    mtime and ctime in ns): an unchanged file is hashed once, and a file edited in place
    with its size and mtime restored is still hashed again, because ``touch`` and
    ``os.utime`` cannot set ctime back.
    """
    return {"path": str(path.resolve()), "size": path.stat().st_size, "xxh3": content_hash(path, hashes_dir)}


def content_hash(path: Path, hashes_dir: Path | None = None) -> str:
    """XXH3-128 of the file's bytes (:func:`stream_hash`); memoised in ``hashes_dir`` (if given)."""
    stat = path.stat()
    stamp = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    memo = None
    if hashes_dir is not None:
        memo = hashes_dir / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24] + ".json")
        try:
            known = json.loads(memo.read_text())
            if known.get("stat") == stamp:
                return str(known["xxh3"])
        except (OSError, ValueError, AttributeError, KeyError):
            pass  # no memo yet, or a damaged one: hash again
    digest = stream_hash(path)
    if memo is not None:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"path": str(path.resolve()), "stat": stamp, "xxh3": digest}))
            os.replace(tmp, memo)
        except OSError:
            pass  # a read-only cache: the hash is only not memoised
    return digest


def cache_key(description: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description of the inputs and settings."""
    text = json.dumps({"version": FORMAT_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _configuration(description: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The key of a description without the files' contents, and each file's content hash."""
    inputs = description.get("inputs", {})
    files = {f["path"]: f["xxh3"] for v in inputs.values() for f in v}
    paths = {k: [f["path"] for f in v] for k, v in inputs.items()}
    return cache_key({**description, "inputs": paths}), files


def remember(cache_dir: Path, description: dict[str, Any], entry: Path) -> None:
    """Record which entry this configuration's inputs last produced, for :func:`why_new`."""
    key, files = _configuration(description)
    record = cache_dir / LAST_DIR / f"{key}.json"
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"entry": entry.name, "files": files}))
        os.replace(tmp, record)
    except OSError:
        pass  # only the explanation of the next rebuild is lost


def why_new(cache_dir: Path, description: dict[str, Any]) -> str:
    """Why no complete entry matches ``description``: which input changed since this
    configuration's last entry was written, or that there was none."""
    key, files = _configuration(description)
    try:
        record = json.loads((cache_dir / LAST_DIR / f"{key}.json").read_text())
        entry, before = record["entry"], dict(record["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return "no cache entry for these inputs and settings yet"
    changed = [p for p, digest in files.items() if before.get(p) != digest]
    if changed:
        return f"{', '.join(changed)} changed since the cache entry {entry} was written (content hash differs)"
    return f"the cache entry {entry} of these inputs is gone"


def is_complete(entry: Path) -> bool:
    """Whether ``entry`` was fully written."""
    return (entry / COMPLETE).is_file()


def build_entry(entry: Path, write: Callable[[Path], None]) -> bool:
    """Run ``write(tmp_dir)``, mark the result complete and move it to ``entry`` atomically.

    Returns False when another process completed the same entry first (its copy is
    kept and ours discarded). On any error the temporary directory is removed.
    """
    if entry.exists() and not is_complete(entry):
        shutil.rmtree(entry)  # a leftover from an older, non-atomic writer

    def complete(tmp: Path) -> None:
        write(tmp)
        (tmp / COMPLETE).write_text("ok\n")

    return write_directory(entry, complete)


def save_split(directory: Path, arrays: EncodedArrays) -> None:
    """Write one split's arrays as ``.npy`` files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "ids.npy", arrays.ids)
    np.save(directory / "numeric.npy", arrays.numeric)
    if arrays.labels is not None:
        np.save(directory / "labels.npy", arrays.labels)
    if arrays.weights is not None:
        np.save(directory / "weights.npy", arrays.weights)


class SplitWriter:
    """Appends encoded chunks of one split to ``ids.npy``, ``numeric.npy`` and ``labels.npy``.

    The files are valid ``.npy`` files once :meth:`close` has written the final shapes
    (``[N, F_cat]``, ``[N, F_num]``, ``[N]``) into their headers. numpy pads a header so
    that the first axis may grow to 21 digits in place, which is what lets the row
    count be filled in at the end without moving the data.
    """

    def __init__(
        self, directory: Path, id_dtype: np.dtype, num_ids: int, num_numeric: int, weighted: bool = False
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.label_sum = 0.0
        self._specs = {
            "ids": (np.dtype(id_dtype), (num_ids,)),
            "numeric": (np.dtype(np.float32), (num_numeric,)),
            "labels": (np.dtype(np.float32), ()),
        }
        if weighted:  # weights.npy: the sample weights, [N]
            self._specs["weights"] = (np.dtype(np.float32), ())
        self._files = {name: open(directory / f"{name}.npy", "wb") for name in self._specs}  # noqa: SIM115
        self._header_sizes = {name: self._write_header(name) for name in self._specs}

    def _write_header(self, name: str) -> int:
        dtype, tail = self._specs[name]
        handle = self._files[name]
        handle.seek(0)
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (self.rows, *tail)}
        np.lib.format.write_array_header_1_0(handle, header)
        return handle.tell()

    def append(self, arrays: EncodedArrays) -> None:
        """Add the rows of one chunk (labelled) after those already written."""
        if arrays.labels is None:
            raise ValueError("SplitWriter writes labelled rows only")
        columns = {"ids": arrays.ids, "numeric": arrays.numeric, "labels": arrays.labels, "weights": arrays.weights}
        for name in self._specs:
            array = columns[name]
            if array is None:
                raise ValueError(f"SplitWriter: expected {name} in every chunk")
            dtype, tail = self._specs[name]
            if array.shape[1:] != tail:
                raise ValueError(f"{name}: expected rows of shape {tail}, got {array.shape[1:]}")
            self._files[name].write(np.ascontiguousarray(array, dtype=dtype).data)
        self.rows += len(arrays)
        self.label_sum += float(arrays.labels.sum(dtype=np.float64))

    def close(self) -> int:
        """Write the final shapes into the headers and close the files; return the row count."""
        for name, handle in self._files.items():
            handle.flush()
            size = self._write_header(name)
            if size != self._header_sizes[name]:  # numpy's growth padding makes this impossible
                raise RuntimeError(f"the {name}.npy header changed size while the rows were written")
            handle.close()
        return self.rows

    def abort(self) -> None:
        """Close the files without finishing them (the caller discards the directory)."""
        for handle in self._files.values():
            handle.close()


def array_manifest(entry: Path) -> dict[str, dict[str, Any]]:
    """Every ``.npy`` of an entry (relative path → dtype, shape, byte size and checksum), for
    ``meta.json``: what :func:`damage` checks an entry against."""
    manifest = {}
    for path in sorted(entry.rglob("*.npy")):
        dtype, shape, _ = npy_header(path)
        manifest[str(path.relative_to(entry))] = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "shape": list(shape),
            "bytes": path.stat().st_size,
            **array_checksum(path),
        }
    return manifest


def array_checksum(path: Path) -> dict[str, str]:
    """``{"xxh3": ...}`` of the whole file up to ``FULL_HASH_BYTES``, else
    ``{"sampled_xxh3": ...}`` of ``SAMPLED_BLOCKS`` blocks of ``HASH_BLOCK`` bytes evenly
    spread from the first to the last: checking it reads 16 MiB whatever the file's size."""
    size = path.stat().st_size
    if size <= FULL_HASH_BYTES:
        return {"xxh3": stream_hash(path)}
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        for offset in np.linspace(0, size - HASH_BLOCK, SAMPLED_BLOCKS).astype(np.int64).tolist():
            handle.seek(offset)
            digest.update(handle.read(HASH_BLOCK))
    return {"sampled_xxh3": digest.hexdigest()}


def damage(entry: Path, manifest: dict[str, dict[str, Any]]) -> str | None:
    """What is wrong with an entry's arrays, or None when they are as written.

    Checked on every load: every array file exists, its ``.npy`` header has the dtype and
    shape written in ``manifest``, its byte size is the header plus rows × row bytes, and
    its checksum (:func:`array_checksum`: all bytes of files up to 512 MiB, 16 sampled MiB
    of larger ones) is the one written with the entry.
    """
    for name, expected in manifest.items():
        path = entry / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            dtype, shape, offset = npy_header(path)
        except (OSError, ValueError) as error:
            return f"{name} has no readable .npy header ({error})"
        if np.lib.format.dtype_to_descr(dtype) != expected["descr"] or list(shape) != expected["shape"]:
            return f"{name} holds {dtype} {list(shape)}, expected {expected['descr']} {expected['shape']}"
        size = path.stat().st_size
        if size != offset + math.prod(shape) * dtype.itemsize or size != expected["bytes"]:
            return f"{name} is {size} bytes, expected {expected['bytes']}"
    for name, expected in manifest.items():
        written = {k: v for k, v in expected.items() if k in ("xxh3", "sampled_xxh3")}
        if array_checksum(entry / name) != written:
            return f"{name} does not match its checksum (overwritten since it was written)"
    return None


def load_split(directory: Path) -> EncodedArrays:
    """Memory-map one split's arrays (pages are shared between DDP ranks)."""
    labels, weights = directory / "labels.npy", directory / "weights.npy"
    return EncodedArrays(
        ids=np.load(directory / "ids.npy", mmap_mode="r"),
        numeric=np.load(directory / "numeric.npy", mmap_mode="r"),
        labels=np.load(labels, mmap_mode="r") if labels.exists() else None,
        weights=np.load(weights, mmap_mode="r") if weights.exists() else None,
    )
