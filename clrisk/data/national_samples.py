"""National-format copies of a canonical sample, to exercise the "bring your own data" path.

Why generate them instead of shipping them: the files a statistics office publishes (an
ENAHO-like Stata survey with Spanish variable names and value labels, a census in SPSS with its
own names, a Shapefile in a projected CRS) are exactly what the profile's ``mapping:`` rules must
turn back into the canonical schema. Writing them from the canonical sample gives a round trip
with a known answer: loading the national files through their profile must reproduce the
canonical tables. Nothing here is real data: they are re-encodings of the synthetic sample.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from clrisk.io import atomic_path, atomic_write

# ENAHO-style education level (p301a) -> years at the start of that level. Years of schooling
# are the level's base plus the last grade passed (p301b); see _schooling_codes.
LEVEL_BASE_YEARS = {1: 0, 2: 0, 3: 0, 4: 6, 5: 6, 6: 11, 7: 11, 8: 14, 9: 11, 10: 16, 11: 17}
LEVEL_LABELS = {1: "Sin nivel", 2: "Educación inicial", 3: "Primaria incompleta",
                4: "Primaria completa", 5: "Secundaria incompleta", 6: "Secundaria completa",
                7: "Superior no universitaria incompleta",
                8: "Superior no universitaria completa", 9: "Superior universitaria incompleta",
                10: "Superior universitaria completa", 11: "Maestría/Doctorado"}
YES_NO = {1: "Sí", 2: "No"}
SEX = {1: "Hombre", 2: "Mujer"}
AREA = {1: "Urbano", 2: "Rural"}
TONGUE = {1: "Quechua", 2: "Aimara", 3: "Otra lengua nativa", 4: "Castellano",
          9: "No sabe / no responde"}
POVERTY = {1: "Pobre extremo", 2: "Pobre no extremo", 3: "No pobre"}
RESIDENT = {1: "Miembro del hogar", 2: "No miembro (visitante)"}
MIN_WORK_AGE = 14  # national minimum age in the synthetic child-labour definition below
CHILD_LABOUR_EXPR = "(p208a < 14 & trabajo_horas > 0) | trabajo_horas >= 36"


def _schooling_codes(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Years 0-17 -> (level code, last grade passed) so base(level) + grade == years."""
    level = np.select(
        [years == 0, years <= 5, years == 6, years <= 10, years == 11, years <= 15, years == 16],
        [1, 3, 4, 5, 6, 9, 10], default=11)
    base = np.vectorize(LEVEL_BASE_YEARS.get)(level)
    return level.astype("int64"), (years - base).astype("int64")


def _id_parts(ids: pd.Series, regions: pd.Series) -> tuple[dict[str, pd.Series], list[int]]:
    """Split territory ids into integer code columns (no zero padding, as offices store them).

    Peru's ubigeo (6 digits) becomes department/province/district (ccdd/ccpp/ccdi); other
    digit codes become region code + rest.
    """
    ids = ids.astype(str)
    regions = regions.astype(str)
    lengths = ids.str.len().unique()
    rlen = regions.str.len().unique()
    if not (ids.str.isdigit().all() and len(lengths) == 1 and len(rlen) == 1
            and (ids.str[: int(rlen[0])] == regions).all()):
        raise ValueError("territory ids are not fixed-width digit codes prefixed by the region")
    n, r = int(lengths[0]), int(rlen[0])
    if n == 6 and r == 2:
        return ({"ccdd": ids.str[:2].astype(int), "ccpp": ids.str[2:4].astype(int),
                 "ccdi": ids.str[4:].astype(int)}, [2, 2, 2])
    return {"ccdd": ids.str[:r].astype(int), "ccdi": ids.str[r:].astype(int)}, [r, n - r]


def _coded(x: pd.Series, ones: list[int], zero: int, rng: np.random.Generator) -> np.ndarray:
    """0/1 -> national codes: a 1 becomes one of ``ones`` at random, a 0 becomes ``zero``."""
    pick = rng.choice(ones, size=len(x))
    return np.where(x.to_numpy() == 1, pick, zero).astype("int64")


