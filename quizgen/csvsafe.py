"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV injection").

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` in a student's name runs when the
instructor opens grades.csv). Such a cell gets a leading single quote, which the spreadsheet
shows as text and does not display. A cell that is a plain number (``-0.5``, ``+3``, ``1e-3``)
is left alone, so totals stay numbers. Every CSV quizgen writes goes through :func:`writer`.
"""

from __future__ import annotations

import csv
import re
from typing import Any

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front if it is text a spreadsheet would run as a formula;
    numbers, number-like text and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """``text`` as it was before :func:`escape_cell`: a cell read back from a CSV quizgen wrote
    (a filled-in responses template names student "+s1" as "'+s1")."""
    if text.startswith("'") and escape_cell(text[1:]) == text:
        return text[1:]
    return text


class SafeWriter:
    """A ``csv.writer`` whose rows pass through :func:`escape_cell`."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def writerow(self, row) -> Any:
        return self._inner.writerow([escape_cell(v) for v in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh, **kwargs) -> SafeWriter:
    """``csv.writer(fh, **kwargs)`` that escapes formula cells."""
    return SafeWriter(csv.writer(fh, **kwargs))
