import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lit_ctr.data.batching import BatchIndexSampler, EncodedSplit
from lit_ctr.data.encoding import EncodedArrays


def epoch_rows(sampler: BatchIndexSampler, epoch: int = 0) -> list[int]:
    sampler.set_epoch(epoch)
    return torch.cat(list(sampler)).tolist() if len(sampler) else []


def test_shuffled_epoch_yields_every_row_exactly_once():
    sampler = BatchIndexSampler(103, 10, shuffle=True, seed=7)
    assert sorted(epoch_rows(sampler)) == list(range(103))


def test_shuffled_order_differs_between_epochs():
    sampler = BatchIndexSampler(100, 10, shuffle=True, seed=7)
    assert epoch_rows(sampler, 0) != epoch_rows(sampler, 1)


def test_same_epoch_gives_the_same_order_twice():
    sampler = BatchIndexSampler(100, 10, shuffle=True, seed=7)
    first = epoch_rows(sampler, 3)
    epoch_rows(sampler, 4)
    assert epoch_rows(sampler, 3) == first
    assert epoch_rows(BatchIndexSampler(100, 10, shuffle=True, seed=7), 3) == first


def test_different_seeds_give_different_orders():
    assert epoch_rows(BatchIndexSampler(100, 10, shuffle=True, seed=1)) != epoch_rows(
        BatchIndexSampler(100, 10, shuffle=True, seed=2)
    )


def test_shuffled_batches_are_sorted_within_and_not_in_row_order_across():
    batches = list(BatchIndexSampler(200, 20, shuffle=True, seed=0))
    assert all(torch.equal(b, b.sort().values) for b in batches)
    assert torch.cat(batches).tolist() != list(range(200))


def test_batches_hold_batch_size_rows_except_the_last():
    sizes = [len(b) for b in BatchIndexSampler(25, 10, shuffle=True)]
    assert sizes == [10, 10, 5]


@settings(max_examples=60, deadline=None)
@given(
    num_rows=st.integers(0, 300),
    batch_size=st.integers(1, 64),
    epoch=st.integers(0, 5),
    seed=st.integers(0, 2**31),
)
def test_two_replicas_get_disjoint_equal_shares_covering_all_but_the_remainder(num_rows, batch_size, epoch, seed):
    ranks = [
        epoch_rows(BatchIndexSampler(num_rows, batch_size, shuffle=True, seed=seed, num_replicas=2, rank=r), epoch)
        for r in range(2)
    ]
    assert len(ranks[0]) == len(ranks[1]) == num_rows // 2
    assert not set(ranks[0]) & set(ranks[1])
    assert len(set(ranks[0]) | set(ranks[1])) >= num_rows - num_rows % 2
    assert set(ranks[0]) | set(ranks[1]) <= set(range(num_rows))


@settings(max_examples=60, deadline=None)
@given(num_rows=st.integers(0, 300), batch_size=st.integers(1, 64), world=st.integers(1, 5))
def test_evaluation_covers_every_row_once_in_order_across_ranks(num_rows, batch_size, world):
    rows = []
    for rank in range(world):
        rows += epoch_rows(BatchIndexSampler(num_rows, batch_size, shuffle=False, num_replicas=world, rank=rank))
    assert rows == list(range(num_rows))


@settings(max_examples=80, deadline=None)
@given(
    num_rows=st.integers(0, 300),
    batch_size=st.integers(1, 64),
    world=st.integers(1, 4),
    shuffle=st.booleans(),
    data=st.data(),
)
def test_len_equals_the_number_of_batches_yielded(num_rows, batch_size, world, shuffle, data):
    rank = data.draw(st.integers(0, world - 1))
    sampler = BatchIndexSampler(num_rows, batch_size, shuffle=shuffle, num_replicas=world, rank=rank)
    assert len(sampler) == len(list(sampler))


def test_sampler_yields_int64_index_tensors():
    batch = next(iter(BatchIndexSampler(10, 4, shuffle=False)))
    assert batch.dtype == torch.int64
    assert batch.tolist() == [0, 1, 2, 3]


@pytest.fixture
def arrays() -> EncodedArrays:
    return EncodedArrays(
        ids=np.arange(30, dtype=np.int32).reshape(10, 3),
        numeric=np.arange(20, dtype=np.float32).reshape(10, 2) / 2,
        labels=(np.arange(10) % 2).astype(np.float32),
    )


def test_encoded_split_gathers_a_batch_of_rows(arrays):
    batch = EncodedSplit(arrays)[torch.tensor([7, 2, 5])]
    assert batch["ids"].shape == (3, 3) and batch["ids"].dtype == torch.int32
    assert batch["numeric"].shape == (3, 2) and batch["numeric"].dtype == torch.float32
    assert batch["label"].shape == (3,) and batch["label"].dtype == torch.float32
    assert batch["ids"].tolist() == [[21, 22, 23], [6, 7, 8], [15, 16, 17]]
    assert batch["numeric"][0].tolist() == [7.0, 7.5]
    assert batch["label"].tolist() == [1.0, 0.0, 1.0]


def test_encoded_split_without_labels_has_no_label_key(arrays):
    split = EncodedSplit(EncodedArrays(arrays.ids, arrays.numeric, None))
    assert set(split[torch.tensor([0, 1])]) == {"ids", "numeric"}


def test_encoded_split_reads_memory_mapped_arrays(tmp_path, arrays):
    from lit_ctr.data.cache import load_split, save_split

    save_split(tmp_path / "train", arrays)
    split = EncodedSplit(load_split(tmp_path / "train"))
    assert len(split) == 10
    batch = split[torch.tensor([9, 0])]
    assert batch["ids"].tolist() == [[27, 28, 29], [0, 1, 2]]
    batch["ids"] += 1  # a batch is a copy, safe to modify
    assert split.arrays.ids[9, 0] == 27
