"""Administrative-record indicators (IVTI inputs) and the services inventory.

Why generate indicators from the structural drivers, not from the outcome: in a real country
the administrative records know nothing of child labour itself; they measure the territory's
conditions (deprivation, rurality, schooling, poverty, jobs), with their own errors and some
years late. An IVTI built from them agrees with the model's territory probabilities only as far
as those conditions drive child labour, so the agreement the IVTI chapter reports is a finding,
not a construction. Some indicators are aggregates of the synthetic census taken at an earlier
date (a lag: each territory has drifted since, N(0, 0.35) on the logit scale) and measured with
error; the others are driven by the territory's deprivation z_t and rural share (the same
latents that drive the population's covariates) plus indicator-specific noise. The true
probabilities, the territory effect u_t and the PSU effects never enter. Omissions (missing
values) are drawn at ``OMISSION_RATE`` per cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clrisk.synth.dgp import expit, logit


@dataclass(frozen=True)
class Indicator:
    name: str
    dimension: str
    direction: int
    labels: dict[str, str]


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        Indicator("school_dropout", "education", 1, {
            "en": "School dropout rate (%)", "es": "Tasa de abandono escolar (%)",
            "fr": "Taux d’abandon scolaire (%)"}),
        Indicator("overage", "education", 1, {
            "en": "Over-age enrolment (%)", "es": "Extraedad escolar (%)",
            "fr": "Retard scolaire (%)"}),
        Indicator("school_attendance_rate", "education", -1, {
            "en": "School attendance rate, ages 5-17 (%)",
            "es": "Tasa de asistencia escolar, 5 a 17 años (%)",
            "fr": "Taux de fréquentation scolaire, 5 à 17 ans (%)"}),
        Indicator("poverty_rate", "poverty", 1, {
            "en": "Households with unmet basic needs (%)",
            "es": "Hogares con necesidades básicas insatisfechas (%)",
            "fr": "Ménages ayant des besoins fondamentaux insatisfaits (%)"}),
        Indicator("social_programme_coverage", "poverty", -1, {
            "en": "Households covered by social programmes (%)",
            "es": "Hogares cubiertos por programas sociales (%)",
            "fr": "Ménages couverts par des programmes sociaux (%)"}),
        Indicator("adult_unemployment", "labour", 1, {
            "en": "Adult unemployment rate (%)", "es": "Tasa de desempleo adulto (%)",
            "fr": "Taux de chômage des adultes (%)"}),
        Indicator("informality", "labour", 1, {
            "en": "Informal employment (%)", "es": "Empleo informal (%)",
            "fr": "Emploi informel (%)"}),
        Indicator("agricultural_employment", "labour", 1, {
            "en": "Employment in agriculture (%)", "es": "Empleo agrícola (%)",
            "fr": "Emploi agricole (%)"}),
        Indicator("rural_population", "demography", 1, {
            "en": "Rural population (%)", "es": "Población rural (%)",
            "fr": "Population rurale (%)"}),
        Indicator("child_share", "demography", 1, {
            "en": "Population aged 5-17 (%)", "es": "Población de 5 a 17 años (%)",
            "fr": "Population âgée de 5 à 17 ans (%)"}),
        Indicator("health_insurance_coverage", "health", -1, {
            "en": "Health insurance coverage (%)", "es": "Cobertura de seguro de salud (%)",
            "fr": "Couverture d’assurance maladie (%)"}),
        Indicator("adolescent_pregnancy", "health", 1, {
            "en": "Adolescent birth rate (per 1,000 women aged 15-19)",
            "es": "Tasa de fecundidad adolescente (por 1.000 mujeres de 15 a 19 años)",
            "fr": "Taux de natalité des adolescentes (pour 1 000 femmes de 15 à 19 ans)"}),
    )
}

RISK_MODEL_INDICATORS = ("school_dropout", "school_attendance_rate", "poverty_rate",
                         "social_programme_coverage", "adult_unemployment", "informality",
                         "rural_population", "health_insurance_coverage")
IVTI_ONLY_INDICATORS = tuple(INDICATORS)


def latent_vulnerability(territory_probability: np.ndarray) -> np.ndarray:
    """v_t: the standardised logit of the true territory probability."""
    p = np.clip(territory_probability, 1e-6, 1 - 1e-6)
    lg = np.log(p / (1 - p))
    return (lg - lg.mean()) / (lg.std() + 1e-12)


OMISSION_RATE = 0.03  # share of indicator cells left empty (the IVTI re-weights them)
COMPLETE = ("rural_population", "child_share")  # census counts: never missing
LAG_SD = 0.35  # logit-scale drift of a census aggregate since it was measured


def admin_records(rng: np.random.Generator, stats: pd.DataFrame, drivers: pd.DataFrame,
                  names: tuple[str, ...], omission_rate: float = OMISSION_RATE) -> pd.DataFrame:
    """One row per territory; ``stats`` holds census aggregates by territory: rural, poverty,
    social_programme, health_insurance, school_attendance, adult_unemployed (household or child
    means) and children, persons (counts); ``drivers`` (same order) the territory latents
    ``deprivation`` (z_t) and ``rural_share``."""
    n = len(stats)
    z = drivers["deprivation"].to_numpy(float)
    rural = drivers["rural_share"].to_numpy(float)
    rc = (rural - rural.mean()) / (rural.std() + 1e-12)

    def rate(base: float, load: np.ndarray, sd: float) -> np.ndarray:
        return 100 * expit(logit(base) + load + rng.normal(0.0, sd, n))

    def noisy(share: np.ndarray, sd: float) -> np.ndarray:
        """An old census aggregate: drifted since (lag), then measured with error (pp)."""
        lag = expit(np.log(np.clip(share, 1e-3, 1 - 1e-3) / np.clip(1 - share, 1e-3, 1))
                    + rng.normal(0.0, LAG_SD, n))
        return np.clip(100 * lag + rng.normal(0.0, sd, n), 0.0, 100.0)

    gen = {
        "school_dropout": lambda: rate(0.06, 0.40 * z + 0.15 * rc, 0.35),
        "overage": lambda: rate(0.15, 0.35 * z + 0.10 * rc, 0.35),
        "school_attendance_rate": lambda: noisy(stats["school_attendance"].to_numpy(), 1.0),
        "poverty_rate": lambda: noisy(stats["poverty"].to_numpy(), 2.0),
        "social_programme_coverage": lambda: noisy(stats["social_programme"].to_numpy(), 2.0),
        "adult_unemployment": lambda: noisy(stats["adult_unemployed"].to_numpy(), 1.5),
        "informality": lambda: rate(0.45, 0.40 * z + 0.30 * rc, 0.35),
        "agricultural_employment": lambda: 100 * expit(
            logit(0.06) + 3.0 * rural + 0.2 * z + rng.normal(0, 0.35, n)),
        "rural_population": lambda: noisy(stats["rural"].to_numpy(), 1.0),
        "child_share": lambda: 100 * (stats["children"] / stats["persons"]).to_numpy(),
        "health_insurance_coverage": lambda: noisy(stats["health_insurance"].to_numpy(), 2.0),
        "adolescent_pregnancy": lambda: 55.0 * np.exp(0.25 * z + 0.1 * rc
                                                      + rng.normal(0.0, 0.2, n)),
    }
    out = pd.DataFrame({"territory_id": stats["territory_id"].to_numpy()})
    for name in names:
        values = np.round(gen[name](), 1)
        gone = (rng.random(n) < omission_rate) & (name not in COMPLETE)
        out[name] = np.where(gone, np.nan, values)
    return out


# --- services ------------------------------------------------------------------------------
# key, sector, factors, presence probability, {language: (service name, institution)}
SERVICES: tuple[tuple[str, str, str, float, dict[str, tuple[str, str]]], ...] = (
    ("school_retention", "education", "head_schooling;school_attendance", 0.55, {
        "es": ("Programa de retención escolar", "Ministerio de Educación"),
        "pt": ("Programa de permanência escolar", "Ministério da Educação"),
        "en": ("School retention programme", "Ministry of Education")}),
    ("adult_education", "education", "head_schooling", 0.35, {
        "es": ("Educación de personas jóvenes y adultas", "Ministerio de Educación"),
        "pt": ("Educação de jovens e adultos", "Ministério da Educação"),
        "en": ("Adult literacy programme", "Ministry of Education")}),
    ("cash_transfer", "social_protection", "poverty;social_programme", 0.70, {
        "es": ("Transferencia monetaria condicionada", "Ministerio de Desarrollo Social"),
        "pt": ("Transferência de renda condicionada", "Ministério do Desenvolvimento Social"),
        "en": ("Conditional cash transfer", "Ministry of Labour and Social Security")}),
    ("after_school_care", "social_protection", "school_attendance", 0.40, {
        "es": ("Centro de cuidado y jornada extendida", "Municipalidad"),
        "pt": ("Centro de convivência no contraturno escolar", "Prefeitura Municipal"),
        "en": ("After-school care centre", "Parish Council")}),
    ("indigenous_liaison", "social_protection", "social_programme", 0.30, {
        "es": ("Oficina de atención a pueblos indígenas", "Ministerio de Cultura"),
        "pt": ("Coordenação regional de povos indígenas", "Fundação Nacional dos Povos Indígenas")}),
    ("employment_service", "labour", "adult_unemployed", 0.45, {
        "es": ("Servicio público de empleo", "Ministerio de Trabajo"),
        "pt": ("Sistema Nacional de Emprego", "Ministério do Trabalho e Emprego"),
        "en": ("Public employment service", "Ministry of Labour and Social Security")}),
    ("labour_inspection", "labour", "adult_unemployed", 0.30, {
        "es": ("Inspección del trabajo", "Ministerio de Trabajo"),
        "pt": ("Inspeção do trabalho", "Ministério do Trabalho e Emprego"),
        "en": ("Labour inspection", "Ministry of Labour and Social Security")}),
    ("health_enrolment", "health", "health_insurance", 0.50, {
        "es": ("Afiliación al seguro de salud", "Ministerio de Salud"),
        "pt": ("Unidade Básica de Saúde", "Ministério da Saúde"),
        "en": ("Health centre and insurance enrolment", "Ministry of Health and Wellness")}),
)


def services_inventory(rng: np.random.Generator, territory_id: np.ndarray, children: np.ndarray,
                       language: str, country_key: str, with_indigenous: bool) -> pd.DataFrame:
    """Which services exist where, run by whom, for how many children (random subset)."""
    rows = []
    for key, sector, factors, prob, names in SERVICES:
        if language not in names or (key == "indigenous_liaison" and not with_indigenous):
            rng.random(len(territory_id))  # keep the random stream aligned across countries
            rng.random(len(territory_id))
            continue
        service, institution = names[language]
        if country_key == "mexico":
            institution = institution.replace("Ministerio de", "Secretaría de")
        present = rng.random(len(territory_id)) < prob
        share = rng.uniform(0.05, 0.40, len(territory_id))
        capacity = np.maximum(10, np.rint(children * share / 10) * 10).astype(int)
        for tid, cap in zip(territory_id[present], capacity[present], strict=True):
            rows.append((tid, service, sector, institution, int(cap), factors))
    out = pd.DataFrame(rows, columns=["territory_id", "service", "sector", "institution",
                                      "capacity", "factors"])
    return out.sort_values(["territory_id", "service"], kind="stable").reset_index(drop=True)