def national_survey(survey: pd.DataFrame, seed: int = 11) -> tuple[pd.DataFrame, dict, dict]:
    """ENAHO-like child file: Spanish names, national codes, work hours, extra rows to filter."""
    rng = np.random.default_rng(seed)
    s = survey.reset_index(drop=True)
    parts, widths = _id_parts(s["territory_id"], s["region_id"])
    out = pd.DataFrame({"codperso": s["child_id"].astype(str),
                        "codhogar": s["household_id"].astype(str), **parts,
                        "conglome": s["psu"].astype(str), "estrato": s["stratum"].astype(str),
                        "factor07": s["weight"].astype(float)})
    labels: dict[str, dict[int, str]] = {}
    cols = set(s.columns)
    if "age" in cols:
        out["p208a"] = s["age"].astype("int64")
    if "female" in cols:
        out["p207"] = np.where(s["female"] == 1, 2, 1)
        labels["p207"] = SEX
    if "indigenous" in cols:
        out["p300a"] = _coded(s["indigenous"], [1, 2, 3], 4, rng)
        labels["p300a"] = TONGUE
    if "head_schooling" in cols:
        out["p301a_jefe"], out["p301b_jefe"] = _schooling_codes(
            s["head_schooling"].to_numpy().astype("int64"))
        labels["p301a_jefe"] = LEVEL_LABELS
    if "female_head" in cols:
        out["p207_jefe"] = np.where(s["female_head"] == 1, 2, 1)
        labels["p207_jefe"] = SEX
    if "household_size" in cols:
        out["mieperho"] = s["household_size"].astype("int64")
    if "n_children" in cols:
        out["n_menores"] = s["n_children"].astype("int64")
    if "poverty" in cols:
        out["pobreza"] = _coded(s["poverty"], [1, 2], 3, rng)
        labels["pobreza"] = POVERTY
    if "social_programme" in cols:
        out["juntos"] = np.where(s["social_programme"] == 1, 1, 2)
        labels["juntos"] = YES_NO
    if "adult_unemployed" in cols:
        out["desocup_adulto"] = s["adult_unemployed"].astype("int64")
    if "rural" in cols:
        out["area"] = np.where(s["rural"] == 1, 2, 1)
        labels["area"] = AREA
    if "school_attendance" in cols:
        out["p307"] = np.where(s["school_attendance"] == 1, 1, 2)
        labels["p307"] = YES_NO
    for c in ("health_insurance",):
        if c in cols:
            out["seguro"] = np.where(s[c] == 1, 1, 2)
            labels["seguro"] = YES_NO
    # hours worked last week, consistent with the definition in CHILD_LABOUR_EXPR
    age = s["age"].to_numpy()
    cl = s["child_labour"].to_numpy() == 1
    young = age < MIN_WORK_AGE
    hours = np.where(cl & young, rng.integers(1, 31, len(s)),
                     np.where(cl, rng.integers(36, 61, len(s)),
                              np.where(young, 0, rng.integers(0, 36, len(s)) *
                                       (rng.random(len(s)) < 0.4))))
    out["trabajo_horas"] = hours.astype("int64")
    out["p204"] = 1
    labels["p204"] = RESIDENT
    # rows the profile's filters must drop: a few visitors and adults of the same households
    k = max(3, len(s) // 50)
    extra = out.sample(n=2 * k, random_state=seed).copy()
    extra["codperso"] = [f"X{i:05d}" for i in range(2 * k)]
    extra.iloc[:k, extra.columns.get_loc("p204")] = 2
    extra.iloc[k:, extra.columns.get_loc("p208a")] = rng.integers(25, 60, k)
    extra["trabajo_horas"] = 40
    out = pd.concat([out, extra], ignore_index=True)
    out = out.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    col_labels = {"codperso": "Código de la persona", "codhogar": "Código del hogar",
                  "conglome": "Conglomerado", "estrato": "Estrato",
                  "factor07": "Factor de expansión", "p208a": "Edad en años cumplidos",
                  "p207": "Sexo", "trabajo_horas": "Horas trabajadas la semana pasada",
                  "p204": "¿Es miembro del hogar?"}
    return out, labels, {"widths": widths, "col_labels": col_labels}


def survey_mapping(columns: list[str], widths: list[int], age_range: list[int]) -> dict:
    """The profile rules that turn ``national_survey`` back into the canonical survey."""
    code_cols = ["ccdd", "ccpp", "ccdi"] if len(widths) == 3 else ["ccdd", "ccdi"]
    recode: list[dict[str, Any]] = []
    if "p207" in columns:
        recode.append({"column": "female", "from": "p207", "map": {1: 0, 2: 1}})
    if "p300a" in columns:
        recode.append({"column": "indigenous", "from": "p300a",
                       "map": {1: 1, 2: 1, 3: 1, 4: 0}})
    if "p301a_jefe" in columns:
        recode.append({"column": "_base_years", "from": "p301a_jefe",
                       "map": dict(LEVEL_BASE_YEARS)})
    if "p207_jefe" in columns:
        recode.append({"column": "female_head", "from": "p207_jefe", "map": {1: 0, 2: 1}})
    if "pobreza" in columns:
        recode.append({"column": "poverty", "from": "pobreza", "map": {1: 1, 2: 1, 3: 0}})
    if "juntos" in columns:
        recode.append({"column": "social_programme", "from": "juntos", "map": {1: 1, 2: 0}})
    if "area" in columns:
        recode.append({"column": "rural", "from": "area", "map": {1: 0, 2: 1}})
    if "p307" in columns:
        recode.append({"column": "school_attendance", "from": "p307", "map": {1: 1, 2: 0}})
    if "seguro" in columns:
        recode.append({"column": "health_insurance", "from": "seguro", "map": {1: 1, 2: 0}})
    derive = {"child_labour": CHILD_LABOUR_EXPR}
    if "p301a_jefe" in columns:
        derive["head_schooling"] = "_base_years + p301b_jefe"
    rename = {"codperso": "child_id", "codhogar": "household_id", "p208a": "age"}
    for src, dst in (("mieperho", "household_size"), ("n_menores", "n_children"),
                     ("desocup_adulto", "adult_unemployed")):
        if src in columns:
            rename[src] = dst
    lo, hi = age_range
    return {
        "territory_id": {"columns": code_cols, "widths": widths},
        "region_id": {"columns": ["ccdd"], "widths": [widths[0]]},
        "recode": recode,
        "derive": derive,
        "filter": [f"p208a >= {lo} & p208a <= {hi}", "p204 == 1"],
        "rename": rename,
    }


CENSUS_NAMES = {"age": "edad", "household_size": "tot_personas", "n_children": "tot_menores",
                "adult_unemployed": "desocupado"}


def national_census(census: pd.DataFrame, seed: int = 12) -> tuple[pd.DataFrame, dict]:
    """CPV-like census: numeric ubigeo (leading zero lost), own names and 1/2 codes."""
    rng = np.random.default_rng(seed)
    c = census.reset_index(drop=True)
    out = pd.DataFrame({"ubigeo": c["territory_id"].astype(str).astype("int64")})
    labels: dict[str, dict[int, str]] = {}
    cols = set(c.columns)
    for canon, nat in CENSUS_NAMES.items():
        if canon in cols:
            out[nat] = c[canon].astype("int64")
    if "female" in cols:
        out["sexo"] = np.where(c["female"] == 1, 2, 1)
        labels["sexo"] = SEX
    if "indigenous" in cols:
        out["lengua_materna"] = _coded(c["indigenous"], [1, 2, 3], 4, rng)
        labels["lengua_materna"] = TONGUE
    if "head_schooling" in cols:
        out["nivel_jefe"], out["grado_jefe"] = _schooling_codes(
            c["head_schooling"].to_numpy().astype("int64"))
        labels["nivel_jefe"] = LEVEL_LABELS
    if "female_head" in cols:
        out["sexo_jefe"] = np.where(c["female_head"] == 1, 2, 1)
        labels["sexo_jefe"] = SEX
    for canon, nat in (("poverty", "nbi"), ("social_programme", "prog_social"),
                       ("school_attendance", "asiste"), ("health_insurance", "seguro")):
        if canon in cols:
            out[nat] = np.where(c[canon] == 1, 1, 2)
            labels[nat] = YES_NO
    if "rural" in cols:
        out["area"] = np.where(c["rural"] == 1, 2, 1)
        labels["area"] = AREA
    if "weight" in cols:
        out["factor_censo"] = c["weight"].astype(float)
    return out, labels


def census_mapping(columns: list[str], id_width: int) -> dict:
    recode = []
    pairs = (("female", "sexo", {1: 0, 2: 1}), ("indigenous", "lengua_materna",
                                                {1: 1, 2: 1, 3: 1, 4: 0}),
             ("_base_years", "nivel_jefe", dict(LEVEL_BASE_YEARS)),
             ("female_head", "sexo_jefe", {1: 0, 2: 1}), ("poverty", "nbi", {1: 1, 2: 0}),
             ("social_programme", "prog_social", {1: 1, 2: 0}),
             ("school_attendance", "asiste", {1: 1, 2: 0}),
             ("health_insurance", "seguro", {1: 1, 2: 0}), ("rural", "area", {1: 0, 2: 1}))
    for canon, nat, mp in pairs:
        if nat in columns:
            recode.append({"column": canon, "from": nat, "map": mp})
    rules: dict[str, Any] = {"territory_id": {"columns": ["ubigeo"], "widths": [id_width]},
                             "recode": recode,
                             "rename": {nat: canon for canon, nat in CENSUS_NAMES.items()
                                        if nat in columns}}
    if "nivel_jefe" in columns:
        rules["derive"] = {"head_schooling": "_base_years + grado_jefe"}
    if "factor_censo" in columns:
        rules["rename"]["factor_censo"] = "weight"
    return rules


def _write_labelled(df: pd.DataFrame, path: Path, labels: dict, col_labels: dict | None = None
                    ) -> None:
    import pyreadstat

    names = list(df.columns)
    column_labels = [(col_labels or {}).get(c, "") for c in names]
    with atomic_path(path) as tmp:
        if path.suffix == ".dta":
            pyreadstat.write_dta(df, str(tmp), variable_value_labels=labels,
                                 column_labels=column_labels, version=15)
        else:
            pyreadstat.write_sav(df, str(tmp), variable_value_labels=labels,
                                 column_labels=column_labels)


def write_national_sample(country_key: str | Path, out_dir: str | Path,
                          census_format: str = "sav") -> Path:
    """Write national-format files for a canonical sample into ``out_dir``; return the profile.

    Files: ``enaho_ninos.dta`` (survey, Stata, value labels), ``enaho_ninos.csv`` (the same
    survey as a latin-1, ``;``-separated CSV with a decimal-comma weight, used by
    ``profile_csv.yaml``), ``censo_ninos.sav`` (or ``.parquet``), ``distritos.shp`` (EPSG:32718
    or the profile's projected CRS), ``registros_admin.csv``, ``servicios.csv`` and
    ``profile.yaml`` with the mapping rules. Countries without a survey (IVTI only) get the
    territory and administrative files only.
    """
    from clrisk.data.country import load_country

    canon = load_country(country_key)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prof = copy.deepcopy(canon.profile.raw)
    files: dict[str, Any] = {}
    mapping: dict[str, Any] = {}
    prof.pop("mapping", None)

    # territories: projected Shapefile, id and names under national column names
    crs = canon.profile.projected_crs or "EPSG:32718"
    names = {"territory_id": "IDDIST", "name": "NOMBDIST", "region_id": "IDDPTO",
             "region_name": "NOMBDPTO"}
    keep = [c for c in names if c in canon.territories.columns]
    terr = canon.territories[keep + ["geometry"]].rename(columns=names)
    terr.to_crs(crs).to_file(out / "distritos.shp", driver="ESRI Shapefile", encoding="utf-8")
    files["territories"] = "distritos.shp"
    mapping["territories"] = {"rename": {names[c]: c for c in keep}}
    prof["crs"] = crs

    if canon.survey is not None and canon.census is not None:
        nat, labels, meta = national_survey(canon.survey)
        _write_labelled(nat, out / "enaho_ninos.dta", labels, meta["col_labels"])
        csv = nat.copy()
        csv.insert(0, "año", 2019)  # survey year, as in ENAHO exports (a non-ASCII name)
        csv["factor07"] = csv["factor07"].map(lambda v: f"{v:.6f}".rstrip("0").rstrip(".")
                                              .replace(".", ","))
        with atomic_write(out / "enaho_ninos.csv", encoding="latin-1") as fh:
            csv.to_csv(fh, sep=";", index=False, lineterminator="\n")
        files["survey"] = "enaho_ninos.dta"
        prof["design"] = {"weight": "factor07", "stratum": "estrato", "psu": "conglome"}
        mapping["survey"] = survey_mapping(list(nat.columns), meta["widths"],
                                           list(canon.profile.age_range))
        cen, clabels = national_census(canon.census)
        id_width = int(canon.census["territory_id"].astype(str).str.len().max())
        if census_format == "parquet":
            with atomic_path(out / "censo_ninos.parquet") as tmp:
                cen.to_parquet(tmp, index=False)
            files["census"] = "censo_ninos.parquet"
        else:
            _write_labelled(cen, out / "censo_ninos.sav", clabels)
            files["census"] = "censo_ninos.sav"
        mapping["census"] = census_mapping(list(cen.columns), id_width)
    if canon.admin_records is not None:
        adm = canon.admin_records.rename(columns={"territory_id": "ubigeo"})
        with atomic_write(out / "registros_admin.csv") as fh:
            adm.to_csv(fh, index=False, lineterminator="\n")
        files["admin_records"] = "registros_admin.csv"
        mapping["admin_records"] = {"rename": {"ubigeo": "territory_id"}}
    if canon.services is not None:
        with atomic_write(out / "servicios.csv") as fh:
            canon.services.to_csv(fh, index=False, lineterminator="\n")
        files["services"] = "servicios.csv"
    prof["files"] = files
    prof["mapping"] = mapping
    prof["synthetic"] = True
    text = ("# National-format re-encoding of the SYNTHETIC sample '"
            f"{canon.key}' (clrisk.data.national_samples).\n"
            + yaml.safe_dump(prof, sort_keys=False, allow_unicode=True, width=100,
                             default_flow_style=None))
    with atomic_write(out / "profile.yaml") as fh:
        fh.write(text)
    if "survey" in files:
        prof_csv = copy.deepcopy(prof)
        prof_csv["files"]["survey"] = {"path": "enaho_ninos.csv", "decimal": ",", "sep": ";",
                                       "encoding": "latin-1"}
        with atomic_write(out / "profile_csv.yaml") as fh:
            fh.write(yaml.safe_dump(prof_csv, sort_keys=False, allow_unicode=True, width=100,
                                    default_flow_style=None))
    return out / "profile.yaml"


# ---------------------------------------------------------------------------------------------
# Helpers for the chapter "Using your own data" (text in the reader's language, no logic there)
# ---------------------------------------------------------------------------------------------
def describe_national_files(profile: Any, has_survey: bool, lang: str | None = None) -> str:
    """Markdown paragraph describing the national files written for this country."""
    from clrisk.i18n import _, get_language

    if has_survey:
        return _("The survey `enaho_ninos.dta` is a Stata file in the style of Peru's national "
                 "household survey (ENAHO): one row per person, the territory split into "
                 "`ccdd` / `ccpp` / `ccdi` codes, the expansion factor `factor07`, the design "
                 "columns `estrato` and `conglome`, and the hours worked last week "
                 "(`trabajo_horas`) from which child labour is defined. It also holds a few "
                 "adults and visitors that the profile must filter out. `enaho_ninos.csv` is the "
                 "same survey exported as a latin-1, semicolon-separated CSV with a decimal comma "
                 "in the weight. The census `censo_ninos.sav` is an SPSS file with its own names; "
                 "the districts are a Shapefile in a projected CRS.", lang)
    return _("**The survey part of this chapter does not apply to {country}**: its profile uses "
             "the instruments `{instruments}` — there is no household survey with a "
             "child-labour module paired with a census. The national files are therefore the "
             "territory polygons (a projected Shapefile with the territory code under another "
             "name), the administrative records per territory and the services; the same steps "
             "apply to them.", lang).format(country=profile.name(lang or get_language()),
                                            instruments=", ".join(profile.instruments))


def _same(a: pd.DataFrame | None, b: pd.DataFrame | None, key: list[str]) -> bool | None:
    if a is None or b is None:
        return None if a is None and b is None else False
    cols = sorted(a.columns)
    if cols != sorted(b.columns):
        return False
    a = a[cols].sort_values(key).reset_index(drop=True)
    b = b[cols].sort_values(key).reset_index(drop=True)
    return bool(a.equals(b))


def round_trip(mine: Any, canonical: Any) -> dict[str, bool | None]:
    """Whether each table loaded from the national files equals the canonical one (None: n/a)."""
    census_key = sorted(canonical.census.columns) if canonical.census is not None else []
    return {
        "survey": _same(mine.survey, canonical.survey, ["child_id"]),
        "census": _same(mine.census, canonical.census, census_key),
        "admin_records": _same(mine.admin_records, canonical.admin_records, ["territory_id"]),
        "territories": sorted(mine.territories["territory_id"])
        == sorted(canonical.territories["territory_id"]),
    }


def round_trip_report(mine: Any, canonical: Any, lang: str | None = None) -> str:
    """Plain-text lines "survey identical: yes" etc., in the reader's language."""
    from clrisk.i18n import _

    names = {"survey": _("survey identical", lang), "census": _("census identical", lang),
             "admin_records": _("administrative records identical", lang),
             "territories": _("territory codes identical", lang)}
    words = {True: _("yes", lang), False: _("NO", lang), None: _("not applicable", lang)}
    result = round_trip(mine, canonical)
    width = max(len(n) for n in names.values()) + 1
    return "\n".join(f"{names[k] + ':':<{width}} {words[v]}" for k, v in result.items())
