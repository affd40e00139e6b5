"""On-disk cache of encoded splits, keyed by what produced them, written atomically.

An entry is a directory ``<cache_dir>/<key>/`` holding ``meta.json``,
``vocabulary.json`` and one folder per split with ``ids.npy``, ``numeric.npy`` and
``labels.npy``. It is built under a temporary name and renamed into place only when
complete, with a ``COMPLETE`` marker written last: a run killed while encoding leaves
at most a temporary directory, which no later run reads.

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
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from lit_ctr.data.encoding import EncodedArrays

FORMAT_VERSION = 2
COMPLETE = "COMPLETE"
HASH_BLOCK = 1 << 20
HASHES_DIR = ".inputs/hashes"
"""Folder of ``cache_dir`` holding the memoised content hashes of input files."""
LAST_DIR = ".inputs/last"
"""Folder of ``cache_dir`` recording, per configuration, the inputs its last entry was built from."""
FULL_HASH_BYTES = 64 * 2**20
"""Array files up to this size get a checksum of all their bytes; larger ones a checksum of
``SAMPLED_BLOCKS`` blocks spread over the file (see :func:`array_checksum`)."""
SAMPLED_BLOCKS = 16


def file_identity(path: Path, hashes_dir: Path | None = None) -> dict[str, Any]:
    """What says a file changed: its absolute path, size and the SHA-256 of its content.

    The hash is memoised in ``hashes_dir`` under the file's stat (device, inode, size,
    mtime and ctime in ns): an unchanged file is hashed once, and a file edited in place
    with its size and mtime restored is still hashed again, because ``touch`` and
    ``os.utime`` cannot set ctime back.
    """
    return {"path": str(path.resolve()), "size": path.stat().st_size, "sha256": content_hash(path, hashes_dir)}


def content_hash(path: Path, hashes_dir: Path | None = None) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB blocks; memoised in ``hashes_dir`` (if given)."""
    stat = path.stat()
    stamp = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    memo = None
    if hashes_dir is not None:
        memo = hashes_dir / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24] + ".json")
        try:
            known = json.loads(memo.read_text())
            if known.get("stat") == stamp:
                return str(known["sha256"])
        except (OSError, ValueError, AttributeError, KeyError):
            pass  # no memo yet, or a damaged one: hash again
    digest = stream_hash(path)
    if memo is not None:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"path": str(path.resolve()), "stat": stamp, "sha256": digest}))
            os.replace(tmp, memo)
        except OSError:
            pass  # a read-only cache: the hash is only not memoised
    return digest


