"""``clrisk init-profile``: inspect national files and write a starter ``profile.yaml``.

Why: writing a profile from a blank page is where teams give up. The command reads the files
(columns, types, value labels, CRS), guesses the identifier, weight, stratum and PSU columns
and the canonical covariates from common national names, and writes a profile whose every
guess is marked TODO, with the list of columns found as comments next to the rules to edit.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from clrisk.i18n import _
from clrisk.io import atomic_write

# Common national names for canonical roles (lower-case regular expressions).
ROLE_PATTERNS: dict[str, str] = {
    "weight": r"^(fac|factor|fex|peso|pond|weight|wgt|expan)",
    "stratum": r"^(estrato|strat|stratum|estr)",
    "psu": r"^(conglome|upm|psu|cluster|conglomerado|segmento)",
    "territory_id": r"(ubigeo|territory_id|iddist|cod_?mun|municipio|mpio|distrito|comuna|"
                    r"canton|cod_?terr)",
    "region_id": r"^(ccdd|dpto|depto|departamento|region|iddpto|uf|estado|provincia|ent)",
    "child_id": r"^(codperso|child_id|id_?persona|idper|persona|orden)",
    "household_id": r"^(codhogar|household_id|hogar|id_?hogar|folio)",
    "child_labour": r"(child_labour|trabajo_infantil|ti$|ocupado|trabaj)",
    "name": r"^(name|nombre|nombdist|nom_)",
}
COVARIATE_PATTERNS: dict[str, str] = {
    "age": r"^(age|edad|p208a|idade)$",
    "female": r"^(female|sexo|sex|p207|genero)$",
    "indigenous": r"(indigen|etnia|lengua|p300a|afro)",
    "head_schooling": r"(educ.*jefe|jefe.*educ|head_school|anios_jefe|nivel_jefe|p301a_jefe)",
    "female_head": r"(sexo_jefe|female_head|jefa|p207_jefe)",
    "household_size": r"(mieperho|household_size|tot_personas|tam_hogar)",
    "n_children": r"(n_children|n_menores|tot_menores|ninos_hogar)",
    "poverty": r"(pobre|poverty|nbi)",
    "social_programme": r"(juntos|programa|social_programme|prog_social|transfer)",
    "adult_unemployed": r"(desocup|unemploy|desemple)",
    "rural": r"^(rural|area|urbano_rural|zona)$",
    "school_attendance": r"(asiste|school_att|p307|asistencia)",
    "health_insurance": r"(seguro|insurance|salud)",
}

# Labels of the canonical covariates, written into a new profile so a team edits, not translates.
COVARIATE_LABELS: dict[str, tuple[str, str, str]] = {
    "age": ("Age (years)", "Edad (años)", "Âge (années)"),
    "female": ("Girl", "Niña", "Fille"),
    "indigenous": ("Indigenous or Afro-descendant", "Indígena o afrodescendiente",
                   "Autochtone ou afrodescendant"),
    "head_schooling": ("Household head's years of schooling", "Años de estudio del jefe de hogar",
                       "Années d’études du chef de ménage"),
    "female_head": ("Female household head", "Jefa de hogar mujer", "Cheffe de ménage"),
    "household_size": ("Household size", "Tamaño del hogar", "Taille du ménage"),
    "n_children": ("Number of children in the household", "Número de niños en el hogar",
                   "Nombre d’enfants dans le ménage"),
    "poverty": ("Household in poverty (UBN)", "Hogar en pobreza (NBI)",
                "Ménage pauvre (besoins essentiels insatisfaits)"),
    "social_programme": ("Receives a social programme", "Recibe un programa social",
                         "Bénéficie d’un programme social"),
    "adult_unemployed": ("An adult is unemployed", "Un adulto desocupado",
                         "Un adulte au chômage"),
    "school_attendance": ("Attends school", "Asiste a la escuela", "Fréquente l’école"),
    "health_insurance": ("Has health insurance", "Tiene seguro de salud",
                         "A une assurance maladie"),
    "rural": ("Rural area", "Área rural", "Zone rurale"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init-profile",
                              help=_("inspect national files and write a starter profile"))
    p.add_argument("--survey", help=_("household survey file (csv, parquet, dta, sav)"))
    p.add_argument("--census", help=_("census file (csv, parquet, dta, sav)"))
    p.add_argument("--territories", required=True,
                   help=_("territory polygons (geojson, gpkg, shp)"))
    p.add_argument("--admin-records", help=_("administrative records per territory (csv)"))
    p.add_argument("--out", default="profile.yaml", help=_("where to write the profile"))
    p.add_argument("--force", action="store_true", help=_("overwrite an existing profile"))
    p.set_defaults(func=run)


def describe_column(s: pd.Series, labels: dict[Any, str] | None) -> str:
    """One line: type, distinct values, examples or value labels."""
    kind = "number" if pd.api.types.is_numeric_dtype(s) else "text"
    n = s.nunique(dropna=True)
    if labels:
        shown = ", ".join(f"{k}={v}" for k, v in list(labels.items())[:6])
        return f"{kind}, {n} values, labels {{{shown}}}"
    vals = s.dropna()
    if pd.api.types.is_float_dtype(vals) and (vals == vals.round()).all():
        vals = vals.astype("int64")
    ex = ", ".join(str(v) for v in pd.unique(vals)[:4])
    miss = int(s.isna().sum())
    return f"{kind}, {n} values (e.g. {ex})" + (f", {miss} missing" if miss else "")


def guess(columns: list[str], patterns: dict[str, str]) -> dict[str, str]:
    """First column (in file order) matching each role's pattern; one column per role."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for role, pat in patterns.items():
        for c in columns:
            if c not in used and re.search(pat, c.lower()):
                out[role] = c
                used.add(c)
                break
    return out


