"""``load_country``: one call from a country folder (or a profile) to validated canonical tables.

Why one entry point: the chapters, the CLI and the tests all start from the same
``CountryData``, whatever formats the national files came in. ``inspect_country`` does the same
work but collects every problem in a ``Report`` (for ``clrisk check``); ``load_country`` stops at
the first problem and raises it as a ``DataError``.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.data import validate as V
from clrisk.data.mapping import apply_mapping, code_text, mapped_outputs
from clrisk.data.readers import Table, parquet_rows, read_geo, read_table
from clrisk.data.table_checks import (
    check_admin,
    check_census,
    check_census_stream,
    check_services,
    check_survey,
    normalise,
    table_name,
)
from clrisk.data.validate import Report
from clrisk.errors import DataError, data_error
from clrisk.i18n import _, get_language
from clrisk.profile import Profile, load_profile
from clrisk.schema import (
    ADMIN_REQUIRED,
    CENSUS_REQUIRED,
    COVARIATES,
    SERVICES_REQUIRED,
    SURVEY_REQUIRED,
    TERRITORIES_REQUIRED,
)

ID_COLUMNS = ("territory_id", "region_id", "child_id", "household_id", "stratum", "psu")
MAX_CENSUS_ROWS = 2_000_000


@dataclass
class CountryData:
    """Everything the pipeline needs for one country, in the canonical schema."""

    key: str
    root: Path
    profile: Profile
    survey: pd.DataFrame | None
    census: pd.DataFrame | None
    census_path: Path | None
    territories: Any  # geopandas.GeoDataFrame (EPSG:4326)
    admin_records: pd.DataFrame | None
    services: pd.DataFrame | None
    truth: dict | None
    notes: list[str] = field(default_factory=list)
    value_labels: dict[str, dict[str, dict[Any, str]]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Finding the profile
# ---------------------------------------------------------------------------------------------
def data_root() -> Path:
    """``$CLRISK_DATA`` or ``data_samples/`` at the repository root."""
    env = os.environ.get("CLRISK_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data_samples"


def available_countries() -> list[str]:
    root = data_root()
    return sorted(p.name for p in root.iterdir() if (p / "profile.yaml").is_file()) \
        if root.is_dir() else []


def resolve_profile(name_or_path: str | Path) -> Path:
    """A country key (folder under the data root), a folder, or a profile.yaml path."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    if p.is_dir():
        if (p / "profile.yaml").is_file():
            return p / "profile.yaml"
        raise DataError(f"{p}: " + _("no profile.yaml in this folder") + ". " + _("Fix") + ": "
                        + _("create one with 'clrisk init-profile'"))
    candidate = data_root() / str(name_or_path) / "profile.yaml"
    if candidate.is_file():
        return candidate
    known = available_countries()
    near = difflib.get_close_matches(str(name_or_path), known, 1)
    fix = (_("did you mean '{near}'?").format(near=near[0]) if near else
           _("available countries: {c}").format(c=", ".join(known) or "-"))
    raise DataError(f"{name_or_path}: " + _("unknown country or path (looked in {root})").format(
        root=data_root()) + ". " + _("Fix") + ": " + fix)


# ---------------------------------------------------------------------------------------------
# One table: read -> map -> canonical types
# ---------------------------------------------------------------------------------------------
def _string_columns(profile: Profile, kind: str) -> set[str]:
    rules = profile.table_mapping(kind)
    cols = set(ID_COLUMNS)
    cols |= {src for src, dst in (rules.get("rename") or {}).items() if dst in ID_COLUMNS}
    if kind in ("survey", "census"):
        cols |= {profile.design_column(r) for r in ("stratum", "psu")}
    return cols


def _needs_mapping(profile: Profile, kind: str) -> bool:
    if profile.table_mapping(kind):
        return True
    if kind in ("survey", "census") and any(
            profile.design.get(r, r) != r for r in ("weight", "stratum", "psu")):
        return True
    return kind == "survey" and profile.outcome != "child_labour"


