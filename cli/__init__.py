"""The ``lit-ctr`` command line: a LightningCLI over every model and datamodule.

``lit-ctr fit|validate|test|predict --config configs/<dataset>/<model>.yaml``; models
and datamodules are named by class name (``--model FM``) or by class path for classes
of your own (``--model mypkg.MyModel``). ``lit-ctr export --ckpt_path X --format
torchscript|onnx --output FILE`` writes a self-contained serving artifact
(:mod:`lit_ctr.export`).
"""

from __future__ import annotations

import logging
import os
import sys

from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.plugins.io import CheckpointIO

import lit_ctr
import lit_ctr.data  # noqa: F401  (registers datamodules for short class names)
import lit_ctr.models  # noqa: F401  (registers models for short class names)
from lit_ctr.callbacks import (
    AtomicCheckpointIO,
    BestAndLastCheckpoint,
    EvaluationPlots,
    FiniteLossGuard,
    FreezeGarbageCollection,
    LearningRateLogger,
    LoggedSaveConfigCallback,
    NaNSkippingEarlyStopping,
    PredictionWriter,
    SamplesPerSecondMonitor,
    SamplesPerSecondProgressBar,
)
from lit_ctr.callbacks.finite_guard import NonFiniteLossError, NonFiniteWeightsError
from lit_ctr.data import CTRDataModule, DataError
from lit_ctr.data.inference import complete_data_config
from lit_ctr.models import CTRModule
from lit_ctr.models.fm_phase import FMPretraining, fm_phase_before_fit

FM_PRETRAINING_HELP = "FNN only: train an FM on the same data first and start FNN from its vectors (null: no FM phase)"


class LitCtrCLI(LightningCLI):
    """LightningCLI with the data's sizes linked into the model and CTR defaults:
    checkpointing and early stopping on ``val/auc`` (max), and a prediction writer."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.field_dims", "model.init_args.field_dims", apply_on="instantiate")
        parser.link_arguments("data.num_numeric", "model.init_args.num_numeric", apply_on="instantiate")
        parser.add_lightning_class_args(BestAndLastCheckpoint, "checkpoint")  # last.ckpt: every epoch
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/auc",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best",
                "checkpoint.save_last": True,
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        # A NaN val/auc (one class in the split) is skipped, not taken as "no better" (docs/models).
        parser.add_lightning_class_args(NaNSkippingEarlyStopping, "early_stopping")
        parser.set_defaults(
            {
                "early_stopping.monitor": "val/auc",
                "early_stopping.mode": "max",
                "early_stopping.patience": 2,
                "early_stopping.strict": False,
            }
        )
        parser.add_lightning_class_args(PredictionWriter, "predictions")
        # A NaN or infinite loss stops training; no checkpoint with NaN weights is written.
        parser.add_lightning_class_args(FiniteLossGuard, "finite_loss_guard")
        # Every run logs throughput and the learning rate; `lit-ctr test` draws the plots.
        parser.add_lightning_class_args(SamplesPerSecondMonitor, "throughput")
        parser.add_lightning_class_args(LearningRateLogger, "lr_logger")
        parser.add_lightning_class_args(EvaluationPlots, "plots")
        # No full garbage collection in the middle of training steps (its docstring has the numbers).
        parser.add_lightning_class_args(FreezeGarbageCollection, "gc_freeze")
        # FNN's FM phase: an FM fit on the same data before FNN's (lit_ctr.models.fm_phase, docs/fnn.md).
        parser.add_argument("--fm_pretraining", type=FMPretraining | None, default=None, help=FM_PRETRAINING_HELP)

    def before_fit(self) -> None:
        """With an FNN and ``fm_pretraining``, fit its FM first; FNN starts from the FM's best checkpoint."""
        config = self.config_init[self.subcommand]
        trainer_args = dict(vars(config["trainer"]))
        config["ckpt_path"] = fm_phase_before_fit(
            self.model,
            self.datamodule,
            self.trainer,
            config.get("fm_pretraining"),
            trainer_args,
            config.get("ckpt_path"),
        )

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        complete_data_config(config)  # schema.fields inferred when not given (saved in config.yaml)

    def instantiate_trainer(self, **kwargs):  # noqa: ANN003, ANN201 - LightningCLI's signature
        """The trainer, with the samples/s progress bar unless bars are off or one is configured,
        and atomic checkpoint writes unless a CheckpointIO plugin is configured."""
        config = self._get(self.config_init, "trainer", default={}) or {}
        callbacks = list(kwargs.get("callbacks", config.get("callbacks") or []))
        if config.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in callbacks):
            kwargs["callbacks"] = [*callbacks, SamplesPerSecondProgressBar()]
        # Checkpoints are written atomically unless a CheckpointIO plugin is configured.
        plugins = kwargs.get("plugins", config.get("plugins"))
        plugins = list(plugins) if isinstance(plugins, (list, tuple)) else [] if plugins is None else [plugins]
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            kwargs["plugins"] = [*plugins, AtomicCheckpointIO()]
        return super().instantiate_trainer(**kwargs)

    def after_fit(self) -> None:
        best = self.trainer.checkpoint_callback.best_model_path if self.trainer.checkpoint_callback else ""
        if best and self.trainer.is_global_zero:
            score = self.trainer.checkpoint_callback.best_model_score
            print(
                f"lit-ctr: best checkpoint {best} (val/auc {float(score):.4f})"
                if score is not None
                else f"lit-ctr: best checkpoint {best}"
            )


DESCRIPTION = (
    "lit-ctr: CTR models of the factorization-machine family on PyTorch Lightning. "
    "Trainer commands: fit, validate, test, predict (below). "
    "Also: lit-ctr schema FILE --label COLUMN prints the schema inferred from a file "
    "(fit infers it too when data.schema.fields is left out); lit-ctr export --ckpt_path X --format torchscript|onnx --output FILE "
    "writes the model, vocabulary and preprocessing into one file for lit_ctr.load_predictor "
    "(see lit-ctr export --help)."
)


def _configure_logging() -> None:
    logger = logging.getLogger("lit_ctr")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(args: ArgsType = None) -> None:
    """Run the command line (``args`` for programmatic use and tests)."""
    argv = sys.argv[1:] if args is None else args
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "export":  # not a Trainer command
        from lit_ctr.export import main as export_main

        _configure_logging()
        export_main(list(argv[1:]))
        return
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "schema":  # prints a data config, trains nothing
        from lit_ctr.data.inference import main as schema_main

        schema_main(list(argv[1:]))
        return
    build_cli(args)


def console_main() -> None:
    """The ``lit-ctr`` executable: :func:`main`, with bad input ended by one located
    ``lit-ctr: error: ...`` line on stderr and exit status 2, and a non-finite loss or
    weights by the guard's message and exit status 1. ``LIT_CTR_TRACEBACK=1`` shows the
    traceback instead."""
    try:
        main()
    except (DataError, NonFiniteLossError, NonFiniteWeightsError) as error:
        if os.environ.get("LIT_CTR_TRACEBACK", "") not in ("", "0"):
            raise
        message = str(error).removeprefix("lit-ctr: ")
        print(f"lit-ctr: error: {message}", file=sys.stderr)
        sys.exit(2 if isinstance(error, DataError) else 1)


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
        save_config_callback=LoggedSaveConfigCallback,
        parser_kwargs={"version": lit_ctr.__version__, "description": DESCRIPTION},
        args=args,
        run=run,
    )


if __name__ == "__main__":
    console_main()
