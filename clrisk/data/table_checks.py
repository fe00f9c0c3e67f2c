"""Checks of one canonical table against the profile (survey, census, records, services).

Why apart from ``validate``: ``validate`` holds generic checks (a column is binary, weights are
positive...); this module decides which of them apply to which table of a country, and what
"fine" looks like in the report. ``country.inspect_country`` calls these in order.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from clrisk.data import validate as V
from clrisk.data.mapping import code_text
from clrisk.data.validate import Report
from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.profile import Profile
from clrisk.schema import (
    ADMIN_REQUIRED,
    CENSUS_REQUIRED,
    COVARIATES,
    SERVICES_REQUIRED,
    SURVEY_REQUIRED,
)


def table_name(kind: str) -> str:
    """Translated name of a table, for messages."""
    return {"survey": _("survey"), "census": _("census"), "territories": _("territories"),
            "admin_records": _("administrative records"), "services": _("services")}[kind]


def covariates_here(profile: Profile, df: pd.DataFrame) -> list[str]:
    return [c for c in profile.covariates if c in df.columns]


def check_survey(profile: Profile, df: pd.DataFrame, path: Path, report: Report) -> bool:
    if report.fail(V.empty_table(df, path, _("survey"))):
        return False
    if report.fail(V.missing_columns(df, list(SURVEY_REQUIRED), path, "survey")):
        return False
    ok = True
    for err in (V.duplicated_rows(df, path, _("survey")),
                V.unique(df, "child_id", path, _("survey")),
                V.binary(df, "child_labour", path),
                V.weights(df, "weight", path),
                V.ages(df, profile.age_range, path),
                V.numeric(df, covariates_here(profile, df), path, "survey")):
        ok = not report.fail(err) and ok
    if ok:
        report.ok(_("survey: {n} children, {h} households, {c} covariates, weights > 0, "
                    "child_labour 0/1").format(n=len(df), h=df["household_id"].nunique(),
                                               c=len(covariates_here(profile, df))))
    return ok


def check_census(profile: Profile, df: pd.DataFrame, path: Path, report: Report) -> bool:
    if report.fail(V.empty_table(df, path, _("census"))):
        return False
    if report.fail(V.missing_columns(df, list(CENSUS_REQUIRED), path, "census")):
        return False
    ok = True
    checks = [V.ages(df, profile.age_range, path),
              V.numeric(df, covariates_here(profile, df), path, "census")]
    if "weight" in df.columns:
        checks.append(V.weights(df, "weight", path, required=False))
    for err in checks:
        ok = not report.fail(err) and ok
    if ok:
        report.ok(_("census: {n} children in {t} territories").format(
            n=len(df), t=df["territory_id"].nunique()))
    return ok


def normalise(df: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    cols = [c for c in df.columns if c in set(profile.covariates) | {"child_labour", "age"}
            or c in COVARIATES]
    V.integral_to_int(df, cols)
    if "weight" in df.columns and pd.api.types.is_numeric_dtype(df["weight"]):
        df["weight"] = df["weight"].astype("float64")
    return df  # index = file row until the cross-table checks are done


def check_census_stream(profile: Profile, path: Path, report: Report) -> set[str] | None:
    """Validate a large Parquet census batch by batch; return its territory ids."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = pf.schema_arrow.names
    head = pd.DataFrame(columns=cols)
    if report.fail(V.missing_columns(head, list(CENSUS_REQUIRED), path, "census")):
        return None
    covs = [c for c in profile.covariates if c in cols]
    ids: set[str] = set()
    offset = 0
    for batch in pf.iter_batches(columns=["territory_id"] + covs, batch_size=500_000):
        chunk = batch.to_pandas()
        chunk.index = range(offset, offset + len(chunk))
        offset += len(chunk)
        if report.fail(V.numeric(chunk, covs, path, "census")):
            return None
        ids |= set(code_text(chunk["territory_id"]).dropna())
    report.note(_("census has {n} rows: not loaded in memory; scoring streams it from {f}"
                  ).format(n=offset, f=path.name))
    report.ok(_("census: {n} children in {t} territories (checked in batches)").format(
        n=offset, t=len(ids)))
    return ids


def check_admin(profile: Profile, df: pd.DataFrame, path: Path, report: Report) -> bool:
    if report.fail(V.empty_table(df, path, _("administrative records"))):
        return False
    required = list(ADMIN_REQUIRED) + profile.ivti_indicators
    if report.fail(V.missing_columns(
            df, required, path, "admin_records",
            _("add the indicator columns listed under ivti.indicators in the profile, or "
              "remove the indicators that this country does not have"))):
        return False
    ok = not report.fail(V.unique(df, "territory_id", path, _("administrative records")))
    ok = not report.fail(V.numeric(df, profile.ivti_indicators, path, "admin_records",
                                   allow_missing=True)) and ok
    if ok:
        report.ok(_("administrative records: {n} territories, {k} indicators").format(
            n=len(df), k=len(profile.ivti_indicators)))
    return ok


def check_services(profile: Profile, df: pd.DataFrame, path: Path, report: Report) -> bool:
    if report.fail(V.empty_table(df, path, _("services"))):
        return False
    if report.fail(V.missing_columns(df, list(SERVICES_REQUIRED), path, "services")):
        return False
    known = set(profile.covariates) | set(profile.ivti_indicators) | set(COVARIATES)
    listed = df["factors"].fillna("").astype(str).str.split(";")
    bad = listed.map(lambda fs: any(f.strip() and f.strip() not in known for f in fs))
    if bad.any():
        first = next(f.strip() for f in listed[bad].iloc[0] if f.strip() not in known)
        near = difflib.get_close_matches(first, sorted(known), 1)
        report.fail(data_error(path, _("factor '{f}' is not a covariate or indicator of the "
                                       "profile").format(f=first),
                               (_("did you mean '{near}'?").format(near=near[0]) if near else
                                _("separate factors with ';' and use covariate names")),
                               column="factors", rows=V.rows_of(bad)))
        return False
    report.ok(_("services: {n} services in {t} territories").format(
        n=len(df), t=df["territory_id"].nunique()))
    return True
