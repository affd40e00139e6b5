"""Sparse embedding tables: a training step updates only the rows its batch looked up.

With ``sparse=True`` the tables produce sparse gradients (``nn.Embedding(sparse=True)``),
the tables get a sparse optimizer (SparseAdam, Adagrad, SGD) and everything else the usual
one. Two optimizers need Lightning's manual optimization, and with it the learning-rate
schedules are stepped here, as Lightning would under automatic optimization.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch.optim import Optimizer


def embedding_tables(module: nn.Module) -> list[nn.Embedding]:
    """Every ``nn.Embedding`` inside ``module``."""
    return [m for m in module.modules() if isinstance(m, nn.Embedding)]


def split_table_parameters(module: nn.Module) -> tuple[list[Tensor], list[Tensor]]:
    """``(table weights, every other parameter)`` of ``module``."""
    tables = [t.weight for t in embedding_tables(module)]
    ids = {id(p) for p in tables}
    return tables, [p for p in module.parameters() if id(p) not in ids]


class SparseTables:
    """Mixin of :class:`~lit_ctr.models.CTRModule` for ``sparse=True``.

    The tables are switched to sparse gradients in ``configure_model`` (Lightning's hook
    for shaping the model before the optimizers are built; it runs once per ``fit``), so
    ``configure_optimizers`` only reads the model.
    """

    sparse: bool
    automatic_optimization: bool
    _schedules: list[dict[str, Any]]

    def configure_model(self) -> None:
        super().configure_model()  # type: ignore[misc]
        if self.sparse:
            for table in embedding_tables(self):  # type: ignore[arg-type]
                table.sparse = True

    def step_sparse_and_dense(self, objective: Tensor) -> None:
        """One manual step of every optimizer on ``objective``."""
        optimizers = self.optimizers()  # type: ignore[attr-defined]
        for optimizer in optimizers:
            optimizer.zero_grad()
        self.manual_backward(objective)  # type: ignore[attr-defined]
        for optimizer in optimizers:
            optimizer.step()

    def on_train_epoch_end(self) -> None:
        # Lightning steps schedules itself only under automatic optimization; with sparse
        # tables they are stepped here, once an epoch, after validation, alike.
        if self.automatic_optimization:
            return
        for config in self._schedules:
            if "monitor" not in config:
                config["scheduler"].step()
            elif (value := self.trainer.callback_metrics.get(config["monitor"])) is not None:  # type: ignore[attr-defined]
                config["scheduler"].step(value)


def optimizers_for(module: nn.Module, dense: Any, sparse: Any | None) -> list[Optimizer]:
    """``[dense(all parameters)]``, or ``[sparse(tables), dense(the rest)]`` when ``sparse`` is given."""
    if sparse is None:
        return [dense(module.parameters())]
    tables, rest = split_table_parameters(module)
    return [sparse(tables), dense(rest)]
