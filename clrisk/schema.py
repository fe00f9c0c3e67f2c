"""The canonical data schema: one set of column names for every country.

Why a module of constants: the loader, the synthetic generator, the estimators and the
chapters must agree on names. Country teams map their national variables onto these names in
``profile.yaml``; nothing downstream ever sees a national variable name.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- identifiers and design columns -------------------------------------------------------
TERRITORY_ID = "territory_id"  # always a string (e.g. zero-padded ubigeo "150101")
REGION_ID = "region_id"  # always a string; survey domain (department, state, province)
CHILD_ID = "child_id"
HOUSEHOLD_ID = "household_id"
WEIGHT = "weight"  # survey expansion factor (> 0); optional census-sample weight
STRATUM = "stratum"
PSU = "psu"
OUTCOME = "child_labour"  # 0/1
NAME = "name"  # territory name
GEOMETRY = "geometry"

SURVEY_REQUIRED = (CHILD_ID, HOUSEHOLD_ID, TERRITORY_ID, REGION_ID, WEIGHT, STRATUM, PSU, OUTCOME)
CENSUS_REQUIRED = (TERRITORY_ID,)
TERRITORIES_REQUIRED = (TERRITORY_ID, NAME, REGION_ID, GEOMETRY)
ADMIN_REQUIRED = (TERRITORY_ID,)
SERVICES_REQUIRED = (TERRITORY_ID, "service", "sector", "institution", "capacity", "factors")

# Sectors that a factor points to (Phase I instrument 2 -> Phase II action lines).
SECTORS = ("education", "social_protection", "labour", "health")
FACTOR_KINDS = ("modifiable", "marker")
# Covariates a profile should never declare modifiable (who a child is, where it lives):
# declaring one gets a warning when the profile is read.
NON_MODIFIABLE = ("age", "female", "indigenous", "female_head", "rural")


@dataclass(frozen=True)
class CovariateSpec:
    """A canonical covariate: its level, type, the sign the literature expects, and whether it
    is a modifiable factor for instrument 2 (with its reference value and sector)."""

    name: str
    level: str  # individual | household | territorial
    kind: str  # binary | count | continuous
    expected_sign: int  # +1 risk, -1 protection, 0 no prior
    reference: float | None  # value for the counterfactual in factor weights; None = not a factor
    sector: str | None
    # "modifiable": a condition a public policy can change (instrument 2 factor);
    # "marker": describes who is at risk (sex, age, ethnicity, rurality, headship, household
    # composition) and is never ranked, planned or monitored as a risk to reduce.
    factor_kind: str = "marker"


# The catalogue of canonical covariates. A country uses the subset listed in its profile.
COVARIATES: dict[str, CovariateSpec] = {
    c.name: c
    for c in (
        CovariateSpec("age", "individual", "continuous", +1, None, None),
        CovariateSpec("female", "individual", "binary", -1, None, None),
        CovariateSpec("indigenous", "individual", "binary", +1, None, None),
        CovariateSpec("head_schooling", "household", "continuous", -1, 11, "education",
                      "modifiable"),
        CovariateSpec("female_head", "household", "binary", +1, None, None),
        CovariateSpec("household_size", "household", "count", +1, None, None),
        CovariateSpec("n_children", "household", "count", +1, None, None),
        CovariateSpec("poverty", "household", "binary", +1, 0, "social_protection", "modifiable"),
        CovariateSpec("social_programme", "household", "binary", -1, 1, "social_protection",
                      "modifiable"),
        CovariateSpec("adult_unemployed", "household", "binary", +1, 0, "labour", "modifiable"),
        CovariateSpec("school_attendance", "individual", "binary", -1, 1, "education",
                      "modifiable"),
        CovariateSpec("health_insurance", "household", "binary", -1, 1, "health", "modifiable"),
        CovariateSpec("rural", "territorial", "binary", +1, None, None),
    )
}
