"""Reading and validating the Phase II worksheets (CSV and YAML files a local team fills in).

Why one module for all worksheets: the five Phase II steps read files typed by people, often in
a spreadsheet, so the same mistakes recur (a renamed column, a rating of 6, a cost written as
"1.200,50", a territory code with its leading zero dropped). The checks live here once and every
error names the file, the column or key, the first offending rows and the fix. Worksheets are
read as text (``dtype=str``) so identifiers keep their leading zeros, and are never written back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from clrisk.errors import data_error

# File names of the worksheets inside ``<country folder>/phase2/``.
SELECTION_CRITERIA = "selection_criteria.csv"
SELECTION_WEIGHTS = "selection_weights.yaml"
STAKEHOLDERS = "stakeholders.csv"
LOCAL_DEFINITIONS = "local_definitions.yaml"
ACTION_LINES = "action_lines.csv"
MONITORING = "monitoring.csv"

WORKSHEETS = (SELECTION_CRITERIA, SELECTION_WEIGHTS, STAKEHOLDERS, LOCAL_DEFINITIONS,
              ACTION_LINES, MONITORING)

_TRUE = {"yes", "y", "true", "1", "si", "sí", "oui", "x"}
_FALSE = {"no", "n", "false", "0", "non", ""}


def worksheet_dir(country_root: str | Path) -> Path:
    """Folder holding the worksheets of a country: ``<country folder>/phase2``.

    Why next to the data: a team copies its country folder (data + worksheets) and reruns the
    chapters on it with ``data_dir``; the samples keep theirs next to the synthetic data.
    """
    return Path(country_root) / "phase2"


def _existing_worksheet(path: str | Path) -> Path:
    """The worksheet's path, or an error telling the team where a starting copy comes from."""
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "worksheet not found",
                         f"create it: copy data_samples/<country>/phase2/{path.name}, or write "
                         "starting worksheets with `python -m clrisk.phase2.examples "
                         "<your country folder>`")
    return path


