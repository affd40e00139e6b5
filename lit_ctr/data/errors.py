"""The one error type raised for bad input data, with the place it was found."""

from __future__ import annotations

from lit_ctr.errors import LitCtrError


class DataError(LitCtrError):
    """Bad input data or configuration, located as precisely as we know.

    The message reads ``<file>, line <n>, column '<name>': <what was expected>``,
    leaving out the parts that do not apply.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(", ".join(where) + ": " + message if where else message)


class SchemaError(DataError):
    """A schema that cannot describe any file (duplicate names, unknown kinds, ...)."""
