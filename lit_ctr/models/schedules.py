"""Learning-rate schedules in Lightning's scheduler config."""

from __future__ import annotations

from typing import Any

import torch

from lit_ctr.errors import ConfigError


def schedule_config(scheduler: Any) -> dict[str, Any]:
    """Lightning's scheduler config: stepped once an epoch; a ``ReduceLROnPlateau`` watches
    ``val/auc`` (or its own ``monitor``), which must be maximized."""
    config = {"scheduler": scheduler, "interval": "epoch"}
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        monitor = getattr(scheduler, "monitor", None) or "val/auc"
        if monitor.endswith("/auc") and scheduler.mode != "max":
            raise ConfigError(
                f"model.lr_scheduler: ReduceLROnPlateau watches {monitor!r}, where higher is better: set mode: max"
            )
        config["monitor"] = monitor
    return config
