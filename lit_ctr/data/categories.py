"""Values → integer codes through a private polars ``Categories`` mapping: the one lookup
behind counting values (:class:`~lit_ctr.data.vocabulary.VocabularyCounter`) and encoding
them (:class:`~lit_ctr.data.encoding.Encoder`).

``replace_strict`` with a 10^6-value vocabulary rebuilds a 10^6-entry hash table on every
call, which dominated encoding a large split in chunks. Casting a chunk to a
``Categorical`` of a private mapping only looks values up (and appends unseen ones), and a
value's physical code is the order in which the mapping first saw it.
"""

from __future__ import annotations

import polars as pl


class ValueCodes:
    """One field's values → UInt32 codes, stable for the object's life.

    Values given at construction are registered first, in order: when ``in_order`` they
    have codes ``0..n-1`` (the Categories API is unstable: should polars ever not number
    values in insertion order, ``in_order`` is False and callers fall back to an exact
    mapping). Values seen later get the next codes.
    """

    def __init__(self, values: pl.Series | None = None) -> None:
        self._categories = pl.Categories.random()
        self.dtype = pl.Categorical(self._categories)
        registered = values if values is not None else pl.Series([], dtype=pl.String)
        # A mapping lives as long as some data uses it: self._keep does.
        self._keep = registered.cast(self.dtype)
        n = len(registered)
        self.in_order = n == 0 or bool(
            (self._keep.to_physical() == pl.int_range(0, n, eager=True, dtype=pl.UInt32)).all()
        )

    def codes(self, column: pl.Expr) -> pl.Expr:
        """The UInt32 code of each value of ``column`` (null stays null); registers unseen values."""
        return column.cast(self.dtype).to_physical()

    def list_codes(self, column: pl.Expr) -> pl.Expr:
        """:meth:`codes` of every value of a list column (a multi field): ``List(UInt32)``."""
        return column.cast(pl.List(self.dtype)).to_physical()

    def values(self, count: int) -> pl.Series:
        """The values with codes ``0..count-1``, in code order."""
        return self._categories.to_series()[:count]
