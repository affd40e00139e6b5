"""Batches as one gather of an index range: no per-row ``__getitem__`` and no collate.

:class:`EncodedSplit` is a map-style dataset whose key is a whole tensor of row
indices; :class:`BatchIndexSampler` yields those tensors, a seeded permutation per
epoch cut into batches, and splits them between DDP ranks. The DataLoader runs with
``batch_size=None`` so each yielded batch is fetched with one gather per array.

Splits larger than memory use the same protocol with two other classes.
:class:`BlockShuffleSampler` shuffles fixed-size blocks of consecutive rows, then rows
within a window of a few blocks, so each window of batches touches only a few blocks;
:class:`BlockSplit` reads those blocks from the ``.npy`` files with plain reads and
keeps only the last few. Random gathers from a memory map would instead touch every
page of the split each epoch, and file pages mapped into the process count in its
resident memory (8 GB for 50M Criteo rows).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from lit_ctr.data.encoding import EncodedArrays
from lit_ctr.data.files import read_exactly


def take_rows(array: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """``array[rows]`` as a tensor, gathered with ``np.take``: on 2-D arrays about a
    quarter of the time of fancy indexing (``bench/throughput/batch_gather.py``)."""
    return torch.from_numpy(np.take(np.asarray(array), rows, axis=0))


class EncodedSplit(Dataset):
    """An encoded split indexed by batches of rows.

    ``split[index]`` with ``index`` a 1-D int64 tensor returns a dict of tensors:
    ``ids [B, F_cat]``, ``numeric [B, F_num]`` and, for labelled data, ``label [B]``
    (and ``weight [B]`` with ``schema.weight``).
    """

    def __init__(self, arrays: EncodedArrays) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = index.numpy()
        batch = {"ids": take_rows(self.arrays.ids, rows), "numeric": take_rows(self.arrays.numeric, rows)}
        if self.arrays.labels is not None:
            batch["label"] = take_rows(self.arrays.labels, rows)
        if self.arrays.weights is not None:
            batch["weight"] = take_rows(self.arrays.weights, rows)
        return batch


class BatchIndexSampler(DistributedSampler):
    """Yields ``[batch]`` index tensors for one rank.

    Training (``shuffle=True``): each epoch draws ``randperm(N)`` seeded with
    ``seed + epoch``, gives every rank an equal share (the last ``N % world`` rows of
    the permutation sit the epoch out, different rows each epoch), and cuts it into
    batches, each sorted for memory locality. Evaluation (``shuffle=False``): rows in
    order, split into contiguous per-rank ranges that together cover every row once.

    It subclasses ``DistributedSampler`` so that Lightning calls ``set_epoch`` on it and
    does not wrap it in a sampler of its own.
    """

    def __init__(
        self,
        num_rows: int,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        # DistributedSampler's own state is filled in without asking torch.distributed.
        self.num_rows = num_rows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = False

    def _rows(self) -> torch.Tensor:
        if not self.shuffle:
            start = self.num_rows * self.rank // self.num_replicas
            stop = self.num_rows * (self.rank + 1) // self.num_replicas
            return torch.arange(start, stop)
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_rows, generator=generator)
        share = self.num_rows // self.num_replicas
        return order[self.rank * share : (self.rank + 1) * share]

    def __iter__(self) -> Iterator[torch.Tensor]:
        rows = self._rows()
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            yield batch.sort().values if self.shuffle else batch

    def __len__(self) -> int:
        if self.shuffle:
            share = self.num_rows // self.num_replicas
        else:
            share = (
                self.num_rows * (self.rank + 1) // self.num_replicas - self.num_rows * self.rank // self.num_replicas
            )
        return math.ceil(share / self.batch_size)


class BlockShuffleSampler(DistributedSampler):
    """Yields ``[batch]`` index tensors for one rank, shuffled in blocks (training only).

    Each epoch, with ``seed + epoch``: the split's blocks of ``block_rows`` consecutive
    rows are put in a random order, the same on every rank. Laid end to end they form
    the epoch's row sequence; rank ``r`` takes the ``r``-th of ``num_replicas`` equal
    contiguous shares (the last ``N % num_replicas`` rows of the sequence sit the epoch
    out, different rows each epoch), so ranks get disjoint rows and equal batch counts,
    as DDP needs. A share is cut into windows of ``window_rows`` (about
    ``window_blocks`` blocks, a multiple of ``batch_size``); the rows of a window are
    shuffled and cut into batches, each sorted. A window touches at most
    ``ceil(window_rows / block_rows) + 1`` blocks: that is what :class:`BlockSplit`
    must keep to read every block once per epoch.

    A batch mixes rows from ``window_blocks`` random places of the split rather than
    from anywhere: with blocks small against the split this is close to a global
    shuffle for SGD, at a fraction of the reads.

    Like :class:`BatchIndexSampler`, it subclasses ``DistributedSampler`` so that
    Lightning calls ``set_epoch`` on it and does not replace it under DDP.
    """

    def __init__(
        self,
        num_rows: int,
        batch_size: int,
        *,
        block_rows: int,
        window_blocks: int,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if block_rows < 1 or window_blocks < 1 or batch_size < 1:
            raise ValueError("block_rows, window_blocks and batch_size must be >= 1")
        self.num_rows = num_rows
        self.batch_size = batch_size
        self.block_rows = block_rows
        self.window_rows = batch_size * max(1, round(window_blocks * block_rows / batch_size))
        self.shuffle = True
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = False

    @property
    def blocks_per_window(self) -> int:
        """The most blocks one window's rows come from."""
        return math.ceil(self.window_rows / self.block_rows) + 1

    def _share(self) -> int:
        return self.num_rows // self.num_replicas

    def windows(self) -> Iterator[np.ndarray]:
        """This rank's rows of the epoch, window by window (``[window_rows]`` int64, in sequence order)."""
        num_blocks = math.ceil(self.num_rows / self.block_rows)
        order = np.random.default_rng(self.seed + self.epoch).permutation(num_blocks)
        starts = order * self.block_rows  # first row of each block, in sequence order
        lengths = np.minimum(self.block_rows, self.num_rows - starts)
        ends = np.cumsum(lengths)  # sequence position after each block
        share = self._share()
        first = self.rank * share
        for low in range(first, first + share, self.window_rows):
            high = min(low + self.window_rows, first + share)
            k0 = int(np.searchsorted(ends, low, side="right"))
            k1 = int(np.searchsorted(ends, high - 1, side="right"))
            parts = []
            for k in range(k0, k1 + 1):
                begin = int(ends[k] - lengths[k])  # sequence position of the block's first row
                lo, hi = max(low, begin), min(high, int(ends[k]))
                parts.append(np.arange(starts[k] + lo - begin, starts[k] + hi - begin, dtype=np.int64))
            yield np.concatenate(parts)

    def __iter__(self) -> Iterator[torch.Tensor]:
        # Row order within windows: its own stream per rank, seeded by the epoch too.
        rng = np.random.default_rng([self.seed + self.epoch, self.rank])
        for rows in self.windows():
            rows = rows[rng.permutation(len(rows))]
            for start in range(0, len(rows), self.batch_size):
                yield torch.from_numpy(np.sort(rows[start : start + self.batch_size]))

    def __len__(self) -> int:
        # Windows are whole batches except the last: as many batches as a global shuffle.
        return math.ceil(self._share() / self.batch_size)