def _read_mapped(profile: Profile, kind: str, report: Report) -> tuple[pd.DataFrame, Table] | None:
    path = profile.file(kind)
    assert path is not None
    try:
        if kind == "territories":
            table = read_geo(path, _string_columns(profile, kind),
                             layer=profile.file_options(kind).get("layer"))
        else:
            table = read_table(path, _string_columns(profile, kind), profile.file_options(kind))
    except DataError as exc:
        report.fail(exc)
        return None
    for n in table.notes:
        report.note(n)
    if kind == "territories" and profile.raw.get("crs"):
        declared, actual = profile.crs, table.data.attrs.get("source_crs")
        if actual and not _same_crs(declared, actual):
            report.note(_("the profile says crs {d} but {f} is in {a}; the file's CRS is "
                          "used").format(d=declared, f=path.name, a=actual))
    df = table.data
    if _needs_mapping(profile, kind):
        try:
            df, notes = apply_mapping(
                df, profile.table_mapping(kind), path, kind, table.value_labels,
                design=profile.design, outcome=profile.outcome,
                profile_where=profile.where("mapping", kind))
        except DataError as exc:
            report.fail(exc)
            return None
        for n in notes:
            report.note(n)
        keep = _canonical_columns(profile, kind, df, mapped_outputs(profile.table_mapping(kind)))
        df = df[keep]
    for col in ID_COLUMNS:
        if col in df.columns and not _all_text(df[col]):
            df[col] = code_text(df[col])
    return df, table


def _same_crs(a: str, b: str) -> bool:
    from pyproj import CRS

    try:
        return bool(CRS.from_user_input(a) == CRS.from_user_input(b))
    except Exception:  # an unparseable declared CRS is reported by comparison text
        return a == b


