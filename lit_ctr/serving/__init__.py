"""``lit-ctr serve``: an HTTP scoring service for an exported artifact or a checkpoint.

Built on LitServe (``pip install 'lit-ctr[serve]'``): ``POST /predict`` with
``{"rows": [{field: value, ...}, ...]}`` answers ``{"probabilities": [...]}`` in the rows'
order; ``GET /health`` answers ``ok`` once the model is loaded. See :mod:`lit_ctr.serving.rows`
for what a request may hold, :mod:`lit_ctr.serving.api` for the LitServe API and
:mod:`lit_ctr.serving.command` for the command.
"""

from lit_ctr.serving.rows import RequestError, check_rows

__all__ = ["RequestError", "check_rows"]
