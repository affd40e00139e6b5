"""The ``lit-ctr`` command line: a LightningCLI over every model and datamodule.

``lit-ctr fit|validate|test|predict --config configs/<dataset>/<model>.yaml``; models
and datamodules are named by class name (``--model FM``) or by class path for classes
of your own (``--model mypkg.MyModel``). ``lit-ctr export --ckpt_path X --format
torchscript|onnx --output FILE`` writes a self-contained serving artifact
(:mod:`lit_ctr.export`).
"""

from __future__ import annotations

import logging
import sys

from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from lit_ctr.cli.checkpoints import apply_checkpoint
from lit_ctr.cli.errors import (
    DEBUG_FLAG,
    PREFIX,
    OneLineLightningParser,
    config_error_from,
    debug_requested,
    user_error,
)
from lit_ctr.cli.signals import SignalWatch, Terminated

import lit_ctr
import lit_ctr.data  # noqa: F401  (registers datamodules for short class names)
import lit_ctr.models  # noqa: F401  (registers models for short class names)
from lit_ctr.callbacks import (
    AtomicCheckpointIO,
    BestAndLastCheckpoint,
    EvaluationPlots,
    FiniteLossGuard,
    LearningRateLogger,
    LoggedSaveConfigCallback,
    PredictionWriter,
    SamplesPerSecondProgressBar,
    ThroughputMonitor,
)
from lit_ctr.callbacks.finite_guard import NonFiniteLossError, NonFiniteWeightsError
from lit_ctr.data import CTRDataModule
from lit_ctr.errors import ConfigError, LitCtrError
from lit_ctr.models import CTRModule


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
        # A NaN or infinite loss stops training; no checkpoint with NaN weights is written.
        parser.add_lightning_class_args(FiniteLossGuard, "finite_loss_guard")
        # Every run logs throughput and the learning rate; `lit-ctr test` draws the plots.
        parser.add_lightning_class_args(ThroughputMonitor, "throughput")
        parser.add_lightning_class_args(LearningRateLogger, "lr_logger")
        parser.add_lightning_class_args(EvaluationPlots, "plots")

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

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        try:
            super().parse_arguments(parser, args)
        except UnicodeDecodeError as error:  # jsonargparse reads --config files as UTF-8 text
            raise ConfigError(
                f"--config: expected a YAML or JSON text file, found a byte that is not UTF-8 text "
                f"(0x{error.object[error.start]:02x} at byte {error.start}); is it a checkpoint or a data file?"
            ) from None

    def _parse_ckpt_path(self) -> None:
        # Lightning 2.6's LightningCLI._parse_ckpt_path (no public hook replaces it) loads
        # --ckpt_path with torch.load and parses the class path the file names, which would
        # import a module a downloaded checkpoint chooses and silently swap --model for the
        # checkpoint's class. before_instantiate_classes does it through lit_ctr.checkpoint.
        return

    def before_instantiate_classes(self) -> None:
        # --- lit-ctr's checks (the cli helper): --ckpt_path resolved ("last" -> a file),
        # read safely, its model class checked against --model, its hyper-parameters taken.
        if self.subcommand is not None:
            apply_checkpoint(self.config, self.subcommand)
        # --- the data module's settings derived from the config (below this line).

    def instantiate_classes(self) -> None:
        """Build the classes; an error a class raises on the user's values becomes one LitCtrError."""
        try:
            super().instantiate_classes()
        except LitCtrError:
            raise
        except MisconfigurationException as error:  # the Trainer's arguments
            raise ConfigError(f"trainer: {error}") from error
        except Exception as error:
            found = config_error_from(error)
            if found is None:
                raise
            raise found from None

    def after_fit(self) -> None:
        callback = self.trainer.checkpoint_callback
        best = callback.best_model_path if isinstance(callback, ModelCheckpoint) else ""
        if isinstance(callback, ModelCheckpoint) and best and self.trainer.is_global_zero:
            score = callback.best_model_score
            print(
                f"lit-ctr: best checkpoint {best} (val/auc {float(score):.4f})"
                if score is not None
                else f"lit-ctr: best checkpoint {best}"
            )


DESCRIPTION = (
    "lit-ctr: CTR models of the factorization-machine family on PyTorch Lightning. "
    "Trainer commands: fit, validate, test, predict (below). "
    "Also: lit-ctr export --ckpt_path X --format torchscript|onnx --output FILE "
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
    """Run the command line (``args`` for programmatic use and tests).

    Raises:
        LitCtrError: bad input (a file, value, option or checkpoint), with a located message.
    """
    argv = sys.argv[1:] if args is None else args
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "export":  # not a Trainer command
        from lit_ctr.export import main as export_main

        _configure_logging()
        export_main(list(argv[1:]))
        return
    build_cli(args)


def _strip_debug(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` without ``--debug`` (Lightning's parser does not know it), and whether it was there."""
    kept = [a for a in argv if a != "--debug"]
    return kept, len(kept) != len(argv)


def console_main() -> None:
    """The ``lit-ctr`` executable: :func:`main`, with every mistake a user can make ended by one
    ``lit-ctr: error: <file or key>: <what was expected>`` line on stderr and exit status 2, a
    non-finite loss or weights by the guard's message and status 1, SIGTERM by status 143 and
    SIGINT by 130. ``--debug`` or ``LIT_CTR_TRACEBACK=1`` shows the traceback instead."""
    argv, DEBUG_FLAG["on"] = _strip_debug(sys.argv[1:])
    try:
        _run_console(argv)
    finally:
        DEBUG_FLAG["on"] = False


def _run_console(argv: list[str]) -> None:
    with SignalWatch() as signals:
        try:
            sys.argv[1:] = argv  # Lightning's parser reads sys.argv
            main()
        except (SystemExit, KeyboardInterrupt, Terminated):
            if signals.received is None:
                raise
            _stop(signals.message(), signals.status)
        except BaseException as error:
            if debug_requested():
                raise
            if signals.received is not None:
                _stop(signals.message(), signals.status)
            if isinstance(error, (NonFiniteLossError, NonFiniteWeightsError)):
                _stop(str(error).removeprefix("lit-ctr: "), 1)
            found = user_error(error)
            if found is None:
                raise
            _stop(str(found).removeprefix("lit-ctr: "), 2)


def _stop(message: str, status: int) -> None:
    print(PREFIX + " ".join(message.split()), file=sys.stderr)
    sys.exit(status)


def build_cli(args: ArgsType = None, run: bool = True) -> LitCtrCLI:
    """The CLI object itself, run or only instantiated (``run=False``)."""
    _configure_logging()
    try:
        return _build(args, run)
    except LitCtrError:
        raise
    except ValueError as error:
        # torch.optim checks its arguments only when the Trainer builds the optimizer, after
        # the config is parsed: name the key that holds them.
        if not _raised_in(error, "configure_optimizers"):
            raise
        message = f"model.{error}" if str(error).startswith("lr_scheduler") else f"model.optimizer: {error}"
        raise ConfigError(message) from error


def _raised_in(error: BaseException, function: str) -> bool:
    """Whether ``error`` was raised inside a call of ``function`` (by the name of its code)."""
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name == function:
            return True
        traceback = traceback.tb_next
    return False


def _build(args: ArgsType, run: bool) -> LitCtrCLI:
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
        parser_class=OneLineLightningParser,
        args=args,
        run=run,
    )


if __name__ == "__main__":
    console_main()
