"""The intervals of the factor weights cover the truth over fresh synthetic surveys.

Why a replicate study: an interval printed in the book must mean what it says. A fixed
synthetic census (known covariates) and a known logit give the true Shapley weights; each
replicate draws a fresh survey from that population, fits the survey-weighted logit and
computes the weights' 95% intervals from coefficient draws. Over the replicates each national
interval must contain the true weight about 95% of the time (≥ 85% over 40 replicates leaves
room for Monte Carlo error, and fails if the intervals ignore the coefficients' uncertainty).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from clrisk.phase1.factors import instrument2
from clrisk.phase1.model import fit_risk_model

pytestmark = pytest.mark.slow

COVS = ["female", "poverty", "head_schooling", "social_programme"]
BETA = {"const": -1.6, "female": -0.4, "poverty": 0.7, "head_schooling": -0.09,
        "social_programme": -0.5}
FACTORS = {"poverty": 0.0, "head_schooling": 11.0, "social_programme": 1.0}
ROLES = {"head_schooling": "protective", "social_programme": "protective"}
REPLICATES = 40


def population(n: int = 30_000, n_territories: int = 15, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tid = rng.integers(0, n_territories, n)
    pov = (rng.random(n) < np.linspace(0.15, 0.7, n_territories)[tid]).astype(int)
    return pd.DataFrame({
        "territory_id": [f"T{t:02d}" for t in tid],
        "female": rng.integers(0, 2, n),
        "poverty": pov,
        "head_schooling": np.clip(rng.normal(9 - 3 * pov, 3.5), 0, 17).round(),
        "social_programme": (rng.random(n) < 0.3 + 0.3 * pov).astype(int),
    })


def true_model() -> SimpleNamespace:
    names = ["const", *COVS]
    cov = pd.DataFrame(np.eye(len(names)) * 1e-12, index=names, columns=names)
    return SimpleNamespace(params=pd.Series(BETA)[names], cov=cov, covariates=list(COVS),
                           draw_coefficients=lambda n, seed: np.zeros((0, len(names))))


def test_national_weight_intervals_cover_the_truth():
    census = population()
    truth = instrument2(true_model(), census, factors=FACTORS, roles=ROLES, n_draws=0,
                        markers=[]).national_factors.set_index("factor")["delta_pp"]
    X = np.column_stack([np.ones(len(census)), census[COVS].to_numpy(float)])
    p = expit(X @ pd.Series(BETA)[["const", *COVS]].to_numpy())
    hits = pd.DataFrame(0, index=truth.index, columns=["hit"])
    for r in range(REPLICATES):
        rng = np.random.default_rng(1000 + r)
        idx = rng.choice(len(census), 5000, replace=False)
        survey = census.iloc[idx].assign(
            child_labour=(rng.random(len(idx)) < p[idx]).astype(int),
            weight=len(census) / len(idx),
            stratum=lambda d: d["territory_id"].str[-1],
            psu=[f"H{i}" for i in idx])
        model = fit_risk_model(survey, COVS, outcome="child_labour", weight="weight",
                               strata="stratum", psu="psu")
        nat = instrument2(model, census, factors=FACTORS, roles=ROLES, n_draws=200,
                          seed=r, markers=[]).national_factors.set_index("factor").loc[
                              truth.index]
        inside = (nat["ci_low_pp"] <= truth) & (truth <= nat["ci_high_pp"])
        hits["hit"] += inside.loc[hits.index].astype(int)
    coverage = hits["hit"] / REPLICATES
    assert (coverage >= 0.85).all(), coverage.to_dict()
