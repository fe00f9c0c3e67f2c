"""Apply a profile's ``mapping:`` rules: national variables -> canonical schema.

Why rules in the profile and not code: a country team adapts the model to its own survey and
census by writing data (which the check command validates line by line), never Python. The
order of the steps is fixed so that every expression and ``from:`` refers to the names as they
are in the national file:

1. ``territory_id`` / ``region_id``: built by zero-padding code columns and concatenating them
   (e.g. ubigeo = department(2) + province(2) + district(2));
2. ``recode``: value maps (``{1: 0, 2: 1}``), ranges to categories (``bins``), level code to
   years of schooling, ...;
3. ``derive``: new columns from expressions (the child-labour definition);
4. ``filter``: keep the rows where every expression holds (age range, usual residents);
5. ``rename``: national name -> canonical name (plus the ``design`` and ``outcome`` columns).

The input frame's index (the file's data row) is kept, so later messages cite file rows.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.data.expressions import ExpressionError, evaluate
from clrisk.errors import DataError, data_error
from clrisk.i18n import _
from clrisk.schema import OUTCOME, PSU, STRATUM, WEIGHT


def _rows(mask: pd.Series) -> list[int]:
    return [int(i) + 1 for i in mask[mask.to_numpy()].index]


def _missing_column(path: Path, where: str, col: str, df: pd.DataFrame) -> DataError:
    near = difflib.get_close_matches(col, [str(c) for c in df.columns], 1)
    fix = (_("did you mean '{near}'?").format(near=near[0]) if near
           else _("columns in the file: {cols}").format(cols=", ".join(map(str, df.columns[:30]))))
    return data_error(path, _("{where} names column '{col}', which is not in the file").format(
        where=where, col=col), fix, column=col)


def code_text(s: pd.Series) -> pd.Series:
    """Codes as text without a trailing '.0' (Stata/SPSS store codes as floats).

    Computed once per distinct value (censuses repeat a few hundred codes a million times).
    """
    def one(v: Any) -> Any:
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()
    table = {u: one(u) for u in pd.unique(s.dropna())}
    return s.map(table).astype(object).where(s.notna(), None)


def build_id(df: pd.DataFrame, spec: dict[str, Any], target: str, path: Path,
             where: str) -> pd.Series:
    """Concatenate zero-padded code columns, e.g. 15, 1, 1 with widths 2,2,2 -> "150101"."""
    parts = []
    for col, width in zip(spec["columns"], spec["widths"], strict=True):
        if col not in df.columns:
            raise _missing_column(path, where, col, df)
        text = code_text(df[col])
        missing = text.isna()
        if missing.any():
            raise data_error(path, _("code column '{col}' used to build {target} has missing "
                                     "values").format(col=col, target=target),
                             _("fill the codes or filter those rows out (mapping filter)"),
                             column=col, rows=_rows(missing))
        too_long = text.str.len() > width
        if too_long.any():
            example = text[too_long].iloc[0]
            raise data_error(path, _("code '{code}' in '{col}' is longer than its width {w} "
                                     "in {where}").format(code=example, col=col, w=width,
                                                          where=where),
                             _("increase the width or check the column"), column=col,
                             rows=_rows(too_long))
        parts.append(text.str.zfill(width))
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out.astype(object)


def _norm_key(v: Any) -> Any:
    """Map keys from YAML and values from files compared as numbers when they are numbers."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        return int(f) if f.is_integer() else f
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return v.strip()
        return int(f) if f.is_integer() else f
    return v


def recode(df: pd.DataFrame, rule: dict[str, Any], path: Path, where: str,
           value_labels: dict[str, dict[Any, str]]) -> pd.Series:
    """One recode rule -> the new column. Unmapped values are an error unless ``default``."""
    src = rule["from"]
    if src not in df.columns:
        raise _missing_column(path, where, src, df)
    x = df[src]
    present = x.notna()
    has_default = "default" in rule
    if "map" in rule:
        # keys may be codes (1, "01") or, for labelled Stata/SPSS columns, the value labels
        # themselves ("Mujer"), which read better and survive a change of coding
        by_label = {str(lab).strip().lower(): code
                    for code, lab in value_labels.get(src, {}).items()}
        lookup = {}
        for k, v in rule["map"].items():
            key = _norm_key(k)
            if isinstance(key, str) and key.lower() in by_label:
                key = by_label[key.lower()]
            lookup[key] = v
        uniq = pd.unique(x.dropna())
        value_of = {u: lookup[_norm_key(u)] for u in uniq if _norm_key(u) in lookup}
        missing_codes = [u for u in uniq if _norm_key(u) not in lookup]
        mapped = x.map(value_of) if value_of else pd.Series(np.nan, index=x.index)
        unmapped = x.isin(missing_codes) & present
        outputs = list(value_of.values())
    else:
        num = pd.to_numeric(x, errors="coerce")
        cut = pd.cut(num, bins=rule["bins"], labels=rule.get("labels"),
                     right=bool(rule.get("right", False)))
        mapped = cut.astype(object).where(cut.notna(), np.nan)
        unmapped = present & cut.isna()
        outputs = list(cut.cat.categories)
    if unmapped.any() and not has_default:
        labels = value_labels.get(src, {})
        values = []
        for v in pd.unique(x[unmapped])[:6]:
            k = _norm_key(v)
            values.append(f"{k} ('{labels[k]}')" if k in labels else repr(k))
        kind = _("the map") if "map" in rule else _("the bins")
        raise data_error(
            path,
            _("recode of '{src}' into '{col}' ({where}): values not covered by {kind}: "
              "{values}").format(src=src, col=rule["column"], where=where, kind=kind,
                                 values=", ".join(values)),
            _("add them to the map (e.g. '{v}: null' for a missing-value code), or give "
              "'default:' for every other value").format(v=_norm_key(x[unmapped].iloc[0])),
            column=src, rows=_rows(unmapped))
    if unmapped.any():
        mapped = mapped.where(~unmapped, rule["default"])
        outputs.append(rule["default"])
    return pd.to_numeric(mapped) if _all_numeric(outputs) else mapped.astype(object)


