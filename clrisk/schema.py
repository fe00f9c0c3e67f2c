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


# The catalogue of canonical covariates. A country uses the subset listed in its profile.
COVARIATES: dict[str, CovariateSpec] = {
    c.name: c
    for c in (
        CovariateSpec("age", "individual", "continuous", +1, None, None),
        CovariateSpec("female", "individual", "binary", -1, None, None),
        CovariateSpec("indigenous", "individual", "binary", +1, 0, "social_protection"),
        CovariateSpec("head_schooling", "household", "continuous", -1, 11, "education"),
        CovariateSpec("female_head", "household", "binary", +1, 0, "social_protection"),
        CovariateSpec("household_size", "household", "count", +1, None, None),
        CovariateSpec("n_children", "household", "count", +1, None, None),
        CovariateSpec("poverty", "household", "binary", +1, 0, "social_protection"),
        CovariateSpec("social_programme", "household", "binary", -1, 1, "social_protection"),
        CovariateSpec("adult_unemployed", "household", "binary", +1, 0, "labour"),
        CovariateSpec("school_attendance", "individual", "binary", -1, 1, "education"),
        CovariateSpec("health_insurance", "household", "binary", -1, 1, "health"),
        CovariateSpec("rural", "territorial", "binary", +1, None, None),
    )
}
