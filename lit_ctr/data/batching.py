"""Batches as one gather of an index range: no per-row ``__getitem__`` and no collate.

:class:`EncodedSplit` is a map-style dataset whose key is a whole tensor of row
indices; :class:`BatchIndexSampler` yields those tensors, a seeded permutation per
epoch cut into batches, and splits them between DDP ranks. The DataLoader runs with
``batch_size=None`` so each yielded batch is fetched with one gather per array.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from lit_ctr.data.encoding import EncodedArrays


class EncodedSplit(Dataset):
    """An encoded split indexed by batches of rows.

    ``split[index]`` with ``index`` a 1-D int64 tensor returns a dict of tensors:
    ``ids [B, F_cat]``, ``numeric [B, F_num]`` and, for labelled data, ``label [B]``.
    """

    def __init__(self, arrays: EncodedArrays) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = index.numpy()
        batch = {
            "ids": torch.from_numpy(np.ascontiguousarray(self.arrays.ids[rows])),
            "numeric": torch.from_numpy(np.ascontiguousarray(self.arrays.numeric[rows])),
        }
        if self.arrays.labels is not None:
            batch["label"] = torch.from_numpy(np.ascontiguousarray(self.arrays.labels[rows]))
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
                self.num_rows * (self.rank + 1) // self.num_replicas
                - self.num_rows * self.rank // self.num_replicas
            )
        return math.ceil(share / self.batch_size)
