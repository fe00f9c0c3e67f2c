"""Errors a user can act on.

Why a dedicated class: callers (CLI, chapters, tests) catch ``DataError`` to show the message
as-is, instead of a stack trace from deep inside pandas or statsmodels.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class DataError(ValueError):
    """Bad input. The message names the file, the column, the offending rows and the fix."""


class ModelError(ValueError):
    """The model cannot be estimated on these data (e.g. perfect separation); says why."""


def describe_rows(rows: Iterable[object], limit: int = 5) -> str:
    """Render the first few offending row labels, e.g. ``rows 3, 17, 42 (and 12 more)``.

    Row numbers shown to users are 1-based data rows (header excluded) when the caller passes
    positional indices + 1; we only format here.
    """
    rows = list(rows)
    head = ", ".join(str(r) for r in rows[:limit])
    more = f" (and {len(rows) - limit} more)" if len(rows) > limit else ""
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {head}{more}"


def data_error(file: str | Path | None, problem: str, fix: str, column: str | None = None,
               rows: Iterable[object] | None = None) -> DataError:
    """Build a DataError with the standard layout: where, what, which rows, how to fix."""
    where = f"{Path(file).name if file else '<data>'}"
    if column is not None:
        where += f", column '{column}'"
    msg = f"{where}: {problem}"
    if rows is not None:
        rows = list(rows)
        if rows:
            msg += f" — {describe_rows(rows)}"
    msg += f". Fix: {fix}"
    return DataError(msg)