def read_table(path: str | Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a CSV worksheet as text; check required columns; strip blanks around values.

    Column names are matched after stripping spaces and lower-casing, because spreadsheets
    often add a trailing space or capitalise a header.
    """
    path = _existing_worksheet(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                         comment=None, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise data_error(path, f"cannot be read as CSV ({exc})",
                         "save the sheet as CSV UTF-8 with a comma separator") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise data_error(path, f"missing column(s) {', '.join(missing)} (found: "
                         f"{', '.join(df.columns)})",
                         f"add the column(s) {', '.join(missing)} with these exact names",
                         column=missing[0])
    for col in df.columns:
        df[col] = df[col].astype(str).str.strip()
    # Spreadsheets leave fully blank lines at the end: drop them.
    blank = (df == "").all(axis=1)
    return translate_free_text(df.loc[~blank].reset_index(drop=True), path)


# --- worked examples in the reader's language ------------------------------------------------
# Why at read time: the sample worksheets are written once (in English, the source language);
# a Spanish or French edition must show their organisations, roles, action lines, units and
# indicators in its language, in the tables and in the exported xlsx alike. Only free-text
# columns are translated, never codes (type, sector, agreement...) that the checks validate, and
# only phrases the catalogs know: a team's own wording passes through unchanged.
FREE_TEXT_COLUMNS = ("name", "role", "notes", "action_line", "unit", "indicator", "frequency",
                     "source", "responsible", "institution")
TEMPLATES = ("Children at risk from: {label}", "Indicator: {label}", "Government of {label}",
             "{label} (national)")


def _profile_labels(path: str | Path | None, lang: str) -> dict[str, str]:
    """English label -> ``lang`` label of the covariates and IVTI indicators of the profile in
    the worksheet's country folder (``<country>/phase2/<file>`` -> ``<country>/profile.yaml``)."""
    if path is None:
        return {}
    profile = Path(path).resolve().parent.parent / "profile.yaml"
    try:
        doc = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    specs = list(doc.get("covariates") or []) + list((doc.get("ivti") or {}).get("indicators")
                                                     or [])
    out = {}
    for spec in specs:
        labels = spec.get("labels") if isinstance(spec, dict) else None
        if isinstance(labels, dict) and labels.get("en") and labels.get(lang):
            out[str(labels["en"])] = str(labels[lang])
    return out


def translate_phrase(text: str, lang: str | None = None,
                     labels: dict[str, str] | None = None) -> str:
    """``text`` in ``lang`` when the catalogs (or the profile's labels) know it, including the
    templates of the sample worksheets ("Children at risk from: <label>"); else unchanged."""
    from clrisk.i18n import get_language, gettext

    lang = lang or get_language()
    if lang == "en" or not text:
        return text
    labels = labels or {}
    translated = gettext(text, lang)
    if translated != text:
        return translated
    if text in labels:
        return labels[text]
    for template in TEMPLATES:
        pattern = re.escape(template).replace(re.escape("{label}"), "(?P<label>.+)")
        m = re.fullmatch(pattern, text)
        if m:
            inner = m["label"]
            inner = labels.get(inner) or gettext(inner, lang)
            return gettext(template, lang).format(label=inner)
    return text


def translate_free_text(df: pd.DataFrame, path: str | Path | None = None,
                        lang: str | None = None) -> pd.DataFrame:
    """The worksheet with its free-text columns (:data:`FREE_TEXT_COLUMNS`) translated."""
    from clrisk.i18n import get_language

    lang = lang or get_language()
    cols = [c for c in FREE_TEXT_COLUMNS if c in df.columns]
    if lang == "en" or not cols:
        return df
    labels = _profile_labels(path, lang)
    out = df.copy()
    for col in cols:
        out[col] = [translate_phrase(str(v), lang, labels) for v in out[col]]
    return out


def rows_where(mask: Iterable[bool]) -> list[int]:
    """1-based data-row numbers (header excluded) where ``mask`` is true."""
    return [i + 1 for i, m in enumerate(mask) if m]


def numeric_column(df: pd.DataFrame, column: str, path: str | Path, *, minimum: float | None = None,
                   maximum: float | None = None, integer: bool = False,
                   allow_blank: bool = False, fix: str | None = None) -> pd.Series:
    """Parse a text column into numbers, raising a DataError that lists the offending rows.

    Blank cells become NaN when ``allow_blank``; otherwise they are errors too.
    """
    raw = df[column].astype(str).str.strip()
    blank = raw == ""
    values = pd.to_numeric(raw.where(~blank, None), errors="coerce")
    bad_text = values.isna() & ~blank
    if bad_text.any() or (blank.any() and not allow_blank):
        bad = bad_text | (blank & (not allow_blank))
        shown = ", ".join(repr(v) for v in raw[bad].head(3))
        raise data_error(path, f"non-numeric value(s) {shown}", fix or
                         "write plain numbers with a dot as decimal separator and no thousands "
                         "separator or currency sign", column=column, rows=rows_where(bad))
    if integer:
        frac = values.notna() & (values != values.round())
        if frac.any():
            raise data_error(path, "value(s) must be whole numbers",
                             fix or "use whole numbers", column=column, rows=rows_where(frac))
    out_of_range = pd.Series(False, index=values.index)
    if minimum is not None:
        out_of_range |= values < minimum
    if maximum is not None:
        out_of_range |= values > maximum
    if out_of_range.any():
        span = (f"between {minimum:g} and {maximum:g}" if minimum is not None and maximum is not None
                else f"at least {minimum:g}" if minimum is not None else f"at most {maximum:g}")
        shown = ", ".join(f"{v:g}" for v in values[out_of_range].head(3))
        raise data_error(path, f"value(s) {shown} out of range; must be {span}",
                         fix or f"use values {span}", column=column, rows=rows_where(out_of_range))
    return values.astype(float)


def choice_column(df: pd.DataFrame, column: str, path: str | Path, allowed: Sequence[str],
                  *, allow_blank: bool = False, aliases: dict[str, str] | None = None) -> pd.Series:
    """Normalise a coded text column (lower case, '-'/' ' -> '_') and check it is allowed."""
    raw = df[column].astype(str).str.strip().str.lower()
    norm = raw.str.replace("-", "_", regex=False).str.replace(" ", "_", regex=False)
    if aliases:
        norm = norm.map(lambda v: aliases.get(v, v))
    ok = norm.isin(list(allowed)) | (allow_blank & (norm == ""))
    if not ok.all():
        shown = ", ".join(repr(v) for v in df.loc[~ok, column].head(3))
        raise data_error(path, f"unknown value(s) {shown}",
                         f"use one of: {', '.join(allowed)}", column=column, rows=rows_where(~ok))
    return norm


def list_column(df: pd.DataFrame, column: str, path: str | Path, allowed: Sequence[str],
                what: str = "value") -> pd.Series:
    """Split a ';'-separated column into sorted tuples and check each item is allowed."""
    items = df[column].astype(str).map(
        lambda s: tuple(sorted({p.strip().lower() for p in s.replace(",", ";").split(";")
                                if p.strip()})))
    bad = items.map(lambda t: any(p not in allowed for p in t))
    if bad.any():
        unknown = sorted({p for t in items[bad] for p in t if p not in allowed})
        raise data_error(path, f"unknown {what}(s) {', '.join(unknown)}",
                         f"use ';'-separated values among: {', '.join(allowed)}",
                         column=column, rows=rows_where(bad))
    return items


def bool_column(df: pd.DataFrame, column: str, path: str | Path) -> pd.Series:
    """yes/no column (also accepts sí/oui/true/1 and no/non/false/0/blank)."""
    raw = df[column].astype(str).str.strip().str.lower()
    ok = raw.isin(_TRUE | _FALSE)
    if not ok.all():
        raise data_error(path, "expected yes or no", "write yes or no", column=column,
                         rows=rows_where(~ok))
    return raw.isin(_TRUE)


def check_territories(ids: pd.Series, known: Iterable[str], path: str | Path,
                      column: str = "territory_id") -> None:
    """Every territory id must exist in the country's territory file (ids are strings)."""
    known = set(map(str, known))
    bad = ~ids.astype(str).isin(known)
    if bad.any():
        shown = ", ".join(repr(v) for v in ids[bad].head(3))
        raise data_error(path, f"unknown territory id(s) {shown}",
                         "use the territory_id codes of the country's territories file, as text "
                         "with any leading zeros", column=column, rows=rows_where(bad))
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise data_error(path, "duplicated territory id(s)", "keep one row per territory",
                         column=column, rows=rows_where(dup))


def read_yaml(path: str | Path) -> Any:
    """Load a YAML worksheet with a clear error on syntax problems (line and column)."""
    path = _existing_worksheet(path)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise data_error(path, f"invalid YAML{where} ({getattr(exc, 'problem', exc)})",
                         "check indentation (spaces, not tabs) and that each key ends with ':'"
                         ) from exc


def as_float(value: Any) -> float:
    """Float or NaN (used for optional numeric YAML entries)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(np.nan)