def _all_numeric(values: list[Any]) -> bool:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    return bool(vals) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in vals)


def apply_mapping(df: pd.DataFrame, rules: dict[str, Any], path: Path, kind: str,
                  value_labels: dict[str, dict[Any, str]] | None = None,
                  design: dict[str, str] | None = None, outcome: str = OUTCOME,
                  profile_where: str = "profile.yaml") -> tuple[pd.DataFrame, list[str]]:
    """Apply ``rules`` (one table's mapping) to ``df``; return the mapped frame and notes."""
    value_labels = value_labels or {}
    notes: list[str] = []
    df = df.copy()
    base = f"{profile_where} mapping.{kind}"
    for target in ("territory_id", "region_id"):
        if rules.get(target):
            df[target] = build_id(df, rules[target], target, path, f"{base}.{target}")
    for i, rule in enumerate(rules.get("recode") or []):
        df[rule["column"]] = recode(df, rule, path, f"{base}.recode[{i}]", value_labels)
    for name, expr in (rules.get("derive") or {}).items():
        try:
            value = evaluate(df, expr)
        except ExpressionError as exc:
            raise data_error(path, f"{base}.derive.{name}: {exc}", exc.fix) from exc
        if pd.api.types.is_bool_dtype(value):
            value = value.astype("int64")
        df[name] = value
    for i, expr in enumerate(rules.get("filter") or []):
        try:
            keep = evaluate(df, expr)
        except ExpressionError as exc:
            raise data_error(path, f"{base}.filter[{i}]: {exc}", exc.fix) from exc
        keep = keep.fillna(False).astype(bool)
        notes.append(_("{file}: filter '{expr}' kept {n} of {m} rows").format(
            file=path.name, expr=expr, n=int(keep.sum()), m=len(keep)))
        df = df[keep]
    renames = dict(rules.get("rename") or {})
    for role, canonical in ((WEIGHT, WEIGHT), (STRATUM, STRATUM), (PSU, PSU)):
        col = (design or {}).get(role)
        if kind in ("survey", "census") and col and col != canonical:
            if col in df.columns:
                renames.setdefault(col, canonical)
            elif kind == "survey":  # named but absent: never fall back silently (issue 14)
                raise _missing_column(path, f"{profile_where} design.{role}", col, df)
    if kind == "survey" and outcome != OUTCOME:
        if outcome not in df.columns:
            raise _missing_column(path, f"{profile_where} outcome", outcome, df)
        renames.setdefault(outcome, OUTCOME)
    targets: dict[str, str] = {}
    for src, dst in renames.items():
        if src not in df.columns:
            raise _missing_column(path, f"{base}.rename", src, df)
        if dst in targets:
            raise data_error(path, _("{where}: both '{a}' and '{b}' are renamed to '{dst}'").format(
                where=f"{base}.rename", a=targets[dst], b=src, dst=dst),
                _("keep one source column per canonical name"), column=dst)
        targets[dst] = src
    for src, dst in renames.items():
        if dst in df.columns and dst not in renames and src != dst:
            raise data_error(path, _("{where}: renaming '{src}' to '{dst}' but the file already "
                                     "has a column '{dst}'").format(where=f"{base}.rename",
                                                                   src=src, dst=dst),
                             _("drop one of them from the mapping, or rename the existing "
                               "'{dst}' first").format(dst=dst), column=dst)
    df = df.rename(columns=renames)
    return df, notes


def mapped_outputs(rules: dict[str, Any], design: dict[str, str] | None = None) -> set[str]:
    """Canonical columns the rules create (kept after mapping; other national columns drop)."""
    out = {k for k in ("territory_id", "region_id") if rules.get(k)}
    out |= {r["column"] for r in rules.get("recode") or []}
    out |= set(rules.get("derive") or {})
    out |= set((rules.get("rename") or {}).values())
    # names starting with "_" are scratch columns (e.g. a level's base years): not kept
    return {c for c in out if not c.startswith("_")}