# Roles worth guessing in each kind of file (a census has no weight of the survey, etc.).
KIND_ROLES = {
    "survey": tuple(ROLE_PATTERNS),
    "census": ("weight", "territory_id", "region_id"),
    "admin_records": ("territory_id",),
}


def inspect_table(path: Path, kind: str = "survey") -> dict[str, Any]:
    from clrisk.data.readers import read_table

    table = read_table(path)
    df = table.data
    cols = [str(c) for c in df.columns]
    roles = guess(cols, {k: v for k, v in ROLE_PATTERNS.items() if k in KIND_ROLES[kind]})
    rest = [c for c in cols if c not in roles.values()]
    return {"path": path, "columns": cols, "rows": len(df),
            "describe": {c: describe_column(df[c], table.value_labels.get(c)) for c in cols},
            "roles": roles, "covariates": guess(rest, COVARIATE_PATTERNS),
            "labels": table.value_labels, "notes": table.notes,
            "read_options": _read_options(table)}


def _read_options(table: Any) -> dict[str, str]:
    """CSV conventions detected while reading, to be written into the profile explicitly.

    Why explicit: detection is a guess on this copy of the file; the profile states the
    convention so a later export that differs is reported instead of silently misread.
    """
    if table.sep is None:
        return {}
    opts = {"sep": table.sep}
    if table.encoding not in (None, "utf-8"):
        opts["encoding"] = "utf-8-sig" if table.encoding == "utf-8-sig" else table.encoding
    if table.decimal_comma_columns:
        opts["decimal"] = ","
    return opts


def inspect_geo(path: Path) -> dict[str, Any]:
    import geopandas as gpd

    gdf = gpd.read_file(path)
    cols = [str(c) for c in gdf.columns if c != "geometry"]
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    return {"path": path, "columns": cols, "rows": len(gdf), "crs": crs,
            "describe": {c: describe_column(gdf[c], None) for c in cols},
            "roles": guess(cols, ROLE_PATTERNS)}


def _rel(path: Path, out: Path) -> str:
    return os.path.relpath(path.resolve(), out.resolve().parent)


def _columns_comment(info: dict[str, Any], indent: str) -> list[str]:
    lines = [f"{indent}# {_('Columns found in {f} ({n} rows):').format(f=info['path'].name, n=info['rows'])}"]
    for c in info["columns"]:
        lines.append(f"{indent}#   {c}: {info['describe'][c]}")
    return lines