class BlockSplit(Dataset):
    """An encoded split read in blocks of rows with plain file reads, for splits larger than memory.

    ``split[index]`` returns the same dict as :class:`EncodedSplit` (``ids [B, F_cat]``,
    ``numeric [B, F_num]``, ``label [B]``). Rows are read a block of ``block_rows``
    consecutive rows at a time with ``preadv`` from the files behind the memory-mapped
    arrays of :func:`~lit_ctr.data.cache.load_split` (their pages are never touched, so
    they never count in this process's resident memory); the ``max_blocks`` most recently
    used blocks are kept. Resident memory is about ``max_blocks × block_rows`` rows
    (a Criteo row is 160 bytes). In-memory arrays are sliced instead.

    Each DataLoader worker keeps its own blocks: with ``num_workers > 0`` every worker
    reads the blocks its batches need.
    """

    def __init__(self, arrays: EncodedArrays, block_rows: int, max_blocks: int) -> None:
        if block_rows < 1 or max_blocks < 1:
            raise ValueError("block_rows and max_blocks must be >= 1")
        self.arrays = arrays
        self.block_rows = block_rows
        self.max_blocks = max_blocks
        self._columns = {"ids": arrays.ids, "numeric": arrays.numeric}
        if arrays.labels is not None:
            self._columns["label"] = arrays.labels
        if arrays.weights is not None:
            self._columns["weight"] = arrays.weights
        self._blocks: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()
        self._files: dict[str, int] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.arrays)

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes open their own files and keep their own blocks.
        return {**self.__dict__, "_blocks": OrderedDict(), "_files": {}}

    def __del__(self) -> None:
        self._close()

    def _close(self) -> None:
        if getattr(self, "_pid", None) == os.getpid():
            for fd in self._files.values():
                os.close(fd)
        self._files = {}

    def _descriptor(self, filename: str) -> int:
        if self._pid != os.getpid():  # forked after opening: the descriptors are the parent's
            self._files, self._pid = {}, os.getpid()
        if filename not in self._files:
            self._files[filename] = os.open(filename, os.O_RDONLY)
        return self._files[filename]

    def _read(self, column: np.ndarray, start: int, stop: int) -> np.ndarray:
        filename = getattr(column, "filename", None)
        if not isinstance(column, np.memmap) or filename is None:
            return np.array(column[start:stop])
        out = np.empty((stop - start, *column.shape[1:]), dtype=column.dtype)
        if out.nbytes == 0:
            return out
        position = column.offset + start * (out.nbytes // len(out))
        read_exactly(self._descriptor(filename), out, position, filename)
        return out

    def _block(self, block: int, keep: set[int]) -> dict[str, np.ndarray]:
        if block in self._blocks:
            self._blocks.move_to_end(block)
            return self._blocks[block]
        start = block * self.block_rows
        stop = min(start + self.block_rows, len(self))
        data = {name: self._read(column, start, stop) for name, column in self._columns.items()}
        self._blocks[block] = data
        for old in list(self._blocks):  # least recently used first; never one this batch needs
            if len(self._blocks) <= self.max_blocks:
                break
            if old not in keep:
                del self._blocks[old]
        return data

    def __getitem__(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = index.numpy()
        blocks = rows // self.block_rows
        needed = np.unique(blocks)
        keep = set(needed.tolist())
        if len(needed) == 1:  # the common case: one block, one gather per array
            block = int(needed[0])
            data = self._block(block, keep)
            local = rows - block * self.block_rows
            return {name: take_rows(array, local) for name, array in data.items()}
        batch = {
            name: np.empty((len(rows), *column.shape[1:]), dtype=column.dtype) for name, column in self._columns.items()
        }
        for block in needed.tolist():
            data = self._block(block, keep)
            mask = blocks == block
            local = rows[mask] - block * self.block_rows
            for name, array in data.items():
                batch[name][mask] = array[local]
        return {name: torch.from_numpy(array) for name, array in batch.items()}
