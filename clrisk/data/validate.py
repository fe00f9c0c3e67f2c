"""Checks run once, at load time, on the canonical tables.

Why here and not in the estimators: a problem found late (inside a logit, on a map) is
reported in the vocabulary of the code; found here it is reported in the vocabulary of the data
team — which file, which column, which rows, what to change. Every check returns a
``DataError`` (or ``None``) instead of raising, so ``clrisk check`` can list all problems at
once while ``load_country`` stops at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clrisk.data.readers import _DECIMAL_COMMA
from clrisk.errors import DataError, data_error
from clrisk.i18n import _

MISMATCH_FACTOR = 10  # census territories >= 10x the geometry's: probably another level


@dataclass
class Report:
    """What was checked: passes (✓), problems (✗, as DataError) and notes (i)."""

    passed: list[str] = field(default_factory=list)
    errors: list[DataError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ok(self, message: str) -> None:
        self.passed.append(message)

    def fail(self, error: DataError | None) -> bool:
        """Record ``error`` if there is one; return True when it was a failure."""
        if error is None:
            return False
        self.errors.append(error)
        return True

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def fine(self) -> bool:
        return not self.errors


def rows_of(mask: pd.Series) -> list[int]:
    """1-based data rows of the file for the True entries (index = 0-based file row)."""
    return [int(i) + 1 for i in mask[mask.to_numpy()].index]


def missing_columns(df: pd.DataFrame, required: list[str] | tuple[str, ...], path: Path,
                    what: str, hint: str | None = None) -> DataError | None:
    import difflib

    missing = [c for c in required if c not in df.columns]
    if not missing:
        return None
    guesses = []
    for c in missing:
        near = difflib.get_close_matches(c, [str(x) for x in df.columns], 1, cutoff=0.6)
        if near:
            guesses.append(f"'{near[0]}' -> '{c}'")
    fix = hint or _("add the columns, or map the national names onto them with "
                    "'mapping: {{{what}: {{rename: {{national_name: canonical_name}}}}}}' in the "
                    "profile").format(what=what)
    if guesses:
        fix += " " + _("(close names found: {g})").format(g=", ".join(guesses))
    names = {"survey": _("survey"), "census": _("census"), "territories": _("territories"),
             "admin_records": _("administrative records"), "services": _("services")}
    return data_error(path, _("required column(s) missing in the {what} file: {cols}").format(
        what=names.get(what, what), cols=", ".join(missing)), fix, column=missing[0])


def empty_table(df: pd.DataFrame, path: Path, what: str) -> DataError | None:
    if len(df):
        return None
    return data_error(path, _("the {what} table has no data rows").format(what=what),
                      _("check the export (and any mapping filter, which may drop every row)"))


def binary(df: pd.DataFrame, col: str, path: Path) -> DataError | None:
    x = pd.to_numeric(df[col], errors="coerce")
    bad = ~x.isin([0, 1])
    if not bad.any():
        return None
    values = ", ".join(repr(v.item() if hasattr(v, "item") else v)
                       for v in pd.unique(df[col][bad])[:5])
    return data_error(path, _("{col} must be 0 or 1 (found {values})").format(
        col=col, values=values),
        _("recode it to 1 = in child labour, 0 = not (e.g. 'mapping: {{survey: {{derive: "
          "{{child_labour: <expression>}}}}}}'); missing values are not allowed").format(),
        column=col, rows=rows_of(bad))


def weights(df: pd.DataFrame, col: str, path: Path, required: bool = True) -> DataError | None:
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s):
        text = s.astype(str)
        comma = text.str.match(_DECIMAL_COMMA) & s.notna()
        if comma.any():
            return data_error(
                path, _("weights are written with a decimal comma (e.g. '{v}'), so they are "
                        "read as text").format(v=s[comma].iloc[0]),
                _("declare it in the profile: 'files: {{survey: {{path: {name}, decimal: \",\"}}}}'"
                  ).format(name=path.name), column=col, rows=rows_of(comma))
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        return data_error(path, _("weights must be numbers (found {v!r})").format(
            v=s[bad].iloc[0] if bad.any() else s.iloc[0]),
            _("export the expansion factor as a number"), column=col, rows=rows_of(bad))
    if s.isna().any():
        return data_error(path, _("weights are missing"),
                          _("every child needs its expansion factor; drop the rows outside the "
                            "sample or fill the weight") if required else
                          _("fill the missing weights or remove the weight column"),
                          column=col, rows=rows_of(s.isna()))
    bad = s <= 0
    if bad.any():
        return data_error(path, _("weights must be > 0 (found {v})").format(v=s[bad].iloc[0]),
                          _("a zero or negative expansion factor is not a sampled child; check "
                            "the weight variable (e.g. the annual factor, not a flag)"),
                          column=col, rows=rows_of(bad))
    return None


def numeric(df: pd.DataFrame, cols: list[str], path: Path, what: str,
            allow_missing: bool = False) -> DataError | None:
    """Numbers only; empty cells are refused unless ``allow_missing`` (IVTI indicators: the
    index re-weights a territory's missing indicators, see :mod:`clrisk.ivti`)."""
    for col in cols:
        s = df[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        if not pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna()
            sample = s[bad].iloc[0] if bad.any() else None
            comma = sample is not None and bool(_DECIMAL_COMMA.match(str(sample)))
            fix = (_("declare decimal: \",\" for this file in the profile") if comma else
                   _("covariates must be numbers: recode text categories to codes with "
                     "'mapping: {{{what}: {{recode: [{{column: {col}, from: <national column>, "
                     "map: {{...}}}}]}}}}'").format(what=what, col=col))
            return data_error(path, _("covariate '{col}' is not numeric (found {v!r})").format(
                col=col, v=sample), fix, column=col, rows=rows_of(bad))
        if s.isna().any() and not allow_missing:
            return data_error(path, _("covariate '{col}' has missing values").format(col=col),
                              _("the model needs a value for every child: recode missing-value "
                                "codes or filter those rows (mapping filter)"),
                              column=col, rows=rows_of(s.isna()))
    return None


def ages(df: pd.DataFrame, age_range: tuple[int, int], path: Path) -> DataError | None:
    if "age" not in df.columns or not pd.api.types.is_numeric_dtype(df["age"]):
        return None
    lo, hi = age_range
    bad = (df["age"] < lo) | (df["age"] > hi)
    if not bad.any():
        return None
    return data_error(path, _("ages outside the profile's age_range [{lo}, {hi}] (e.g. {v})"
                              ).format(lo=lo, hi=hi, v=df["age"][bad].iloc[0]),
                      _("keep only children with a filter, e.g. 'mapping: {{survey: {{filter: "
                        "[\"age >= {lo} & age <= {hi}\"]}}}}', or change age_range").format(
                          lo=lo, hi=hi), column="age", rows=rows_of(bad))


def unique(df: pd.DataFrame, col: str, path: Path, what: str) -> DataError | None:
    dup = df[col].duplicated(keep=False)
    if not dup.any():
        return None
    first = df[col][dup].iloc[0]
    return data_error(path, _("{col} is not unique in the {what} file ('{v}' appears {n} times)"
                              ).format(col=col, what=what, v=first,
                                       n=int((df[col] == first).sum())),
                      _("each {what} row needs its own {col}; remove duplicates or build the id "
                        "from more columns").format(what=what, col=col),
                      column=col, rows=rows_of(dup))


def duplicated_rows(df: pd.DataFrame, path: Path, what: str) -> DataError | None:
    cols = [c for c in df.columns if c != "geometry"]
    dup = df.duplicated(subset=cols, keep="first")
    if not dup.any():
        return None
    return data_error(path, _("{n} rows repeat an earlier row exactly (the same child twice; "
                              "was the file appended to itself?)").format(n=int(dup.sum())),
                      _("remove the repeated rows; keep one row per child"),
                      rows=rows_of(dup))


def territory_match(ids: pd.Series, geo_ids: pd.Series, path: Path, what: str,
                    geo_path: Path, file_rows: bool = True) -> DataError | None:
    """Every territory id of a table must exist in the geometry; spot lost zero padding.

    ``file_rows=False`` when ``ids`` is not the file itself (a streamed census gives only its
    distinct ids): then no row numbers are cited rather than misleading ones.
    """
    known = set(geo_ids.dropna().astype(str))
    present = pd.Series(pd.unique(ids.dropna().astype(str)))
    if len(known) and len(present) >= MISMATCH_FACTOR * len(known):
        return data_error(
            path, _("the {what} has {n} distinct territories but {geo} has only {m}: they look "
                    "like different administrative levels").format(
                what=what, n=len(present), geo=geo_path.name, m=len(known)),
            _("use territories of the same level in both (e.g. districts), or build "
              "territory_id from the right code columns in the mapping"), column="territory_id")
    unmatched = sorted(set(present) - known)
    if ids.isna().any():
        return data_error(path, _("territory_id is missing"),
                          _("every row needs its territory"), column="territory_id",
                          rows=rows_of(ids.isna()))
    if not unmatched:
        return None
    width = max((len(k) for k in known), default=0)
    padded = [u for u in unmatched if u.isdigit() and u.zfill(width) in known]
    shown = ", ".join(f"'{u}'" for u in unmatched[:8])
    more = f" (+{len(unmatched) - 8})" if len(unmatched) > 8 else ""
    if padded:
        fix = _("the ids lost their leading zeros (e.g. '{u}' -> '{p}'): read the column as "
                "text, or build it with 'territory_id: {{columns: [<code column>], widths: [{w}]}}'"
                " in the mapping").format(u=padded[0], p=padded[0].zfill(width), w=width)
    else:
        fix = _("use the same territory codes as {geo} (check the code list's year and level)"
                ).format(geo=geo_path.name)
    bad = ids.astype(str).isin(unmatched)
    return data_error(path, _("{n} territory ids of the {what} are not in {geo}: {ids}").format(
        n=len(unmatched), what=what, geo=geo_path.name, ids=shown + more), fix,
        column="territory_id", rows=rows_of(bad) if file_rows else None)


def covariate_presence(covariates: list[str], survey_cols: list[str] | None,
                       census_cols: list[str] | None, survey_path: Path | None,
                       census_path: Path | None) -> DataError | None:
    """A covariate must be in BOTH files: estimated in the survey, applied to the census."""
    if survey_cols is None or census_cols is None:
        return None
    no_survey = [c for c in covariates if c not in survey_cols]
    no_census = [c for c in covariates if c not in census_cols]
    if not no_survey and not no_census:
        return None
    parts = []
    if no_survey:
        parts.append(_("missing in the survey ({f}): {c}").format(
            f=survey_path.name if survey_path else "?", c=", ".join(no_survey)))
    if no_census:
        parts.append(_("missing in the census ({f}): {c}").format(
            f=census_path.name if census_path else "?", c=", ".join(no_census)))
    target = census_path if no_census else survey_path
    return data_error(
        target, _("covariates listed in the profile are {p}").format(p="; ".join(parts)),
        _("a covariate must exist in both files with the same definition: its coefficient is "
          "estimated in the survey and applied to every child in the census. Map it in both "
          "('mapping: rename/recode') or remove it from 'covariates'"),
        column=(no_census or no_survey)[0])


def geometries(gdf: pd.DataFrame, path: Path) -> DataError | None:
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        ids = ", ".join(map(str, gdf.loc[empty, "territory_id"].head(5))) \
            if "territory_id" in gdf.columns else ""
        return data_error(path, _("empty or missing geometries (territories {ids})").format(
            ids=ids), _("draw the missing polygons or remove those territories"),
            column="geometry", rows=rows_of(empty))
    invalid = ~geom.is_valid
    if invalid.any():
        ids = ", ".join(map(str, gdf.loc[invalid, "territory_id"].head(5))) \
            if "territory_id" in gdf.columns else ""
        return data_error(path, _("invalid geometries (self-intersections or similar; "
                                  "territories {ids})").format(ids=ids),
                          _("repair them (QGIS 'Fix geometries', or shapely.make_valid) and "
                            "save the file again"), column="geometry", rows=rows_of(invalid))
    return None


def integral_to_int(df: pd.DataFrame, cols: list[str]) -> None:
    """Whole-number float columns (as Stata/SPSS store codes) become int64, in place.

    Why: the same data read from CSV and from .dta must compare equal downstream.
    """
    for col in cols:
        s = df[col]
        if pd.api.types.is_float_dtype(s) and s.notna().all() and np.all(
                np.mod(s.to_numpy(), 1) == 0):
            df[col] = s.astype("int64")
        elif pd.api.types.is_bool_dtype(s) or (
                pd.api.types.is_integer_dtype(s) and s.dtype != "int64"):
            df[col] = s.astype("int64")
