"""The ``lit-ctr`` command line: a LightningCLI over every model and datamodule.

``lit-ctr fit|validate|test|predict --config configs/<dataset>/<model>.yaml``; models
and datamodules are named by class name (``--model FM``) or by class path for classes
of your own (``--model mypkg.MyModel``).
"""

from __future__ import annotations

import logging
import sys

from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI

import lit_ctr
import lit_ctr.data  # noqa: F401  (registers datamodules for short class names)
import lit_ctr.models  # noqa: F401  (registers models for short class names)
from lit_ctr.callbacks import PredictionWriter
from lit_ctr.data import CTRDataModule
from lit_ctr.models import CTRModule


class LitCtrCLI(LightningCLI):
    """LightningCLI with the data's sizes linked into the model and CTR defaults:
    checkpointing and early stopping on ``val/auc`` (max), and a prediction writer."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.field_dims", "model.init_args.field_dims", apply_on="instantiate")
        parser.link_arguments("data.num_numeric", "model.init_args.num_numeric", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/auc",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best",
                "checkpoint.save_last": True,
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        parser.add_lightning_class_args(EarlyStopping, "early_stopping")
        parser.set_defaults(
            {
                "early_stopping.monitor": "val/auc",
                "early_stopping.mode": "max",
                "early_stopping.patience": 2,
                "early_stopping.strict": False,
            }
        )
        parser.add_lightning_class_args(PredictionWriter, "predictions")

    def after_fit(self) -> None:
        best = self.trainer.checkpoint_callback.best_model_path if self.trainer.checkpoint_callback else ""
        if best and self.trainer.is_global_zero:
            score = self.trainer.checkpoint_callback.best_model_score
            print(f"lit-ctr: best checkpoint {best} (val/auc {float(score):.4f})" if score is not None else f"lit-ctr: best checkpoint {best}")


def _configure_logging() -> None:
    logger = logging.getLogger("lit_ctr")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(args: ArgsType = None) -> None:
    """Run the command line (``args`` for programmatic use and tests)."""
    build_cli(args)


def build_cli(args: ArgsType = None, run: bool = True) -> LitCtrCLI:
    """The CLI object itself, run or only instantiated (``run=False``)."""
    _configure_logging()
    return LitCtrCLI(
        model_class=CTRModule,
        datamodule_class=CTRDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        auto_configure_optimizers=False,
        seed_everything_default=0,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={"version": lit_ctr.__version__},
        args=args,
        run=run,
    )


if __name__ == "__main__":
    main()
