"""Safe evaluation of the small expressions a profile may hold (derive, filter).

Why restrict: a profile is a data file that may travel between offices; it must never be able to
run code. We parse the expression with Python's ``ast`` and accept only names of columns,
literals (numbers, strings, lists of them), comparisons (including ``in``), arithmetic and
boolean operators. Only then is it handed to ``pandas.DataFrame.eval`` with no local or global
variables, so there are no attribute look-ups, calls, subscripts or ``@`` references.
"""

from __future__ import annotations

import ast
import difflib

import numpy as np
import pandas as pd

from clrisk.i18n import _

_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.Mod, ast.FloorDiv, ast.Pow, ast.BitAnd, ast.BitOr, ast.UnaryOp, ast.Not, ast.Invert,
    ast.USub, ast.UAdd, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple,
)


class ExpressionError(ValueError):
    """An expression that is not allowed or does not parse; ``fix`` says what to write."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def parse_expression(expr: str) -> set[str]:
    """Check ``expr`` is a permitted expression; return the column names it uses."""
    fix = _("write comparisons and operators over column names, e.g. "
            "'(p208a < 14 & trabajo_horas > 0) | trabajo_horas >= 36'")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            _("expression '{expr}' does not parse ({err})").format(expr=expr, err=exc.msg),
            fix) from exc
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(
                _("expression '{expr}' uses '{what}', which is not allowed "
                  "(no function calls, attributes or indexing)").format(
                    expr=expr, what=type(node).__name__), fix)
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            raise ExpressionError(
                _("expression '{expr}' uses the constant {value!r}").format(
                    expr=expr, value=node.value), fix)
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def evaluate(df: pd.DataFrame, expr: str) -> pd.Series:
    """Evaluate a checked expression on ``df``; missing values compare as False.

    Raises ``ExpressionError`` naming the unknown column and the nearest existing one.
    """
    names = parse_expression(expr)
    for name in sorted(names):
        if name not in df.columns:
            near = difflib.get_close_matches(name, [str(c) for c in df.columns], 1)
            fix = (_("did you mean '{near}'?").format(near=near[0]) if near
                   else _("use one of the file's columns"))
            raise ExpressionError(
                _("expression '{expr}' uses column '{name}', which is not in the file").format(
                    expr=expr, name=name), fix)
    # Only the needed columns, as plain numpy-backed data, so NA semantics are predictable.
    sub = pd.DataFrame({n: _plain(df[n]) for n in names}, index=df.index)
    try:
        result = sub.eval(expr, engine="python", local_dict={}, global_dict={})
    except Exception as exc:  # pandas raises many types for type mismatches
        raise ExpressionError(
            _("expression '{expr}' failed: {err}").format(expr=expr, err=exc),
            _("check that the columns compared are numbers (or quote text values)")) from exc
    if np.isscalar(result):
        result = pd.Series(result, index=df.index)
    return pd.Series(result, index=df.index)


def _plain(s: pd.Series) -> pd.Series:
    """Numeric columns as float (NaN for missing), others as object, for stable comparisons."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    return s.astype(object)