def _all_text(s: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        return True
    return bool(all(v is None or isinstance(v, str) or v != v for v in pd.unique(s)))


def _canonical_columns(profile: Profile, kind: str, df: pd.DataFrame,
                       outputs: set[str]) -> list[str]:
    required = {"survey": SURVEY_REQUIRED, "census": CENSUS_REQUIRED,
                "territories": TERRITORIES_REQUIRED, "admin_records": ADMIN_REQUIRED,
                "services": SERVICES_REQUIRED}[kind]
    wanted = list(required)
    if kind in ("survey", "census"):
        wanted += ["weight", "stratum", "psu", "age"] + profile.covariates + list(COVARIATES)
    if kind == "survey" and profile.design.get("fpc"):
        wanted.append(profile.design["fpc"])  # finite population correction (fit_risk_model)
    if kind == "admin_records":
        wanted += profile.ivti_indicators
    wanted += sorted(outputs)
    out: list[str] = []
    for c in wanted:
        if c in df.columns and c not in out:
            out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Table checks
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
def inspect_country(name_or_path: str | Path, max_census_rows: int = MAX_CENSUS_ROWS
                    ) -> tuple[CountryData | None, Report]:
    """Load and check everything, collecting all problems instead of stopping at the first."""
    report = V.Report()
    try:
        profile = load_profile(resolve_profile(name_or_path))
    except DataError as exc:
        report.fail(exc)
        return None, report
    report.ok(_("profile {f}: {c}, instruments {i}").format(
        f=profile.where(), c=profile.name(get_language()), i=", ".join(profile.instruments)))

    tables: dict[str, pd.DataFrame | None] = {}
    paths = {k: profile.file(k) for k in ("survey", "census", "territories", "admin_records",
                                            "services")}
    value_labels: dict[str, dict[str, dict[Any, str]]] = {}

    # territories first: every other table is checked against its ids
    geo = _read_mapped(profile, "territories", report)
    terr = None
    if geo is not None:
        terr, _t = geo
        tpath = paths["territories"]
        assert tpath is not None
        if not (report.fail(V.empty_table(terr, tpath, _("territories")))
                or report.fail(V.missing_columns(terr, list(TERRITORIES_REQUIRED), tpath,
                                                 "territories"))):
            ok = not report.fail(V.unique(terr, "territory_id", tpath, _("territories")))
            ok = not report.fail(V.geometries(terr, tpath)) and ok
            if ok:
                terr = terr.sort_values("territory_id").reset_index(drop=True)
                report.ok(_("territories: {n} polygons, unique ids, valid geometries, "
                            "EPSG:4326").format(n=len(terr)))
            else:
                terr = None
        else:
            terr = None

    census_path: Path | None = None
    census_ids: set[str] | None = None
    for kind in ("survey", "census", "admin_records", "services"):
        path = paths[kind]
        if path is None:
            tables[kind] = None
            continue
        if (kind == "census" and path.is_file() and _needs_mapping(profile, kind)
                and path.suffix.lower() in (".parquet", ".pq", ".dta", ".sav", ".zsav")):
            from clrisk.data.census_stream import map_census_to_cache, table_rows

            try:
                n_rows = table_rows(path)
            except DataError as exc:
                report.fail(exc)
                tables[kind] = None
                continue
            if n_rows is not None and n_rows > max_census_rows:
                tables[kind] = None
                streamed = map_census_to_cache(profile, path, report)
                if streamed is not None:
                    census_path, census_ids = streamed
                continue
        if (kind == "census" and path.suffix.lower() == ".parquet" and path.is_file()
                and not _needs_mapping(profile, kind)):
            try:
                n_rows = parquet_rows(path)
            except DataError as exc:
                report.fail(exc)
                tables[kind] = None
                continue
            census_path = path
            if n_rows > max_census_rows:
                tables[kind] = None
                census_ids = check_census_stream(profile, path, report)
                continue
        loaded = _read_mapped(profile, kind, report)
        if loaded is None:
            tables[kind] = None
            continue
        df, table = loaded
        if table.value_labels:
            value_labels[kind] = table.value_labels
        good = True
        if kind == "survey":
            good = check_survey(profile, df, path, report)
        elif kind == "census":
            good = check_census(profile, df, path, report)
        elif kind == "admin_records":
            good = check_admin(profile, df, path, report)
        else:
            good = check_services(profile, df, path, report)
        if good:
            df = normalise(df, profile)
        tables[kind] = df if good else None
        if kind == "census" and good:
            census_ids = set(df["territory_id"].dropna())

    # cross-table checks
    if terr is not None:
        tpath = paths["territories"]
        assert tpath is not None
        for kind in ("survey", "admin_records", "services"):
            df = tables.get(kind)
            if df is not None and paths[kind] is not None:
                if report.fail(V.territory_match(df["territory_id"], terr["territory_id"],
                                                 paths[kind], table_name(kind), tpath)):
                    tables[kind] = None
        if census_ids is not None and paths["census"] is not None:
            cdf = tables.get("census")
            ids = cdf["territory_id"] if cdf is not None else pd.Series(sorted(census_ids))
            if report.fail(V.territory_match(ids, terr["territory_id"], paths["census"],
                                             _("census"), tpath, file_rows=cdf is not None)):
                tables["census"] = None
                census_ids = None
    for kind, df in tables.items():  # file rows no longer needed: plain 0..n-1 index
        if df is not None:
            tables[kind] = df.reset_index(drop=True)
    survey, census = tables.get("survey"), tables.get("census")
    census_cols = (list(census.columns) if census is not None else
                   _parquet_columns(census_path) if census_ids is not None else None)
    if survey is not None and census_cols is not None:
        if not report.fail(V.covariate_presence(profile.covariates, list(survey.columns),
                                                census_cols, paths["survey"], paths["census"])):
            report.ok(_("covariates in both survey and census: {c}").format(
                c=", ".join(profile.covariates)))
    if profile.has_risk_model and (paths["survey"] is None or paths["census"] is None):
        report.fail(data_error(profile.path, _("the risk model needs a survey and a census"),
                               _("add them under files, or use instruments: [ivti]")))
    if not profile.has_risk_model:
        report.note(_("instrument: {i} (no survey-census risk model for this country)").format(
            i=", ".join(profile.instruments)))

    truth = _read_truth(profile)
    data = CountryData(
        key=profile.key, root=profile.root, profile=profile, survey=survey, census=census,
        census_path=census_path if census_ids is not None or census is not None else None,
        territories=terr, admin_records=tables.get("admin_records"),
        services=tables.get("services"), truth=truth, notes=list(report.notes),
        value_labels=value_labels)
    return data, report


def _parquet_columns(path: Path | None) -> list[str] | None:
    if path is None:
        return None
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(path).schema_arrow.names)


def _read_truth(profile: Profile) -> dict | None:
    path = profile.file("truth") or profile.root / "truth.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise data_error(path, _("invalid JSON at line {line}").format(line=exc.lineno),
                         _("regenerate it with 'python -m clrisk.synth'")) from exc


def load_country(name_or_path: str | Path, max_census_rows: int = MAX_CENSUS_ROWS
                 ) -> CountryData:
    """Load a country (key under data_samples/, a folder or a profile.yaml) or raise DataError.

    The census is kept in memory when it has at most ``max_census_rows`` rows. A larger
    canonical Parquet census is checked in batches and left on disk (``census_path``) for
    streaming scoring; a larger national-format census (Parquet, Stata, SPSS) is mapped in
    batches into a canonical Parquet cache, which ``census_path`` then points to.
    """
    data, report = inspect_country(name_or_path, max_census_rows)
    if report.errors:
        first = report.errors[0]
        extra = len(report.errors) - 1
        if extra:
            raise DataError(str(first) + " " + _("({n} more problem(s): run 'clrisk check' to "
                                                 "list them all)").format(n=extra)) from first
        raise first
    assert data is not None
    return data

