"""Design rows of the risk model: measured covariates plus derived terms.

A profile may declare derived design columns next to the measured covariates, e.g.
``{name: poverty_x_rural, expression: "poverty * rural"}`` (an interaction), a square
(``age * age``) or a recode (``head_schooling < 6``). The survey and census files hold only the
measured ("raw") covariates; every derived column is computed from them with the same safe
expression language as ``mapping: derive`` (:mod:`clrisk.data.expressions`).

Why one module: everybody who turns census rows into design rows (scoring, P(top), factor
counterfactuals) must compute derived columns the same way, and a factor's counterfactual must
recompute *every* column built from it (:func:`columns_of`), not only its own column —
otherwise an interaction keeps the child's original poverty and the factor's weight is wrong.

The derived terms travel with the model as the attribute ``derived_terms`` (name ->
expression, in design order), set by :func:`attach_terms` after fitting; a model without it
has no derived terms and :func:`design_rows` is ``[1, X]``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clrisk.data.expressions import parse_expression
from clrisk.errors import DataError
from clrisk.i18n import _


def derived_terms(model_or_profile: Any) -> dict[str, str]:
    """Derived terms (name -> expression) of a model (attribute ``derived_terms``) or of a
    profile (covariate entries with ``expression``); empty when there are none."""
    terms = getattr(model_or_profile, "derived_terms", None)
    if isinstance(terms, Mapping):
        return dict(terms)
    specs = getattr(model_or_profile, "covariate_specs", None) or []
    return {c["name"]: str(c["expression"]) for c in specs if c.get("expression")}


def raw_covariates(model: Any) -> list[str]:
    """The measured columns a census block must hold for ``model``, in design order: the
    model's non-derived covariates, then any other column a derived expression uses."""
    derived = derived_terms(model)
    raw = [c for c in model.covariates if c not in derived]
    for expr in derived.values():
        for name in sorted(parse_expression(expr)):
            if name not in raw and name not in derived:
                raw.append(name)
    return raw


def attach_terms(model: Any, profile: Any) -> Any:
    """Record the profile's derived terms on a fitted model (returns the model)."""
    model.derived_terms = {n: e for n, e in derived_terms(profile).items()
                           if n in list(model.covariates)}
    return model


def columns_of(factor: str, model: Any) -> list[str]:
    """The design columns built from ``factor``: its own column (if it is in the design) and
    every derived term whose expression uses it, directly or through another derived term."""
    derived = derived_terms(model)
    cols = [factor] if factor in model.covariates else []
    changed = True
    uses = {n: parse_expression(e) for n, e in derived.items()}
    built = {factor}
    while changed:
        changed = False
        for name, names in uses.items():
            if name not in built and names & built:
                built.add(name)
                changed = True
    cols += [c for c in model.covariates if c in built and c != factor]
    return cols


# ---------------------------------------------------------------------------------------------
# A tiny numpy evaluator for checked expressions (no pandas per block: census blocks are large)
# ---------------------------------------------------------------------------------------------
_BIN = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
        ast.Mod: np.mod, ast.FloorDiv: np.floor_divide, ast.Pow: np.power,
        ast.BitAnd: np.logical_and, ast.BitOr: np.logical_or}
_CMP = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
        ast.Gt: np.greater, ast.GtE: np.greater_equal}


def _eval(node: ast.AST, env: Mapping[str, np.ndarray]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Constant):
        return float(node.value) if not isinstance(node.value, str) else node.value
    if isinstance(node, ast.BinOp):
        return _BIN[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        return np.logical_not(v)
    if isinstance(node, ast.BoolOp):
        op = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = _eval(node.values[0], env)
        for v in node.values[1:]:
            out = op(out, _eval(v, env))
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        out = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if isinstance(op, ast.In | ast.NotIn):
                vals = [_eval(e, env) for e in comp.elts] if isinstance(
                    comp, ast.List | ast.Tuple) else [right]
                res = np.isin(left, np.asarray(vals, dtype=float))
                res = np.logical_not(res) if isinstance(op, ast.NotIn) else res
            else:
                res = _CMP[type(op)](left, right)
            out = res if out is None else np.logical_and(out, res)
            left = right
        return out
    raise DataError(_("expression uses '{what}', which is not allowed").format(
        what=type(node).__name__))


def evaluate_terms(derived: Mapping[str, str], columns: Mapping[str, np.ndarray], n: int
                   ) -> dict[str, np.ndarray]:
    """Values of each derived term on ``n`` rows, given the raw columns (derived terms may use
    earlier derived terms)."""
    env = dict(columns)
    out: dict[str, np.ndarray] = {}
    for name, expr in derived.items():
        parse_expression(expr)
        val = _eval(ast.parse(expr.strip(), mode="eval"), env)
        arr = np.broadcast_to(np.asarray(val, dtype=np.float64), (n,))
        env[name] = out[name] = arr
    return out


def design_rows(model: Any, X_raw: np.ndarray, raw_names: Sequence[str] | None = None
                ) -> np.ndarray:
    """Design matrix ``[1, covariates…]`` in the model's coefficient order from raw rows.

    ``X_raw`` holds one column per :func:`raw_covariates` (or per ``raw_names`` when given, a
    superset in any order); derived terms are computed from them. Without derived terms this
    is ``[1, X]`` with the model's columns picked out.
    """
    X_raw = np.asarray(X_raw, dtype=np.float64)
    if X_raw.ndim == 1:
        X_raw = X_raw[None, :]
    names = list(raw_names) if raw_names is not None else raw_covariates(model)
    if X_raw.shape[1] != len(names):
        raise DataError(_("the census rows have {n} columns but the model needs {k} ({cols})"
                          ).format(n=X_raw.shape[1], k=len(names), cols=", ".join(names)))
    derived = derived_terms(model)
    n = X_raw.shape[0]
    out = np.empty((n, 1 + len(model.covariates)), dtype=np.float64)
    out[:, 0] = 1.0
    index = {c: j for j, c in enumerate(names)}
    extra = evaluate_terms(derived, {c: X_raw[:, j] for c, j in index.items()}, n) \
        if derived else {}
    for j, c in enumerate(model.covariates, start=1):
        out[:, j] = extra[c] if c in extra else X_raw[:, index[c]]
    return out


def add_derived_columns(frame: pd.DataFrame, profile_or_model: Any) -> pd.DataFrame:
    """``frame`` with every derived term added as a column (for fitting on the survey)."""
    derived = derived_terms(profile_or_model)
    if not derived:
        return frame
    needed = set().union(*(parse_expression(e) for e in derived.values())) - set(derived)
    missing = sorted(c for c in needed if c not in frame.columns)
    if missing:
        raise DataError(_("the derived terms use column(s) {cols}, which the survey lacks. "
                          "Fix: list them as covariates or correct the expression").format(
                              cols=", ".join(missing)))
    cols = {c: frame[c].to_numpy(dtype=np.float64) for c in needed}
    values = evaluate_terms(derived, cols, len(frame))
    out = frame.copy()
    for name, v in values.items():
        out[name] = v
    return out
