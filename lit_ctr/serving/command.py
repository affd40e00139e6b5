"""``lit-ctr serve --artifact FILE [--port 8000] [--host 127.0.0.1] [--max_batch_size N]``."""

from __future__ import annotations

import logging
from pathlib import Path

from lit_ctr.errors import ConfigError

log = logging.getLogger("lit_ctr")

HOSTS = ("127.0.0.1", "0.0.0.0", "::")


def serve(
    artifact: str,
    port: int = 8000,
    host: str = "127.0.0.1",
    max_batch_size: int = 64,
    batch_timeout: float = 0.002,
    workers: int = 1,
    timeout: float = 30.0,
) -> None:
    """Serve click probabilities over HTTP until interrupted (Ctrl+C).

    ``POST /predict`` with ``{"rows": [{field: value, ...}, ...]}`` answers
    ``{"probabilities": [...]}``, one per row in order; ``GET /health`` answers ``ok``
    (200) once the model is loaded; ``GET /info`` names the model and its fields.

    Args:
        artifact: an exported model (``lit-ctr export``: ``.onnx``, ``.pt``) or a lit-ctr
            checkpoint (``.ckpt``; needs the model's class importable).
        port: the TCP port (1024-65535).
        host: ``127.0.0.1`` (this machine only), ``0.0.0.0`` or ``::`` (every interface).
        max_batch_size: requests scored together in one pass (1: each alone).
        batch_timeout: seconds a batch waits to fill before it is scored.
        workers: model processes (each loads the model once).
        timeout: seconds a request may wait before it is answered 504.
    """
    if not isinstance(port, int) or not 1024 <= port <= 65535:
        raise ConfigError(f"port: expected an integer from 1024 to 65535, got {port!r}")
    if host not in HOSTS:
        raise ConfigError(f"host: expected one of {', '.join(HOSTS)}, got {host!r}")
    if max_batch_size < 1:
        raise ConfigError(f"max_batch_size: expected an integer >= 1, got {max_batch_size}")
    if batch_timeout < 0:
        raise ConfigError(f"batch_timeout: expected seconds >= 0, got {batch_timeout}")
    if workers < 1:
        raise ConfigError(f"workers: expected an integer >= 1, got {workers}")
    try:
        import litserve
    except ImportError:
        raise SystemExit("lit-ctr: error: lit-ctr serve needs LitServe: pip install 'lit-ctr[serve]'") from None
    from lit_ctr.predictor import load_predictor
    from lit_ctr.serving.api import ScoringAPI

    # Load once here too: a missing or broken artifact ends with one error line, not a
    # worker's traceback, and /info can name the model's fields.
    predictor = load_predictor(artifact)
    schema = predictor.schema
    metadata = {
        "artifact": str(Path(artifact)),
        "kind": predictor.kind,
        "model_class": predictor.metadata.get("model_class"),
        "fields": [f.name for f in schema.fields],
    }
    del predictor
    api = ScoringAPI(str(artifact), max_batch_size=max_batch_size, batch_timeout=batch_timeout)
    server = litserve.LitServer(
        api,
        accelerator="cpu",
        devices=1,
        workers_per_device=workers,
        timeout=timeout,
        model_metadata=metadata,
    )
    log.info("lit-ctr: serving %s on http://%s:%d/predict (health: /health)", artifact, host, port)
    server.run(host=host, port=port, generate_client_file=False, log_level="warning")


def main(args: list[str] | None = None) -> None:
    """``lit-ctr serve`` from the command line."""
    from jsonargparse import CLI

    CLI(serve, args=args, as_positional=False, prog="lit-ctr serve")