def stream_hash(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes, read in ``HASH_BLOCK`` blocks (memory stays at one)."""
    digest = hashlib.sha256()
    block = bytearray(HASH_BLOCK)
    view = memoryview(block)
    with open(path, "rb", buffering=0) as handle:
        while got := handle.readinto(block):
            digest.update(view[:got])
    return digest.hexdigest()


def cache_key(description: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able description of the inputs and settings."""
    text = json.dumps({"version": FORMAT_VERSION, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _configuration(description: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The key of a description without the files' contents, and each file's content hash."""
    inputs = description.get("inputs", {})
    files = {f["path"]: f["sha256"] for v in inputs.values() for f in v}
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


class SplitWriter:
    """Appends encoded chunks of one split to ``ids.npy``, ``numeric.npy`` and ``labels.npy``.

    The files are valid ``.npy`` files once :meth:`close` has written the final shapes
    (``[N, F_cat]``, ``[N, F_num]``, ``[N]``) into their headers. numpy pads a header so
    that the first axis may grow to 21 digits in place, which is what lets the row
    count be filled in at the end without moving the data.
    """

    def __init__(self, directory: Path, id_dtype: np.dtype, num_ids: int, num_numeric: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.label_sum = 0.0
        self._specs = {
            "ids": (np.dtype(id_dtype), (num_ids,)),
            "numeric": (np.dtype(np.float32), (num_numeric,)),
            "labels": (np.dtype(np.float32), ()),
        }
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
        for name, array in (("ids", arrays.ids), ("numeric", arrays.numeric), ("labels", arrays.labels)):
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


def map_codes_to_ids(path: Path, code_ids: list[np.ndarray], block_rows: int = 1 << 16) -> None:
    """Rewrite an ``ids.npy`` of per-field value codes (int32, ``-1`` = missing) as ids.

    Column ``j`` becomes ``code_ids[j][code]``
    (:meth:`~lit_ctr.data.vocabulary.VocabularyCounter.code_ids`). The file is read and
    written back in blocks of ``block_rows`` rows with plain reads and writes, on all
    cores, so resident memory stays at a few blocks; in place when the ids are int32,
    else into a new file moved over it.
    """
    dtype = code_ids[0].dtype if code_ids else np.dtype(np.int32)
    # All fields' tables end to end, each with its missing id first: a block of codes
    # becomes ids with one add and one gather in memory order (a gather per column
    # strides over the whole block once per field).
    lookup = np.concatenate([np.concatenate([t[-1:], t[:-1]]) for t in code_ids]) if code_ids else np.zeros(0, dtype)
    index_dtype = np.int32 if len(lookup) < 2**31 else np.int64
    base = (np.cumsum([0] + [len(t) for t in code_ids[:-1]]) + 1).astype(index_dtype)
    source = os.open(path, os.O_RDWR)
    target = None
    try:
        header = _Reader(source)
        version = np.lib.format.read_magic(header)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, stored = read_header(header)
        if stored != np.int32:
            raise ValueError(f"{path}: expected int32 codes, found {stored}")
        rows, width = shape
        out, out_start = source, header.offset
        if dtype != np.int32:
            out = target = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            new_header = io.BytesIO()
            descr = np.lib.format.dtype_to_descr(dtype)
            np.lib.format.write_array_header_1_0(new_header, {"descr": descr, "fortran_order": False, "shape": shape})
            _write_all(target, new_header.getvalue(), 0)
            out_start = len(new_header.getvalue())

        def map_block(first: int) -> None:
            codes = np.empty((min(block_rows, rows - first), width), dtype=np.int32)
            read_exactly(source, codes, header.offset + first * width * 4, path)
            index = codes.astype(index_dtype, copy=False)
            index += base  # codes are at least -1: each field's missing id sits at its base - 1
            ids = np.take(lookup, index)
            _write_all(out, ids.data, out_start + first * width * dtype.itemsize)

        # numpy's gather and the file reads and writes release the GIL.
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(map_block, range(0, rows, block_rows)))
    finally:
        if target is not None:
            os.close(target)
        os.close(source)
    if target is not None:
        os.replace(path.with_suffix(".tmp"), path)


class _Reader:
    """A file descriptor read from an offset, for numpy's ``.npy`` header readers."""

    def __init__(self, fd: int, offset: int = 0) -> None:
        self.fd, self.offset = fd, offset

    def read(self, size: int) -> bytes:
        data = os.pread(self.fd, size, self.offset)
        self.offset += len(data)
        return data


def read_exactly(fd: int, out: np.ndarray, position: int, filename: str | Path) -> None:
    """Fill ``out`` with the file's bytes from ``position`` (``preadv`` until done)."""
    if out.nbytes == 0:  # e.g. no categorical fields: a memoryview of it cannot be cast
        return
    view, done = memoryview(out).cast("B"), 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], position + done)
        if got == 0:
            raise OSError(f"{filename}: unexpected end of file")
        done += got


def _write_all(fd: int, data: Any, position: int) -> None:
    view, done = memoryview(data), 0
    if view.nbytes == 0:  # a memoryview of an empty array cannot be cast
        return
    view = view.cast("B")
    while done < len(view):
        done += os.pwrite(fd, view[done:], position + done)


def array_manifest(entry: Path) -> dict[str, dict[str, Any]]:
    """Every ``.npy`` of an entry (relative path → dtype, shape, byte size and checksum), for
    ``meta.json``: what :func:`damage` checks an entry against."""
    manifest = {}
    for path in sorted(entry.rglob("*.npy")):
        dtype, shape, _ = _npy_header(path)
        manifest[str(path.relative_to(entry))] = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "shape": list(shape),
            "bytes": path.stat().st_size,
            **array_checksum(path),
        }
    return manifest


def array_checksum(path: Path) -> dict[str, str]:
    """``{"sha256": ...}`` of the whole file up to ``FULL_HASH_BYTES``, else
    ``{"sampled_sha256": ...}`` of ``SAMPLED_BLOCKS`` blocks of ``HASH_BLOCK`` bytes evenly
    spread from the first to the last: checking it reads 16 MiB whatever the file's size."""
    size = path.stat().st_size
    if size <= FULL_HASH_BYTES:
        return {"sha256": stream_hash(path)}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for offset in np.linspace(0, size - HASH_BLOCK, SAMPLED_BLOCKS).astype(np.int64).tolist():
            handle.seek(offset)
            digest.update(handle.read(HASH_BLOCK))
    return {"sampled_sha256": digest.hexdigest()}


def damage(entry: Path, manifest: dict[str, dict[str, Any]]) -> str | None:
    """What is wrong with an entry's arrays, or None when they are as written.

    Checked on every load: every array file exists, its ``.npy`` header has the dtype and
    shape written in ``manifest``, its byte size is the header plus rows × row bytes, and
    its checksum (:func:`array_checksum`: all bytes of files up to 64 MiB, 16 sampled MiB
    of larger ones) is the one written with the entry.
    """
    for name, expected in manifest.items():
        path = entry / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            dtype, shape, offset = _npy_header(path)
        except (OSError, ValueError) as error:
            return f"{name} has no readable .npy header ({error})"
        if np.lib.format.dtype_to_descr(dtype) != expected["descr"] or list(shape) != expected["shape"]:
            return f"{name} holds {dtype} {list(shape)}, expected {expected['descr']} {expected['shape']}"
        size = path.stat().st_size
        if size != offset + math.prod(shape) * dtype.itemsize or size != expected["bytes"]:
            return f"{name} is {size} bytes, expected {expected['bytes']}"
    for name, expected in manifest.items():
        written = {k: v for k, v in expected.items() if k in ("sha256", "sampled_sha256")}
        if array_checksum(entry / name) != written:
            return f"{name} does not match its checksum (overwritten since it was written)"
    return None


def _npy_header(path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """dtype, shape and data offset of an ``.npy`` file."""
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle)
        if fortran:
            raise ValueError("Fortran order")
        return dtype, tuple(shape), handle.tell()


def load_split(directory: Path) -> EncodedArrays:
    """Memory-map one split's arrays (pages are shared between DDP ranks)."""
    labels = directory / "labels.npy"
    return EncodedArrays(
        ids=np.load(directory / "ids.npy", mmap_mode="r"),
        numeric=np.load(directory / "numeric.npy", mmap_mode="r"),
        labels=np.load(labels, mmap_mode="r") if labels.exists() else None,
    )


def write_json(path: Path, data: dict[str, Any], *, indent: int | None = None) -> None:
    """``data`` as JSON; compact unless ``indent`` (an indent makes ``json`` fall back to
    its pure-Python encoder: 3x slower on a vocabulary of a million values)."""
    separators = (",", ":") if indent is None else None
    path.write_text(json.dumps(data, indent=indent, separators=separators, sort_keys=True))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
