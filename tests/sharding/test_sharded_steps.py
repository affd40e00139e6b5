"""Two gloo processes, no Lightning: how torchrec's planner places the tables, and that a
sharded DeepFM trains as the dense DeepFM under DDP does."""

from __future__ import annotations

from functools import partial

import pytest

pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")

from spawned import FIELD_DIMS, spawn, table_shards, train_dense, train_sharded  # noqa: E402

pytestmark = pytest.mark.slow  # each test spawns two processes that import torchrec: 30-70 s


def test_table_wise_plan_puts_every_table_whole_on_exactly_one_rank():
    ranks = spawn(partial(table_shards, sharding_types=["table_wise"]), port=29611)
    for table in ranks[0]:
        holders = [shards for shards in (ranks[0][table], ranks[1][table]) if shards]
        assert len(holders) == 1
        ((row, column, rows, columns),) = holders[0]
        field = int(table.rsplit("_", 1)[1].split(".")[0])
        assert (row, column, rows) == (0, 0, FIELD_DIMS[field])


def test_column_wise_plan_splits_columns_that_together_cover_each_table_once():
    ranks = spawn(partial(table_shards, sharding_types=["column_wise"]), port=29612)
    for table in ranks[0]:
        shards = ranks[0][table] + ranks[1][table]
        field = int(table.rsplit("_", 1)[1].split(".")[0])
        assert all(row == 0 and rows == FIELD_DIMS[field] for row, _, rows, _ in shards)
        columns = sorted((column, column + width) for _, column, _, width in shards)
        assert columns[0][0] == 0 and all(a[1] == b[0] for a, b in zip(columns, columns[1:]))


def test_sharded_deepfm_losses_match_the_dense_deepfm_under_ddp_step_by_step():
    sharded = spawn(train_sharded, port=29613)
    dense = spawn(train_dense, port=29614)
    for rank in range(2):
        assert sharded[rank] == pytest.approx(dense[rank], abs=1e-5)
