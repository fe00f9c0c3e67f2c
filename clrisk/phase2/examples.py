"""Default Phase II worksheets for the sample countries, and a tiny hand-built country.

Why generated: the worksheets in ``data_samples/<country>/phase2/`` must match each sample's
territory ids and factors, and they must be reproducible when the samples are regenerated. They
are written from the Phase I results with a fixed, country-specific seed::

    python -m clrisk.phase2.examples --all          # every sample country
    python -m clrisk.phase2.examples peru jamaica   # some
    python -m clrisk.phase2.examples path/to/my_country   # starting worksheets for a team

The ratings, stakeholders and costs are **invented** for demonstration — a team replaces them
with its own. The candidates mimic the Mexican pilot's dilemma: the highest-risk territories are
rated low on institutional capacity, while a large, lower-risk (urban) territory is rated high,
so the choice depends visibly on the weights.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.io import atomic_write, write_csv
from clrisk.phase2 import worksheets as ws
from clrisk.phase2.inputs import RiskInputs, finish_factors, finish_risk

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"

# Action lines per factor: (action line, institution type, unit cost in US dollars, unit).
ACTIONS: dict[str, list[tuple[str, str, float, str]]] = {
    "school_attendance": [
        ("School re-enrolment and follow-up of absent children", "education", 120.0,
         "child per year"),
        ("Awareness sessions with parents on the cost of leaving school", "education", 15.0,
         "household"),
    ],
    "head_schooling": [("Adult literacy and second-chance schooling for parents", "education",
                        180.0, "adult per year")],
    "poverty": [("Conditional cash transfer linked to school attendance", "social_protection",
                 300.0, "household per year")],
    "social_programme": [("Active search and enrolment in social programmes",
                          "social_protection", 40.0, "household")],
    "female_head": [("Childcare and support for female-headed households", "social_protection",
                     250.0, "household per year")],
    "indigenous": [("Intercultural outreach with community leaders", "social_protection", 60.0,
                    "household")],
    "adult_unemployed": [("Job placement and training for unemployed adults", "labour", 350.0,
                          "adult"),
                         ("Labour inspection visits to farms and workshops", "labour", 90.0,
                          "workplace visited")],
    "health_insurance": [("Enrolment of children in health insurance", "health", 25.0,
                          "child")],
}
IVTI_ACTIONS: dict[str, tuple[str, float, str]] = {  # IVTI indicators with a specific action
    "school_dropout": ("Early warning and follow-up of pupils at risk of dropping out", 120.0,
                       "child per year"),
    "overage": ("Remedial tutoring for over-age pupils", 150.0, "child per year"),
    "school_attendance_rate": ("Active search and re-enrolment of out-of-school children",
                               120.0, "child"),
    "poverty_rate": ("Cash transfer linked to school attendance", 300.0, "household per year"),
    "social_programme_coverage": ("Active search and enrolment in social programmes", 40.0,
                                  "household"),
    "adult_unemployment": ("Job placement and training for unemployed adults", 350.0, "adult"),
    "informality": ("Formalisation support for family businesses", 200.0, "business"),
    "agricultural_employment": ("Labour inspection and awareness on farms", 90.0,
                                "farm visited"),
    "health_insurance_coverage": ("Enrolment of children in health insurance", 25.0, "child"),
    "adolescent_pregnancy": ("Adolescent health and life-skills programme", 80.0,
                             "adolescent"),
}
SECTOR_ACTIONS = {  # IVTI countries: one action line per indicator sector
    "education": ("School retention programme (tutoring, follow-up of absences)", 120.0,
                  "child per year"),
    "social_protection": ("Cash transfer and family support linked to school attendance", 300.0,
                          "household per year"),
    "labour": ("Employment services and labour inspection", 200.0, "beneficiary"),
    "health": ("Health coverage and school health checks", 40.0, "child"),
}
INSTITUTIONS = {
    "es": {"education": "Secretaría de Educación", "social_protection": "Secretaría de "
           "Desarrollo Social", "labour": "Inspección del Trabajo", "health": "Secretaría de Salud"},
    "pt": {"education": "Secretaria de Educação", "social_protection": "Secretaria de "
           "Assistência Social", "labour": "Auditoria-Fiscal do Trabalho",
           "health": "Secretaria de Saúde"},
    "en": {"education": "Ministry of Education", "social_protection": "Ministry of Social "
           "Protection", "labour": "Ministry of Labour", "health": "Ministry of Health"},
}


def _seed(country: str) -> int:
    return zlib.crc32(f"phase2-{country}".encode())


# --- tiny hand-built country (tests, docs) -----------------------------------------------------

def toy_inputs() -> RiskInputs:
    """Six territories in two regions on a 3×2 grid, three factors, a few services.

    Numbers are chosen by hand so that results can be checked on paper: territory ``T1`` has the
    highest risk but few institutions; ``T4`` is large, low-risk and well equipped.
    """
    import geopandas as gpd
    from shapely.geometry import box

    ids = ["T1", "T2", "T3", "T4", "T5", "T6"]
    risk = pd.DataFrame({
        "territory_id": ids,
        "name": ["Alto", "Bajo", "Centro", "Capital", "Este", "Oeste"],
        "region_id": ["R1", "R1", "R1", "R2", "R2", "R2"],
        "children": [1000.0, 500.0, 800.0, 5000.0, 700.0, 600.0],
        "risk_score": [0.30, 0.20, 0.10, 0.05, 0.15, 0.25],
        "risk_level": [3, 2, 1, 1, 2, 3],
        "risk_label": ["High", "Medium", "Low", "Low", "Medium", "High"],
        "p_top": [0.95, 0.20, 0.0, 0.0, 0.10, 0.70],
    })
    risk["expected_children"] = risk["children"] * risk["risk_score"]
    risk["ci_low"] = risk["risk_score"] - 0.02
    risk["ci_high"] = risk["risk_score"] + 0.02
    risk = finish_risk(risk, "risk_model", 3)
    rows = []
    shares = {"poverty": 0.5, "school_attendance": 0.3, "adult_unemployed": 0.2}
    sectors = {"poverty": "social_protection", "school_attendance": "education",
               "adult_unemployed": "labour"}
    labels = {"poverty": "Household in poverty", "school_attendance": "Attends school",
              "adult_unemployed": "Unemployed adult in household"}
    for r in risk.itertuples():
        for f, s in shares.items():
            delta = 100 * r.risk_score * s * 0.5  # half the risk is attributable, in pp
            rows.append({"territory_id": r.territory_id, "factor": f, "label": labels[f],
                         "sector": sectors[f], "delta_pp": delta,
                         "children": r.children * delta / 100})
    factors = finish_factors(pd.DataFrame(rows))
    geo = gpd.GeoDataFrame(
        {"territory_id": ids, "name": risk["name"], "region_id": risk["region_id"]},
        geometry=[box(i % 3, i // 3, i % 3 + 1, i // 3 + 1) for i in range(6)], crs="EPSG:4326")
    services = pd.DataFrame({
        "territory_id": ["T1", "T4", "T4", "T4", "T6"],
        "service": ["Cash transfer", "Cash transfer", "School follow-up", "Job centre",
                    "Cash transfer"],
        "sector": ["social_protection", "social_protection", "education", "labour",
                   "social_protection"],
        "institution": ["Ministry", "Ministry", "School board", "Labour office", "Ministry"],
        "capacity": [20.0, 200.0, 100.0, 50.0, 10.0],
        "factors": [("poverty",), ("poverty",), ("school_attendance",), ("adult_unemployed",),
                    ("poverty", "school_attendance")],
    })
    return RiskInputs("risk_model", risk, factors, geo, services, True, ())


# --- default worksheets for a sample country --------------------------------------------------

def candidates(risk: pd.DataFrame, n_high: int = 3, n_capacity: int = 2) -> pd.DataFrame:
    """Candidates: the ``n_high`` highest-risk territories plus the ``n_capacity`` largest
    low-level territories (the 'Tuxtla' profile: big, urban, lower risk)."""
    by_risk = risk.sort_values(["risk_score", "territory_id"], ascending=[False, True])
    high = by_risk.head(n_high)
    low = risk[(risk["risk_level"] == 1) & ~risk["territory_id"].isin(high["territory_id"])]
    size = low["children"].fillna(0) if low["children"].notna().any() else -low["risk_score"]
    capacity = low.assign(_size=size).sort_values(["_size", "territory_id"],
                                                  ascending=[False, True]).head(n_capacity)
    return pd.concat([high.assign(kind="high_risk"), capacity.assign(kind="capacity")])


def selection_criteria(inputs: RiskInputs, seed: int) -> pd.DataFrame:
    """Invented 1–5 ratings: high-risk candidates weak on capacity, 'Tuxtla' ones strong."""
    rng = np.random.default_rng(seed)
    cand = candidates(inputs.risk)
    rows = []
    for r in cand.itertuples():
        strong = r.kind == "capacity"
        rows.append({
            "territory_id": r.territory_id, "name": r.name,
            "institutional_capacity": int(rng.integers(4, 6) if strong else rng.integers(1, 3)),
            "political_interest": int(rng.integers(3, 6) if strong else rng.integers(2, 5)),
            "time_available": int(rng.integers(3, 5) if strong else rng.integers(2, 4)),
            "notes": "urban, strong municipal administration" if strong
            else "high model risk, limited local staff",
        })
    return pd.DataFrame(rows).sort_values("territory_id").reset_index(drop=True)


def weights_yaml(source: str) -> str:
    """Default weights with comments explaining each key."""
    risk_part = ("  risk_level: 0.15          # model risk level, (level-1)/(k-1)\n"
                 "  risk_score: 0.0           # mean probability, min-max over the country\n"
                 "  p_high: 0.10              # probability of truly being in the top level\n"
                 "  expected_children: 0.15   # expected children in child labour, min-max\n"
                 if source == "risk_model" else
                 "  risk_level: 0.20          # IVTI level, (level-1)/(k-1)\n"
                 "  risk_score: 0.20          # IVTI score, min-max over the country\n"
                 "  p_high: 0.0               # not available with the IVTI\n"
                 "  expected_children: 0.0    # not available with the IVTI\n")
    return ("# Weights of the selection criteria (Phase II, step 1). Non-negative, sum to 1.\n"
            "# Model-risk criteria come from Phase I; the others are the rating columns of\n"
            "# selection_criteria.csv (1 = unfavourable ... 5 = favourable).\n"
            "weights:\n" + risk_part +
            "  institutional_capacity: 0.30\n"
            "  political_interest: 0.15\n"
            "  time_available: 0.15\n")


def stakeholders(language: str, region_name: str, rng: np.random.Generator) -> pd.DataFrame:
    """A plausible register with deliberate gaps (no employers' organisation yet; the MoU is
    still being negotiated) so that the gap check has something to show."""
    inst = INSTITUTIONS.get(language, INSTITUTIONS["en"])
    rows = [
        ("Ministry of Labour (national child labour committee)", "government_national",
         "technical secretariat, labour inspection", "labour", "in_negotiation", "yes"),
        (inst["social_protection"] + " (national)", "government_national",
         "cash transfers", "social_protection", "none", "no"),
        (f"Government of {region_name}", "government_state", "co-financing, vertical "
         "coordination", "education;health", "none", "no"),
        ("Municipal government of the selected territory", "government_municipal",
         "leads the local strategy", "social_protection;education", "in_negotiation", "yes"),
        ("National trade union confederation", "workers", "awareness in workplaces, "
         "evaluation", "labour", "none", "no"),
        ("Children's rights network", "civil_society", "community outreach", "education",
         "none", "no"),
        ("ILO country office", "international", "technical assistance (Regional Initiative)",
         "labour", "in_negotiation", "no"),
    ]
    if rng.random() < 0.5:  # about half the samples already have the employers on board
        rows.append(("National employers' federation", "employers", "supply-chain commitments",
                     "labour", "none", "no"))
    return pd.DataFrame(rows, columns=["name", "type", "role", "competences", "agreement",
                                       "focal_point"])


def definitions_yaml(profile: Any) -> str:
    """Local definitions: the legal one from the profile, operational and target group
    following the Mexican pilot (economic activity and domestic work, not street work)."""
    import yaml

    legal = dict(getattr(profile, "child_labour_definition", {}) or {}) or {
        "en": "Work below the minimum working age, hazardous work, or excessive hours."}
    doc = {
        "legal_definition": legal,
        "operational_definition": {
            "en": "Children aged 5-17 in economic activity below the minimum age, in hazardous "
                  "work or beyond the hours allowed, including unpaid domestic work of 21 hours "
                  "or more a week.",
            "es": "Niñas, niños y adolescentes de 5 a 17 años en actividad económica por debajo "
                  "de la edad mínima, en trabajo peligroso o más allá de las horas permitidas, "
                  "incluido el trabajo doméstico no remunerado de 21 horas o más por semana.",
            "fr": "Enfants de 5 à 17 ans exerçant une activité économique en dessous de l'âge "
                  "minimum, un travail dangereux ou au-delà des heures autorisées, y compris le "
                  "travail domestique non rémunéré de 21 heures ou plus par semaine."},
        "target_group": {
            "en": "Children and adolescents of the selected territory living in households "
                  "with the risk factors ranked highest by the model.",
            "es": "Niñas, niños y adolescentes del territorio seleccionado que viven en hogares "
                  "con los factores de riesgo de mayor peso según el modelo.",
            "fr": "Enfants et adolescents du territoire choisi vivant dans des ménages présentant "
                  "les facteurs de risque les plus importants selon le modèle."},
        "exclusions": {
            "en": "Children working in the street are not in household surveys or the census "
                  "(about 20% in the Tuxtla Gutiérrez pilot); a short local questionnaire is "
                  "needed to locate them.",
            "es": "Las niñas y niños que trabajan en la calle no están en las encuestas de "
                  "hogares ni en el censo (alrededor del 20% en el piloto de Tuxtla Gutiérrez); "
                  "se necesita un cuestionario local breve para ubicarlos.",
            "fr": "Les enfants qui travaillent dans la rue ne figurent ni dans les enquêtes "
                  "auprès des ménages ni dans le recensement (environ 20 % dans le pilote de "
                  "Tuxtla Gutiérrez) ; un court questionnaire local est nécessaire pour les "
                  "repérer."},
        "sources": ["Sample data: synthetic (clrisk.synth)",
                    "Profile child-labour definition (profile.yaml)"],
    }
    return ("# Local definition of child labour (Phase II, step 3). Texts or en/es/fr texts.\n"
            + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100))


def action_lines(inputs: RiskInputs, language: str, rng: np.random.Generator) -> pd.DataFrame:
    """One or two action lines per factor with an invented unit cost (USD)."""
    inst = INSTITUTIONS.get(language, INSTITUTIONS["en"])
    rows = []
    fac = inputs.factors.drop_duplicates("factor").sort_values("factor")
    for f in fac.itertuples():
        if inputs.source == "risk_model" and f.factor in ACTIONS:
            for line, sector, cost, unit in ACTIONS[f.factor]:
                rows.append({"factor": f.factor, "action_line": line, "sector": sector,
                             "institution": inst[sector], "unit_cost": cost, "unit": unit,
                             "beneficiaries": ""})
        else:
            line, cost, unit = IVTI_ACTIONS.get(f.factor, SECTOR_ACTIONS[f.sector])
            rows.append({"factor": f.factor, "action_line": line,
                         "sector": f.sector, "institution": inst[f.sector], "unit_cost": cost,
                         "unit": unit, "beneficiaries": int(rng.integers(10, 31) * 10)})
    out = pd.DataFrame(rows)
    out["priority"] = ""
    return out


def monitoring(inputs: RiskInputs, directions: dict[str, int] | None = None) -> pd.DataFrame:
    """Outcome indicators with model baselines ('auto') and relative targets; process
    indicators with team baselines. With the IVTI the factor rows follow the indicator's
    direction (a protective indicator such as coverage must go up)."""
    top = (inputs.factors.groupby("factor")["share"].mean().sort_values(ascending=False)
           .head(3).index.tolist())
    model = inputs.source == "risk_model"
    head = ("Expected children in child labour (model)" if model
            else "Child labour vulnerability index (IVTI)")
    rows = [{"indicator": head, "factor": "", "baseline": "auto", "target": "-20%",
             "unit": "children" if model else "index",
             "frequency": "every 2 years (new survey)" if model else "yearly",
             "source": "CLRISK model update", "responsible": "Ministry of Labour"}]
    labels = inputs.factors.drop_duplicates("factor").set_index("factor")["label"]
    directions = directions or {}
    for f in sorted(top):
        if model:
            name, target, unit = f"Children at risk from: {labels[f]}", "-30%", "children"
        else:
            name = f"Indicator: {labels[f]}"
            target = "+10%" if directions.get(f, 1) < 0 else "-10%"
            unit = "indicator value"
        rows.append({"indicator": name, "factor": f, "baseline": "auto", "target": target,
                     "unit": unit, "frequency": "yearly", "source": "administrative records",
                     "responsible": "municipal focal point"})
    rows += [
        {"indicator": "Households visited by the municipal team", "factor": "", "baseline": "0",
         "target": "400", "unit": "households", "frequency": "quarterly",
         "source": "visit log", "responsible": "municipal focal point"},
        {"indicator": "Meetings of the local child labour committee (with workers and "
                      "employers)", "factor": "", "baseline": "0", "target": "8",
         "unit": "meetings", "frequency": "quarterly", "source": "minutes",
         "responsible": "municipal government"},
    ]
    return pd.DataFrame(rows)


README = """# Phase II worksheets (sample: invented values)

