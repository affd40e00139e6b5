"""What a scoring request may hold, checked before any row is encoded.

A request is ``{"rows": [row, ...]}``; a row maps field names (the artifact's schema,
the label allowed and ignored) to one value each: text, a number, a boolean or null; a
multi field (``kind: multi``) also takes a list of such values.
Unseen values score with the field's out-of-vocabulary id; missing fields, nulls and empty
strings with its missing-value id (a row may leave any field out). Anything else is a :class:`RequestError` naming the row
and field, answered with HTTP 422.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lit_ctr.errors import LitCtrError

SCALARS = (str, int, float, bool)


class RequestError(LitCtrError):
    """A request the service cannot score; the message names the row and field."""


def check_rows(
    body: Any, fields: list[str], label: str | None = None, multi: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The request's rows, each checked against the schema's field names.

    Args:
        body: the decoded JSON request: ``{"rows": [...]}``.
        fields: the schema's field names, in order.
        label: the schema's label column (accepted and left unused).
        multi: the schema's multi fields, which take a list of values as well.

    Returns:
        The rows ``[rows]`` as dicts of every field → its value, ``None`` for a field the
        row lacks (scored as missing); the label dropped.

    Raises:
        RequestError: a body that is not ``{"rows": [...]}``, a row that is not an object,
            a field the schema does not have, or a value that is a list or an object.
    """
    if not isinstance(body, dict) or "rows" not in body:
        raise RequestError('expected a JSON object {"rows": [{field: value, ...}, ...]}')
    unknown_keys = sorted(set(body) - {"rows"})
    if unknown_keys:
        raise RequestError(f'unknown key(s) {unknown_keys} in the request; expected only "rows"')
    rows = body["rows"]
    if not isinstance(rows, list):
        raise RequestError(f'"rows": expected a list of objects, got {type(rows).__name__}')
    known = set(fields) | ({label} if label else set())
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RequestError(f"rows[{i}]: expected an object (field → value), got {_json_type(row)}")
        for name, value in row.items():
            if name not in known:
                raise RequestError(f"rows[{i}]: unknown field {name!r}; the model's fields are {fields}")
            if name in multi and isinstance(value, list):
                bad = next((v for v in value if not isinstance(v, SCALARS)), None)
                if bad is not None:
                    raise RequestError(
                        f"rows[{i}], field {name!r}: expected a list of text, numbers or true/false, "
                        f"found {_json_type(bad)} in it"
                    )
            elif value is not None and not isinstance(value, SCALARS):
                raise RequestError(
                    f"rows[{i}], field {name!r}: expected text, a number, true/false or null, got {_json_type(value)}"
                )
    return [{name: row.get(name) for name in fields} for row in rows]


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(type(value), type(value).__name__)
