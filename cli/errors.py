"""One ``lit-ctr: error: <key or file>: <what was expected>`` line for every mistake a user can make.

* :class:`OneLineErrorParser` / :class:`OneLineLightningParser`: jsonargparse's parse errors
  (usage, a tip and a nested "Does not validate against any of the Union subtypes" dump)
  condensed to the key and the innermost reason.
* :func:`user_error`: the exception to show for one raised from a run: the outermost
  :class:`~lit_ctr.errors.LitCtrError` in its chain, which is how jsonargparse's wrapped
  errors (``data.batch_size: expected a positive integer, got 0`` inside a union dump) unwrap.
* :func:`config_error_from`: a plain ``ValueError`` a class raised while the CLI built it,
  as a :class:`~lit_ctr.errors.ConfigError` named after its config key.

``--debug`` or ``LIT_CTR_TRACEBACK=1`` shows jsonargparse's full message and the traceback instead.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import NoReturn

from jsonargparse import ArgumentParser
from lightning.pytorch.cli import LightningArgumentParser

from lit_ctr.errors import ConfigError, LitCtrError

PREFIX = "lit-ctr: error: "


DEBUG_FLAG = {"on": False}  # set by ``--debug`` for the one command it was given to


def debug_requested() -> bool:
    """Whether the user asked for tracebacks (``--debug`` or ``LIT_CTR_TRACEBACK=1``)."""
    return DEBUG_FLAG["on"] or os.environ.get("LIT_CTR_TRACEBACK", "") not in ("", "0")


_SCAFFOLDING = (
    "Does not validate against any of the Union subtypes",
    "Subtypes:",
    "Errors:",
    "Given value type:",
    "Given value:",
    "Expected a <class 'NoneType'>",
    "Parser key ",
)


def condense(message: str) -> str:
    """jsonargparse's multi-line message as ``<dotted key>: <innermost reason>``."""
    keys: list[str] = []
    for key in re.findall(r'Parser key "([^"]+)"', message):
        if not keys or keys[-1] != key:
            keys.append(key)
    details = []
    for raw in message.splitlines():
        line = re.sub(r'^(Parser key "[^"]+":\s*)+', "", raw.strip().removeprefix("- ").strip())
        if not line or line.startswith(_SCAFFOLDING) or re.fullmatch(r"Problem with given class_path '[^']*':", line):
            continue
        details.append(line.removeprefix("Problem with given class_path "))
    unknown = re.search(r"Expected a dot import path string: (\S+)", message)
    if keys in (["model"], ["data"]) and unknown:
        return f"{keys[0]}: unknown class {unknown.group(1)!r}; expected {_known(keys[0])} or a dotted path package.module.Class"
    reason = "; ".join(dict.fromkeys(details)) or message.strip().splitlines()[0]
    reason = reason if len(reason) <= 400 else reason[:400] + " ..."
    return f"{'.'.join(keys)}: {reason}" if keys else reason


def _known(key: str) -> str:
    if key == "model":
        import lit_ctr.models

        return "one of " + ", ".join(n for n in lit_ctr.models.__all__ if n != "CTRModule")
    return "CTRDataModule or SyntheticCTRDataModule"


class _OneLineErrors:
    """``error()`` prints one ``lit-ctr: error:`` line and exits with status 2."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error or debug_requested():  # type: ignore[attr-defined]
            super().error(message, ex)  # type: ignore[misc]
        prog = str(getattr(getattr(ex, "subcommand_parser", None) or self, "prog", "lit-ctr")).replace(" [options]", "")
        prog = " ".join(["lit-ctr", *prog.split()[1:]])  # "__main__.py fit" under python -m
        sys.stderr.write(f"{PREFIX}{condense(message)} (see {prog} --help)\n")
        sys.exit(2)


class OneLineErrorParser(_OneLineErrors, ArgumentParser):
    """A jsonargparse parser whose errors are one line (``lit-ctr export``)."""


class OneLineLightningParser(_OneLineErrors, LightningArgumentParser):
    """The Lightning CLI's parser, with one-line errors."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and its causes and contexts, outermost first, each once."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__  # type: ignore[assignment]


def user_error(error: BaseException) -> LitCtrError | None:
    """The outermost LitCtrError in ``error``'s chain (``None`` when there is none)."""
    return next((e for e in _chain(error) if isinstance(e, LitCtrError)), None)


_SUBTYPES = re.compile(r"Subtypes: \[<class '([\w.]+)'>")


def config_key_of(error: BaseException) -> str | None:
    """``model`` or ``data`` (or a class name) for an error jsonargparse raised building a class."""
    from lightning.pytorch import LightningDataModule, LightningModule

    for link in _chain(error):
        match = _SUBTYPES.search(str(link))
        if match:
            module, _, name = match.group(1).rpartition(".")
            cls = getattr(sys.modules.get(module), name, None)  # already imported by jsonargparse
            if isinstance(cls, type) and issubclass(cls, LightningModule):
                return "model"
            if isinstance(cls, type) and issubclass(cls, LightningDataModule):
                return "data"
            return name
    return None


def config_error_from(error: BaseException) -> LitCtrError | None:
    """The error to raise for one that building the config's classes raised: a LitCtrError
    inside it, or its innermost ValueError/TypeError/RuntimeError named after the config key."""
    found = user_error(error)
    if found is not None:
        return found
    key = config_key_of(error)
    origin = list(_chain(error))[-1]
    if key is None or not isinstance(origin, (ValueError, TypeError, RuntimeError)) or origin is error:
        return None
    reason = str(origin).strip().splitlines()[0] if str(origin).strip() else type(origin).__name__
    wrapped = ConfigError(f"{key}: {reason}")
    wrapped.__cause__ = origin
    return wrapped