Filled in by the local team; read by the Phase II chapters (`notebooks/p2_*.md`) and by
`clrisk.phase2.steps`. Regenerate the samples with `python -m clrisk.phase2.examples --all`.
Identifiers are text: keep leading zeros. Numbers use a dot for decimals, no thousands separator.

| file | one row / key per | columns or keys |
|---|---|---|
| `selection_criteria.csv` | candidate territory | `territory_id`; ratings 1 (unfavourable) to 5 (favourable): `institutional_capacity`, `political_interest`, `time_available` (extra rating columns allowed); optional `name`, `notes` |
| `selection_weights.yaml` | criterion | `weights:` → `risk_level`, `risk_score`, `p_high`, `expected_children` (from Phase I) and one weight per rating column; all ≥ 0, sum = 1 |
| `stakeholders.csv` | organisation | `name`; `type` (government_national, government_state, government_municipal, employers, workers, civil_society, international); `role`; `competences` (`;`-separated: education, social_protection, labour, health); `agreement` (none, in_negotiation, mou_signed); `focal_point` (yes/no) |
| `local_definitions.yaml` | — | `legal_definition`, `operational_definition`, `target_group` (text or en/es/fr texts); optional `exclusions`, `sources` |
| `action_lines.csv` | action line | `factor` (factor name of the profile, or IVTI indicator); `action_line`; `sector`; `institution`; `unit_cost` (≥ 0, local currency); `unit`; `beneficiaries` (number, or blank = unmet demand from the model); optional `priority` (1 = first) |
| `monitoring.csv` | indicator | `indicator`; `factor` (blank = whole territory); `baseline` (number or `auto` = from the model); `target` (number or relative change such as `-20%`); `unit`; `frequency`; `source`; `responsible` |
"""


def write_worksheets(inputs: RiskInputs, folder: str | Path, *, country: str, language: str,
                     profile: Any = None, region_name: str | None = None) -> list[Path]:
    """Write the six default worksheets of one country into ``folder`` (atomically)."""
    folder = Path(folder)
    rng = np.random.default_rng(_seed(country))
    crit = selection_criteria(inputs, _seed(country))
    top_region = region_name or str(inputs.risk.sort_values("risk_score").iloc[-1]["region_name"])
    paths = [write_csv(crit, folder / ws.SELECTION_CRITERIA)]
    with atomic_write(folder / ws.SELECTION_WEIGHTS) as fh:
        fh.write(weights_yaml(inputs.source))
    paths.append(folder / ws.SELECTION_WEIGHTS)
    paths.append(write_csv(stakeholders(language, top_region, rng),
                           folder / ws.STAKEHOLDERS))
    with atomic_write(folder / ws.LOCAL_DEFINITIONS) as fh:
        fh.write(definitions_yaml(profile))
    paths.append(folder / ws.LOCAL_DEFINITIONS)
    paths.append(write_csv(action_lines(inputs, language, rng), folder / ws.ACTION_LINES))
    directions = dict(getattr(profile, "ivti_directions", {}) or {}) if profile else {}
    paths.append(write_csv(monitoring(inputs, directions), folder / ws.MONITORING))
    with atomic_write(folder / "README.md") as fh:
        fh.write(README)
    paths.append(folder / "README.md")
    return paths


def generate(country: str | Path, samples: Path = SAMPLES) -> list[Path]:
    """Run Phase I on a sample country (name) or a team's country folder (path) and write
    default ``phase2/`` worksheets next to its data — a starting point the team then edits."""
    from clrisk.data import load_country
    from clrisk.phase2.inputs import from_country

    folder = Path(country)
    data = load_country(folder if folder.is_dir() else samples / str(country))
    inputs = from_country(data)
    try:
        from clrisk.synth.countries import COUNTRIES

        language = COUNTRIES[str(data.key)].language
    except (ImportError, KeyError):
        language = "en"
    return write_worksheets(inputs, ws.worksheet_dir(data.root), country=str(data.key),
                            language=language, profile=data.profile)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the default Phase II worksheets")
    parser.add_argument("countries", nargs="*",
                        help="sample country names or paths to country folders")
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    names = (sorted(p.name for p in SAMPLES.iterdir() if (p / "profile.yaml").is_file())
             if args.all else args.countries)
    for name in names:
        for path in generate(name):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
