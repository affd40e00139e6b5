"""Training-time behaviour that is not a model's concern."""

from lit_ctr.callbacks.prediction_writer import PredictionWriter

__all__ = ["PredictionWriter"]
