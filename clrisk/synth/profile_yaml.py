"""``profile.yaml`` of a synthetic sample, in the layout of CONTRIBUTING.md.

Why a custom YAML dumper: small mappings (names, labels, factor) are written in flow style
(``{en: Peru, es: Perú, fr: Pérou}``) like the contract's example, so the generated profiles
read like the hand-written ones country teams will copy.
"""

from __future__ import annotations

from typing import Any

import yaml

from clrisk.schema import COVARIATES
from clrisk.synth.admin import INDICATORS, IVTI_ONLY_INDICATORS, RISK_MODEL_INDICATORS
from clrisk.synth.countries import CountryParams

COVARIATE_LABELS: dict[str, dict[str, str]] = {
    "age": {"en": "Age (years)", "es": "Edad (años)", "fr": "Âge (années)"},
    "female": {"en": "Girl", "es": "Niña o adolescente mujer", "fr": "Fille"},
    "indigenous": {"en": "Indigenous or Afro-descendant", "es": "Indígena o afrodescendiente",
                   "fr": "Autochtone ou afrodescendant"},
    "head_schooling": {"en": "Household head's years of schooling",
                       "es": "Años de escolaridad del jefe o jefa de hogar",
                       "fr": "Années de scolarité du chef de ménage"},
    "female_head": {"en": "Female-headed household", "es": "Hogar con jefatura femenina",
                    "fr": "Ménage dirigé par une femme"},
    "household_size": {"en": "Household size (persons)", "es": "Tamaño del hogar (personas)",
                       "fr": "Taille du ménage (personnes)"},
    "n_children": {"en": "Children aged 5-17 in the household",
                   "es": "Niños, niñas y adolescentes de 5 a 17 años en el hogar",
                   "fr": "Enfants de 5 à 17 ans dans le ménage"},
    "poverty": {"en": "Household in poverty (UBN)", "es": "Hogar en pobreza (NBI)",
                "fr": "Ménage pauvre (besoins de base insatisfaits)"},
    "social_programme": {"en": "Household receives a social programme",
                         "es": "Hogar recibe un programa social",
                         "fr": "Ménage bénéficiaire d’un programme social"},
    "adult_unemployed": {"en": "Unemployed adult in the household",
                         "es": "Persona adulta desempleada en el hogar",
                         "fr": "Adulte au chômage dans le ménage"},
    "school_attendance": {"en": "Attends school", "es": "Asiste a la escuela",
                          "fr": "Fréquente l’école"},
    "health_insurance": {"en": "Household has health insurance",
                         "es": "Hogar con seguro de salud",
                         "fr": "Ménage couvert par une assurance maladie"},
    "rural": {"en": "Rural area", "es": "Área rural", "fr": "Zone rurale"},
}


def definition(country: CountryParams) -> dict[str, str]:
    """The operational child-labour definition, with the national minimum working age."""
    a = country.min_working_age
    return {
        "en": (f"Children aged 5-17 who, in the reference week, worked in an economic activity "
               f"below the minimum working age ({a} years), or in hazardous work, or for more "
               f"hours than the law allows for their age (synthetic sample)."),
        "es": (f"Niños, niñas y adolescentes de 5 a 17 años que en la semana de referencia "
               f"trabajaron en una actividad económica por debajo de la edad mínima de admisión "
               f"al empleo ({a} años), en trabajo peligroso o más horas de las permitidas por la "
               f"ley para su edad (muestra sintética)."),
        "fr": (f"Enfants de 5 à 17 ans qui, pendant la semaine de référence, ont exercé une "
               f"activité économique en dessous de l’âge minimum d’admission à l’emploi "
               f"({a} ans), un travail dangereux ou plus d’heures que la loi ne le permet pour "
               f"leur âge (échantillon synthétique)."),
    }


def indicator_names(country: CountryParams) -> tuple[str, ...]:
    return RISK_MODEL_INDICATORS if "risk_model" in country.instruments else IVTI_ONLY_INDICATORS


def build_profile(country: CountryParams) -> dict[str, Any]:
    """The profile as a plain dict (key order = file order)."""
    covs = []
    for name in country.covariates:
        spec = COVARIATES[name]
        entry: dict[str, Any] = {"name": name, "labels": COVARIATE_LABELS[name],
                                 "expected_sign": spec.expected_sign}
        entry["kind"] = spec.factor_kind
        if spec.factor_kind == "modifiable" and spec.reference is not None:
            ref = spec.reference
            entry["factor"] = {"reference": int(ref) if float(ref).is_integer() else ref,
                               "sector": spec.sector,
                               "role": "protective" if spec.expected_sign < 0 else "risk"}
        covs.append(entry)
    files = {"survey": "survey.csv", "census": "census.parquet"} \
        if "risk_model" in country.instruments else {}
    files.update({"territories": "territories.geojson", "admin_records": "admin_records.csv",
                  "services": "services.csv"})
    indicators = [{"name": i.name, "dimension": i.dimension, "direction": i.direction,
                   "labels": i.labels}
                  for i in (INDICATORS[n] for n in indicator_names(country))]
    return {
        "country": country.key,
        "names": country.names,
        "admin_levels": {"region": country.region_level, "territory": country.territory_level},
        "age_range": [5, 17],
        "instruments": list(country.instruments),
        "crs": "EPSG:4326",
        "projected_crs": country.projected_crs,
        "synthetic": True,
        "files": files,
        "design": {"weight": "weight", "stratum": "stratum", "psu": "psu"},
        "outcome": "child_labour",
        "child_labour_definition": definition(country),
        "covariates": covs,
        "risk_levels": dict(country.risk_levels),
        "ivti": {"indicators": indicators, "dimension_weights": None},
        "mapping": {},
    }


class _Dumper(yaml.SafeDumper):
    pass


def _repr_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    scalars = all(not isinstance(v, dict | list) for v in data.values())
    flow = scalars and sum(len(str(v)) for v in data.values()) <= 160
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _repr_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _repr_dict)
_Dumper.add_representer(list, _repr_list)


def dump_profile(profile: dict[str, Any]) -> str:
    header = (f"# Synthetic sample for {profile['names']['en']} generated by clrisk.synth.\n"
              f"# Do not edit: regenerate with `python -m clrisk.synth --country "
              f"{profile['country']}`.\n")
    body = yaml.dump(profile, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000,
                     default_flow_style=False)
    return header + body
