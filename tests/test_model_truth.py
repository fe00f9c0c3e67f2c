"""Recovery of the true coefficients on the published synthetic samples (data_samples/).

Every sample country with a survey (instrument ``risk_model``) must be present — a missing
folder, profile, survey or truth.json FAILS (never skips). For each country the survey-weighted
logit is fitted on the profile's covariates and compared with ``truth.json`` coefficients.

Why these thresholds: one sample per country and 11–13 coefficients each means the count of
true values inside nominal 95% CIs is Binomial(k, 0.95) by chance alone; "≥ 90% inside" per
country (at most one miss) fails by chance for about one country in seven. So the strict
per-country rules are (a) no true coefficient further than 3.5 design SEs (a gross-error
check) and (b) at least 80% inside the 95% CI; and pooled over all countries (~85
coefficients, binomial sd ≈ 2.4 points) at least 90% inside. Proper 95% coverage itself is
checked by replication in tests/test_model.py::test_ci_coverage_over_replications. The truth
is the conditional coefficient of a model with a territory effect of sd 0.25; the
population-averaged coefficient the survey logit estimates is ~1% smaller (negligible here).
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clrisk.phase1.model import fit_risk_model
from clrisk.synth.countries import COUNTRIES

DATA = Path(__file__).parents[1] / "data_samples"
WITH_SURVEY = sorted(k for k, c in COUNTRIES.items() if "risk_model" in c.instruments)


@functools.cache
def _fit(key: str):
    folder = DATA / key
    assert (folder / "profile.yaml").is_file(), f"{folder}/profile.yaml missing"
    assert (folder / "truth.json").is_file(), f"{folder}/truth.json missing"
    profile = yaml.safe_load((folder / "profile.yaml").read_text(encoding="utf-8"))
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    design = profile.get("design") or {}
    survey = pd.read_csv(folder / profile["files"]["survey"],
                         dtype={c: str for c in ("territory_id", "region_id", "stratum", "psu",
                                                 "household_id", "child_id")})
    covariates = [c if isinstance(c, str) else c["name"] for c in profile["covariates"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # singleton strata are reported, not failures
        model = fit_risk_model(survey, covariates, outcome=profile.get("outcome", "child_labour"),
                               weight=design.get("weight", "weight"),
                               strata=design.get("stratum", "stratum"),
                               psu=design.get("psu", "psu"), source=f"{key}/survey")
    true = pd.Series(truth["coefficients"], dtype=float)
    assert set(true.index) == set(model.params.index), (key, sorted(true.index))
    true = true[model.params.index]
    t = model.odds_ratios()
    inside = (np.log(t["ci_low"]) <= true) & (true <= np.log(t["ci_high"]))
    z = (model.params - true) / model.bse
    return model, inside, z


def test_every_survey_country_is_published():
    assert WITH_SURVEY, "no sample country declares the risk_model instrument"
    missing = [k for k in WITH_SURVEY if not (DATA / k / "truth.json").is_file()]
    assert not missing, f"data_samples lacks truth.json for {missing}"


@pytest.mark.parametrize("key", WITH_SURVEY)
def test_true_coefficients_recovered(key):
    model, inside, z = _fit(key)
    assert model.converged
    assert np.all(np.abs(z) < 3.5), z.round(2).to_dict()
    assert inside.mean() >= 0.8, z.round(2).to_dict()


def test_pooled_coverage_of_true_coefficients():
    flags = np.concatenate([_fit(k)[1].to_numpy() for k in WITH_SURVEY])
    assert flags.size >= 5 * len(WITH_SURVEY)
    assert flags.mean() >= 0.90, flags.mean()
