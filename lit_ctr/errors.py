"""The exception types a user's mistake raises: one base, one line of message each.

Every failure a user can cause (a bad file, value, option or checkpoint) raises a
:class:`LitCtrError` whose message says where (file, line, column, or config key) and
what was expected. The ``lit-ctr`` command prints it as one ``lit-ctr: error: ...`` line
and exits non-zero; ``LIT_CTR_TRACEBACK=1`` (or ``--debug``) shows the traceback instead.
"""

from __future__ import annotations


class LitCtrError(ValueError):
    """Base of every error a user's input or configuration causes."""


class ConfigError(LitCtrError):
    """An option or hyper-parameter outside what it accepts; the message starts with its key
    (``model.embed_dim: expected an integer >= 1, got 0``)."""


class CheckpointError(LitCtrError):
    """A file that is not a usable lit-ctr checkpoint or export (missing, truncated, a
    folder, another program's file, or one naming a model class lit-ctr will not import)."""

    def __init__(self, message: str, *, file: str | None = None) -> None:
        self.file = file
        self.reason = message
        super().__init__(f"{file}: {message}" if file is not None else message)
