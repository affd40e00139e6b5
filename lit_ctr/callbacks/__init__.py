"""Training-time behaviour that is not a model's concern."""

from lit_ctr.callbacks.checkpointing import AtomicCheckpointIO, BestAndLastCheckpoint
from lit_ctr.callbacks.early_stopping import NaNSkippingEarlyStopping
from lit_ctr.callbacks.evaluation_plots import EvaluationPlots
from lit_ctr.callbacks.finite_guard import FiniteLossGuard, NonFiniteLossError, NonFiniteWeightsError
from lit_ctr.callbacks.garbage_collection import FreezeGarbageCollection
from lit_ctr.callbacks.learning_rate import LearningRateLogger
from lit_ctr.callbacks.prediction_writer import PredictionWriter
from lit_ctr.callbacks.progress import SamplesPerSecondProgressBar
from lit_ctr.callbacks.run_config import LoggedSaveConfigCallback
from lit_ctr.callbacks.throughput import SamplesPerSecondMonitor

__all__ = [
    "AtomicCheckpointIO",
    "BestAndLastCheckpoint",
    "EvaluationPlots",
    "FiniteLossGuard",
    "FreezeGarbageCollection",
    "LearningRateLogger",
    "LoggedSaveConfigCallback",
    "NaNSkippingEarlyStopping",
    "NonFiniteLossError",
    "NonFiniteWeightsError",
    "PredictionWriter",
    "SamplesPerSecondMonitor",
    "SamplesPerSecondProgressBar",
]
