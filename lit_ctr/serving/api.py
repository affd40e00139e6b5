"""The LitServe API that scores rows: decode a request, score a batch, answer in order.

LitServe runs :class:`ScoringAPI` in a worker process: ``setup`` loads the model once;
with ``max_batch_size > 1`` it gathers up to that many requests (waiting at most
``batch_timeout`` seconds) and ``predict`` scores all their rows in one pass. A request
the service cannot score is answered on its own with 422 and its reason; the other
requests of its batch are scored as usual (LitServe would fail the whole batch for an
exception, so a bad request travels through the batch as a :class:`Rejected`).
"""

# No `from __future__ import annotations`: LitServe hands decode_request's annotation to
# FastAPI, which must see the ScoreRequest class itself to read the body as JSON.
import re
from dataclasses import dataclass
from typing import Any

import litserve
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse

from lit_ctr.errors import LitCtrError
from lit_ctr.serving.rows import RequestError, check_rows


class ScoreRequest(BaseModel):
    """The request body: ``{"rows": [{field: value, ...}, ...]}``. FastAPI parses it, so a
    body that is not a JSON object is answered 422 before it reaches the model; the rows
    themselves are checked against the schema by :func:`~lit_ctr.serving.rows.check_rows`."""

    model_config = ConfigDict(extra="allow")
    rows: Any = None


@dataclass
class Rejected:
    """A request that gets ``status`` and ``detail`` instead of probabilities."""

    detail: str
    status: int = 422


class ScoringAPI(litserve.LitAPI):
    """Click probabilities for raw rows, from ``lit_ctr.load_predictor(artifact)``.

    Args:
        artifact: an exported model (``.onnx``, ``.pt``) or a lit-ctr checkpoint.
        max_batch_size: requests scored together (1: each request alone; its rows are
            still scored as one batch).
        batch_timeout: seconds to wait for a batch to fill.
    """

    def __init__(self, artifact: str, max_batch_size: int = 1, batch_timeout: float = 0.0) -> None:
        super().__init__(max_batch_size=max_batch_size, batch_timeout=batch_timeout, api_path="/predict")
        self.artifact = artifact
        self.predictor: Any = None

    def setup(self, device: str) -> None:
        from lit_ctr.predictor import load_predictor

        self.predictor = load_predictor(self.artifact)
        schema = self.predictor.schema
        self.fields = [f.name for f in schema.fields]
        self.label = schema.label
        self.multi = [f.name for f in schema.multi]

    def decode_request(self, request: ScoreRequest) -> list[dict[str, Any]] | Rejected:
        body = request.model_dump(exclude_unset=True) if isinstance(request, BaseModel) else request
        try:
            return check_rows(body, self.fields, self.label, multi=self.multi)
        except RequestError as error:
            return Rejected(str(error))

    def batch(self, inputs: list[Any]) -> list[Any]:
        return list(inputs)

    def predict(self, requests: Any) -> list[Any]:
        """Probabilities per request (a list of floats, or the request's :class:`Rejected`)."""
        if self.max_batch_size == 1:  # LitServe passes the one request itself, not a list
            return self._score([requests])[0]
        return self._score(list(requests))

    def unbatch(self, output: list[Any]) -> list[Any]:
        return list(output)

    def encode_response(self, output: Any) -> Any:
        if isinstance(output, Rejected):
            return JSONResponse(status_code=output.status, content={"detail": output.detail})
        return {"probabilities": output}

    def _score(self, requests: list[Any]) -> list[Any]:
        results: list[Any] = list(requests)
        valid = [i for i, r in enumerate(requests) if not isinstance(r, Rejected)]
        rows = [row for i in valid for row in requests[i]]
        try:
            probabilities = self._predict(rows)
        except LitCtrError:
            # One request's value broke the batch: score each alone so the error is its own.
            for i in valid:
                try:
                    results[i] = self._predict(requests[i])
                except LitCtrError as error:
                    results[i] = Rejected(_located(str(error)))
            return results
        start = 0
        for i in valid:
            end = start + len(requests[i])
            results[i] = probabilities[start:end]
            start = end
        return results

    def _predict(self, rows: list[dict[str, Any]]) -> list[float]:
        if not rows:
            return []
        return [float(p) for p in self.predictor.predict(rows)]


def _located(message: str) -> str:
    """The encoder's ``<rows> (row 3), column 'I1': ...`` as ``rows[3], field 'I1': ...``,
    the way the request's own checks name a place."""
    found = re.match(r"<rows> \(row (\d+)\), column '([^']*)': (.*)", message, re.S)
    if found:
        return f"rows[{found[1]}], field '{found[2]}': {found[3]}"
    return message.removeprefix("<rows>: ")
