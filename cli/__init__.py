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

from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
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
import lit_ctr.data.datamodule  # noqa: F401  (registers CTRDataModule for short class names)
import lit_ctr.models  # noqa: F401  (registers models for short class names)
import lit_ctr.synthetic.datamodule  # noqa: F401  (and SyntheticCTRDataModule: lit_ctr.data imports both lazily)
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
    WandbRunSetup,
)
from lit_ctr.callbacks._common import keep_checkpoint_dirpath, log_evaluation_into_its_run
from lit_ctr.callbacks.finite_guard import NonFiniteLossError, NonFiniteWeightsError
from lit_ctr.callbacks.wandb_run import apply_wandb_run_defaults
from lit_ctr.data import CTRDataModule
from lit_ctr.data.inference import complete_data_config
from lit_ctr.errors import ConfigError, LitCtrError
from lit_ctr.models import CTRModule
from lit_ctr.models.fm_phase import FMPretraining, fm_phase_before_fit

FM_PRETRAINING_HELP = "FNN only: train an FM on the same data first and start FNN from its vectors (null: no FM phase)"


class LitCtrCLI(LightningCLI):
    """LightningCLI with the data's sizes linked into the model and CTR defaults:
    checkpointing and early stopping on ``val/auc`` (max), and a prediction writer."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.field_dims", "model.init_args.field_dims", apply_on="instantiate")
        parser.link_arguments("data.num_numeric", "model.init_args.num_numeric", apply_on="instantiate")
        parser.link_arguments("data.multi_fields", "model.init_args.multi_fields", apply_on="instantiate")
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
        parser.add_lightning_class_args(WandbRunSetup, "wandb")  # best-value summaries; nothing without W&B
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
        """Complete the config before anything is built, in this order:

        1. ``--ckpt_path``: resolved (``last`` → the run's newest ``last.ckpt``), read safely,
           its model class checked against ``--model`` and its hyper-parameters taken;
        2. ``validate``/``test``/``predict`` with a checkpoint encode rows with the
           checkpoint's schema and vocabulary (``data.preprocessing_from``);
        3. ``schema.fields`` inferred from the training file when not given (so
           ``config.yaml`` holds them);
        4. a W&B logger without a name, group or tags gets ones saying model, data and seed.
        """
        if self.subcommand is not None:
            apply_checkpoint(self.config, self.subcommand)
        _preprocessing_from_checkpoint(self.config, self.subcommand)
        log_evaluation_into_its_run(self.config, self.subcommand)  # <run>/<subcommand>, not a new version_N
        config = self.config[self.subcommand] if self.subcommand else self.config
        complete_data_config(config)
        apply_wandb_run_defaults(config, self.subcommand)

    def before_validate(self) -> None:
        keep_checkpoint_dirpath(self.trainer, self.config_init[self.subcommand].get("ckpt_path"))

    def before_test(self) -> None:
        keep_checkpoint_dirpath(self.trainer, self.config_init[self.subcommand].get("ckpt_path"))

    def before_predict(self) -> None:
        keep_checkpoint_dirpath(self.trainer, self.config_init[self.subcommand].get("ckpt_path"))

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


def _preprocessing_from_checkpoint(config, subcommand: str | None) -> None:  # noqa: ANN001 - a jsonargparse Namespace
    """Set the data's ``preprocessing_from`` to the evaluation checkpoint, when the data class takes it."""
    if subcommand not in ("validate", "test", "predict"):
        return
    section = config[subcommand]
    ckpt_path = section.get("ckpt_path")
    data = section.get("data")
    if not ckpt_path or ckpt_path in ("best", "last", "hpc", "registry") or data is None or "class_path" not in data:
        return
    import importlib
    import inspect

    module, _, name = str(data["class_path"]).rpartition(".")
    try:
        data_class = getattr(importlib.import_module(module), name) if module else getattr(lit_ctr.data, name)
    except (ImportError, AttributeError):
        return  # jsonargparse has resolved it already; nothing to do for an unknown class
    if "preprocessing_from" in inspect.signature(data_class).parameters and not data["init_args"].get(
        "preprocessing_from"
    ):
        data["init_args"]["preprocessing_from"] = str(ckpt_path)


DESCRIPTION = (
    "lit-ctr: CTR models of the factorization-machine family on PyTorch Lightning. "
    "Trainer commands: fit, validate, test, predict (below). "
    "Also: lit-ctr schema FILE --label COLUMN prints the schema inferred from a file "
    "(fit infers it too when data.schema.fields is left out); lit-ctr export --ckpt_path X --format torchscript|onnx --output FILE "
    "writes the model, vocabulary and preprocessing into one file for lit_ctr.load_predictor "
    "(see lit-ctr export --help). "
    "lit-ctr serve --artifact FILE --port 8000 serves it over HTTP (see lit-ctr serve --help). "
    "lit-ctr tune --sweep configs/sweeps/fm.yaml searches hyper-parameters with Optuna (lit-ctr tune --help)."
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
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "schema":  # prints a data config, trains nothing
        from lit_ctr.data.inference import main as schema_main

        schema_main(list(argv[1:]))
        return
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "serve":  # an HTTP service, not a Trainer command
        from lit_ctr.serving.command import main as serve_main

        _configure_logging()
        serve_main(list(argv[1:]))
        return
    if isinstance(argv, (list, tuple)) and argv and argv[0] == "tune":  # Optuna over a sweep file
        from lit_ctr.tune import main as tune_main

        _configure_logging()
        tune_main(list(argv[1:]))
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