def _q(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def build_profile_text(survey: dict | None, census: dict | None, geo: dict,
                       admin: dict | None, out: Path) -> str:
    """The starter profile as YAML text with TODO comments (deterministic)."""
    from clrisk.schema import COVARIATES

    todo = _("TODO")
    covs: list[str] = []
    if survey and census:
        covs = [c for c in COVARIATES if c in survey["covariates"] and c in census["covariates"]]
    instruments = (["risk_model"] if survey and census else []) + (["ivti"] if admin else [])
    if not instruments:
        instruments = ["risk_model"]
    L: list[str] = [
        "# " + _("Starter profile written by 'clrisk init-profile'."),
        "# " + _("Every line marked TODO is a guess or a placeholder: check it, then run"),
        "#   clrisk check --profile " + out.name,
        "confirmed: false  # " + _("set to true once a person has checked every TODO line "
                                   "(check and run refuse false)"),
        f"country: my_country  # {todo}: " + _("a short key in lower case, e.g. peru"),
        f"names: {{en: {_q(todo)}, es: {_q(todo)}, fr: {_q(todo)}}}  # {todo}",
        "admin_levels:",
        f"  region: {{en: Region, es: Región, fr: Région}}  # {todo}",
        f"  territory: {{en: Territory, es: Territorio, fr: Territoire}}  # {todo}",
        "age_range: [5, 17]",
        f"instruments: [{', '.join(instruments)}]",
    ]
    crs = geo.get("crs")
    if crs:
        L.append(f"crs: {_q(crs)}  # " + _("read from {f}").format(f=geo["path"].name))
    else:
        L.append(f"crs: \"EPSG:4326\"  # {todo}: " + _("{f} has NO CRS: save it with one").format(
            f=geo["path"].name))
    L.append(f"projected_crs: \"EPSG:32718\"  # {todo}: " +
             _("a projected CRS for areas and distances"))
    L.append("synthetic: false")
    L.append("files:")
    for kind, info in (("survey", survey), ("census", census), ("territories", geo),
                       ("admin_records", admin)):
        if info and info.get("read_options"):
            opts = ", ".join(f"{k}: {_q(v)}" for k, v in info["read_options"].items())
            L.append(f"  {kind}: {{path: {_q(_rel(info['path'], out))}, {opts}}}  # " +
                     _("detected while reading the file"))
        elif info:
            L.append(f"  {kind}: {_q(_rel(info['path'], out))}")
    if survey:
        r = survey["roles"]
        L.append("design:  # " + _("survey design columns (candidates guessed from names)"))
        for role in ("weight", "stratum", "psu"):
            col = r.get(role)
            L.append(f"  {role}: {col}" if col else f"  {role}: {role}  # {todo}: " +
                     _("no candidate found"))
        L.append("outcome: child_labour")
        L.append(f"child_labour_definition:  # {todo}: " + _("the national legal definition"))
        for lang in ("en", "es", "fr"):
            L.append(f"  {lang}: {_q(todo)}")
    L.append("covariates:" + ("" if covs else " []"))
    for c in covs:
        en, es, fr = COVARIATE_LABELS.get(c, (c, c, c))
        spec = COVARIATES[c]
        L.append(f"  - name: {c}")
        L.append(f"    labels: {{en: {_q(en)}, es: {_q(es)}, fr: {_q(fr)}}}")
        L.append(f"    expected_sign: {spec.expected_sign}")
        if spec.reference is not None:
            L.append(f"    factor: {{reference: {spec.reference:g}, sector: {spec.sector}}}")
    L.append("risk_levels: {method: quantiles, k: 3}")
    if admin:
        L.append("ivti:")
        L.append("  indicators:  # " + todo + ": " + _("dimension and direction of each"))
        for c in admin["columns"]:
            if c == admin["roles"].get("territory_id"):
                continue
            L.append(f"    - {{name: {c}, dimension: {todo.lower()}, direction: 1}}")
        L.append("  dimension_weights: null")
    L.append("mapping:")
    for kind, info in (("survey", survey), ("census", census), ("territories", geo),
                       ("admin_records", admin)):
        if not info:
            continue
        L.append(f"  {kind}:")
        head = len(L)
        L += _columns_comment(info, "    ")
        rename = {}
        roles = info["roles"]
        for role in ("territory_id", "region_id", "child_id", "household_id", "name"):
            col = roles.get(role)
            if col and col != role and (kind == "survey" or role in ("territory_id", "name",
                                                                      "region_id")):
                rename[col] = role
        for canon, col in (info.get("covariates") if kind in ("survey", "census") else {}).items():
            if canon in covs and col != canon and info.get("labels", {}).get(col) is None:
                rename[col] = canon
        recodes = [(canon, col) for canon, col in (info.get("covariates") if kind in ("survey", "census") else {}).items()
                   if canon in covs and info.get("labels", {}).get(col)]
        if recodes:
            L.append(f"    recode:  # {todo}: " + _("map the national codes to the canonical "
                                                     "values (0/1 for yes/no)"))
            for canon, col in recodes:
                codes = ", ".join(f"{k}: {todo}" for k in info["labels"][col])
                L.append(f"      - {{column: {canon}, from: {col}, map: {{{codes}}}}}")
        if "territory_id" not in roles and kind in ("survey", "census"):
            codes = [c for c in info["columns"] if re.match(r"^(cc|cod_?)(dd|pp|di|dpto|prov|dist)",
                                                            c.lower())][:3]
            if codes:
                widths = ", ".join("2" for _c in codes)
                L.append(f"    territory_id: {{columns: [{', '.join(codes)}], widths: [{widths}]}}"
                         f"  # {todo}: " + _("zero-padded code columns joined into the id"))
        if kind == "survey":
            cl = roles.get("child_labour")
            expr = f"{cl} > 0" if cl else todo
            L.append(f"    derive:  # {todo}: " + _("child_labour as an expression over the "
                                                     "survey's work variables"))
            L.append(f"      child_labour: {_q(expr)}")
        if rename:
            L.append(f"    rename:  # {todo}: " + _("national name: canonical name"))
            for src, dst in rename.items():
                L.append(f"      {src}: {dst}")
        if all(line.lstrip().startswith("#") for line in L[head:]):
            L.append("    {}")  # only comments under the key would read as null
    return "\n".join(L) + "\n"


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from clrisk.errors import data_error

    out = out or sys.stdout
    target = Path(args.out)
    if target.is_dir():
        raise data_error(target, _("--out is a folder"),
                         _("give the profile's file name, e.g. {f}").format(
                             f=target / "profile.yaml"))
    if target.exists() and not args.force:
        raise data_error(target, _("the profile already exists"),
                         _("choose another --out, or pass --force to overwrite it"))
    given = [getattr(args, k, None) for k in ("survey", "census", "territories",
                                              "admin_records")]
    if any(g and Path(g).resolve() == target.resolve() for g in given):
        # even --force never overwrites an input: inputs are read-only to clrisk
        raise data_error(target, _("--out names one of the input files"),
                         _("write the profile to a new file, e.g. profile.yaml"))
    if target.exists() and target.suffix.lower() not in (".yaml", ".yml"):
        raise data_error(target, _("--force would overwrite a file that is not a profile"),
                         _("write the profile to a .yaml file"))
    survey = inspect_table(Path(args.survey), "survey") if args.survey else None
    census = inspect_table(Path(args.census), "census") if args.census else None
    geo = inspect_geo(Path(args.territories))
    admin = (inspect_table(Path(args.admin_records), "admin_records")
             if getattr(args, "admin_records", None) else None)
    text = build_profile_text(survey, census, geo, admin, target)
    with atomic_write(target) as fh:
        fh.write(text)
    print(_("Wrote {f}: edit the TODO lines, then run 'clrisk check --profile {f}'.").format(
        f=target), file=out)
    for info in (survey, census):
        if info:
            found = ", ".join(f"{k}={v}" for k, v in sorted(info["roles"].items()))
            print("  " + _("{f}: candidate columns {c}").format(f=info["path"].name,
                                                              c=found or "-"), file=out)
    if geo.get("crs") is None:
        print("  " + _("{f} has no CRS: 'clrisk check' will refuse it").format(
            f=geo["path"].name), file=out)
    return 0
