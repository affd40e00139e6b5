"""What a user hears when sharded tables are asked for wrongly: one ConfigError naming the key."""

from __future__ import annotations

import sys

import pytest
import torch

from lit_ctr.errors import ConfigError
from lit_ctr.models import DeepFM


def test_sharded_embedding_without_torchrec_installed_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchrec", None)  # import torchrec fails as when it is not installed
    with pytest.raises(ConfigError) as error:
        DeepFM([3, 4], embedding="sharded")
    message = str(error.value)
    assert message.startswith("model.embedding: 'sharded' needs torchrec")
    assert 'pip install -e ".[torchrec]" && pip install --no-deps torchrec==1.8.0' in message


def test_an_embedding_kind_other_than_dense_or_sharded_is_refused():
    with pytest.raises(ConfigError, match=r"^model.embedding: expected 'dense' or 'sharded', got 'tiled'$"):
        DeepFM([3, 4], embedding="tiled")  # type: ignore[arg-type]


def test_sharded_embedding_with_sparse_tables_is_refused():
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    with pytest.raises(ConfigError, match=r"^model.sparse: expected false with embedding 'sharded'"):
        DeepFM([3, 4], embedding="sharded", sparse=True)


def test_sharded_embedding_with_multi_valued_fields_is_refused():
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    with pytest.raises(ConfigError, match=r"^model.embedding: 'sharded' takes single-valued categorical fields only"):
        DeepFM([3, 4], embedding="sharded", multi_fields=[{"max_len": 3, "pooling": "mean"}])


def test_sharded_embedding_without_categorical_fields_is_refused():
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    with pytest.raises(ConfigError, match=r"^model.embedding: 'sharded' needs at least one categorical field"):
        DeepFM([], num_numeric=3, embedding="sharded")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"memory_budget_mb": 0}, r"^trainer.strategy.memory_budget_mb: expected a number > 0, got 0$"),
        ({"table_optimizer": "lamb"}, r"^trainer.strategy.table_optimizer: expected one of \['adagrad', "),
    ],
)
def test_torchrec_strategy_refuses_options_outside_their_range(options, message):
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    from lit_ctr.sharding import TorchrecStrategy

    with pytest.raises(ConfigError, match=message):
        TorchrecStrategy(**options)


def test_a_sharding_type_torchrec_lacks_on_cpu_is_refused_naming_the_ones_it_has():
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    from lit_ctr.sharding.plan import plan_tables

    model = DeepFM([3, 4], embedding="sharded")
    with pytest.raises(ConfigError, match=r"^trainer.strategy.sharding_types: expected a non-empty list of \["):
        plan_tables(model, [], "cpu", 2, None, ["row_wise"])


def test_torchrec_strategy_on_a_model_with_dense_tables_says_to_set_embedding_sharded():
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    from lit_ctr.sharding.plan import shard_model

    with pytest.raises(ConfigError, match=r"^trainer.strategy: .*model.init_args.embedding: sharded"):
        shard_model(DeepFM([3, 4]), torch.device("cpu"), 2, None, ["table_wise"], {})


@pytest.fixture
def one_rank_group():
    """A gloo process group of this process alone (the planner plans in one)."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29655", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_tables_larger_than_the_memory_budget_are_a_config_error_naming_the_budget(one_rank_group):
    pytest.importorskip("torchrec", reason="the torchrec extra (docs/scaling.md)")
    from lit_ctr.sharding.plan import shard_model

    model = DeepFM([100_000, 50_000], embed_dim=16, embedding="sharded")  # ~9 MiB of vectors, + Adagrad state
    with pytest.raises(ConfigError, match=r"^trainer.strategy.memory_budget_mb: the embedding tables do not fit 2"):
        shard_model(model, torch.device("cpu"), 1, 2, ["table_wise"], {})
