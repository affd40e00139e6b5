"""Every shipped config builds its model and data: synthetic ones on a few generated
rows; frappe/criteo ones on the shared data (``../shared/data``), or parsed only where
that folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from lit_ctr.cli import LitCtrCLI, build_cli

from lit_ctr.models import CTRModule

REPO = Path(__file__).resolve().parents[2]
# configs/models and configs/data are halves, composed in tests/test_configs_compose.py;
# configs/sweeps are in W&B's format.
CONFIGS = sorted(p for p in REPO.glob("configs/*/*.yaml") if p.parent.name not in ("models", "data", "sweeps"))
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """One encoded cache for the module: the configs of a folder share their data."""
    return tmp_path_factory.mktemp("config-cache")


def config_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_config_builds_its_model(config, cache_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # data paths in configs are relative to the repository root
    args = [
        "--config", str(config),
        "--data.init_args.cache_dir", str(cache_dir),
        "--trainer.logger.init_args.save_dir", str(tmp_path),
    ]  # fmt: skip
    if config.parent.name == "synthetic":
        args += ["--data.init_args.rows", "2000", "--data.init_args.data_dir", str(cache_dir / "synthetic")]
    elif not SHARED_DATA.is_dir():
        monkeypatch.setattr(LitCtrCLI, "instantiate_classes", lambda self: None)
        cli = build_cli(args, run=False)
        assert cli.config["model"]["class_path"].startswith("lit_ctr.models.")
        return
    cli = build_cli(args, run=False)
    assert isinstance(cli.model, CTRModule)
    assert cli.model.hparams["field_dims"] == cli.datamodule.field_dims
