"""Errors a user can act on.

Why a dedicated class: callers (CLI, chapters, tests) catch ``DataError`` to show the message
as-is, instead of a stack trace from deep inside pandas or statsmodels.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from clrisk.i18n import _

# Exit codes of the ``clrisk`` command (documented in README and ``clrisk --help``).
EXIT_OK = 0
EXIT_DIFFERENT = 1  # ``clrisk verify``: a file differs from the manifest
EXIT_BAD_INPUT = 2  # bad data, profile or options (nothing was written)
EXIT_OUTPUT = 3  # the output folder cannot be written (file system / OS); nothing was changed


class DataError(ValueError):
    """Bad input. The message names the file, the column, the offending rows and the fix."""


class ModelError(ValueError):
    """The model cannot be estimated on these data (e.g. perfect separation); says why."""


class DataWarning(UserWarning):
    """Something in the data worth a look that does not stop the run (e.g. a covariate whose
    survey and census means differ); the command line prints it as one translated line."""


class OutputError(Exception):
    """The results cannot be written (folder not writable, disk full, locked by another run).

    Why apart from :class:`DataError`: the data are fine and the fix is about the output
    folder; the command line exits with a different code (3) so scripts can tell them apart.
    """


def describe_rows(rows: Iterable[object], limit: int = 5, total: int | None = None) -> str:
    """Render the first few offending row labels, e.g. ``rows 3, 17, 42 (and 12 more)``.

    Row numbers shown to users are 1-based data rows (header excluded) when the caller passes
    positional indices + 1; we only format here.
    """
    rows = list(rows)
    n = max(len(rows), total or 0)  # ``total``: all offending rows when only the first are kept
    head = ", ".join(str(r) for r in rows[:limit])
    more = " " + _("(and {n} more)").format(n=n - min(limit, len(rows))) if n > limit else ""
    if n == 1:
        return _("row {rows}").format(rows=head)
    return _("rows {rows}").format(rows=head) + more


def data_error(file: str | Path | None, problem: str, fix: str, column: str | None = None,
               rows: Iterable[object] | None = None, total: int | None = None) -> DataError:
    """Build a DataError with the standard layout: where, what, which rows, how to fix."""
    where = f"{Path(file).name if file else '<data>'}"
    if column is not None:
        where += ", " + _("column '{column}'").format(column=column)
    msg = f"{where}: {problem}"
    if rows is not None:
        rows = list(rows)
        if rows:
            msg += f" — {describe_rows(rows, total=total)}"
    msg += ". " + _("Fix: {fix}").format(fix=fix)
    return DataError(msg)
