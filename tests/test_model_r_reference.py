"""The estimator against R ``survey::svyglm`` (numbers stored in tests/r_reference/).

Why stored numbers: CI has no R. ``svyglm_reference.R`` was run with R 4.2 / survey 4.1.1 on the
fixed design datasets written by ``make_design.py``; here we check that those datasets are still
exactly what the script produces and that clrisk reproduces R's coefficients (1e-6 relative),
standard errors (1e-6 relative), full covariance, p-values, confidence intervals and average
marginal effects under every lonely-PSU policy.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clrisk.phase1.model import SingletonStrataWarning, fit_risk_model

REF_DIR = Path(__file__).parent / "r_reference"
REF = json.loads((REF_DIR / "svyglm_reference.json").read_text())
COVS = ["age", "female", "poverty", "head_schooling", "rural"]
FITS = sorted(REF["fits"])


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype={"stratum": str, "psu": str, "region_id": str})


def _fit(key: str):
    spec = REF["fits"][key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_risk_model(_read(spec["file"]), COVS, lonely_psu=spec["lonely_psu"])
    return spec, model, caught


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def test_design_files_are_reproducible():
    spec = importlib.util.spec_from_file_location("make_design", REF_DIR / "make_design.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    base, single = mod.make()
    for frame, name in ((base, "design.csv"), (single, "design_singleton.csv")):
        stored = _read(name)
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), stored, check_dtype=False)
    assert single["stratum"].nunique() == base["stratum"].nunique() + 2


@pytest.mark.parametrize("key", FITS)
def test_coefficients_and_ses_match_r(key):
    spec, model, _ = _fit(key)
    assert list(model.params.index) == ["const", *COVS]
    assert _rel(model.params, list(spec["coef"].values())) < 1e-6
    assert _rel(model.bse, list(spec["se"].values())) < 1e-6
    vcov = np.array(spec["vcov"])
    assert np.max(np.abs(model.cov.to_numpy() - vcov)) < 1e-6 * np.max(np.abs(vcov))
    assert model.df_t == spec["df_residual"]
    assert model.df_resid == spec["degf"]


@pytest.mark.parametrize("key", FITS)
def test_inference_matches_r(key):
    spec, model, _ = _fit(key)
    ors = model.odds_ratios()
    assert _rel(ors["p_value"], list(spec["p_value"].values())) < 1e-4
    assert _rel(np.log(ors["ci_low"]), list(spec["ci_low"].values())) < 1e-6
    assert _rel(np.log(ors["ci_high"]), list(spec["ci_high"].values())) < 1e-6


@pytest.mark.parametrize("key", FITS)
def test_marginal_effects_match_r(key):
    spec, model, _ = _fit(key)
    me = model.marginal_effects()
    assert _rel(me["ame"], [spec["ame"][c]["ame"] for c in COVS]) < 1e-6
    # R's gradient is a finite difference, hence the looser tolerance on the SE
    assert _rel(me["se"], [spec["ame"][c]["se"] for c in COVS]) < 1e-6


def test_singleton_strata_recorded_and_warned():
    _, model, caught = _fit("singleton_adjust")
    assert model.singleton_strata == ["S09", "S10"]
    assert model.lonely_psu == "adjust"
    assert any(issubclass(w.category, SingletonStrataWarning) for w in caught)
    _, base, caught_base = _fit("base")
    assert base.singleton_strata == []
    assert not any(issubclass(w.category, SingletonStrataWarning) for w in caught_base)


def test_lonely_psu_policies_differ_as_in_r():
    ses = {k: _fit(k)[1].bse for k in FITS if k.startswith("singleton")}
    # remove and certainty coincide for a one-stage design; average inflates remove by H/(H-2)
    np.testing.assert_allclose(ses["singleton_remove"], ses["singleton_certainty"], rtol=1e-12)
    np.testing.assert_allclose(ses["singleton_average"] ** 2,
                               ses["singleton_remove"] ** 2 * 10 / 8, rtol=1e-10)
    assert not np.allclose(ses["singleton_adjust"], ses["singleton_remove"])


def test_lonely_psu_fail_policy_raises():
    from clrisk.errors import ModelError

    with pytest.raises(ModelError, match="S09, S10.*single PSU"):
        fit_risk_model(_read("design_singleton.csv"), COVS, lonely_psu="fail")


def test_psu_labels_are_nested_within_strata():
    """Same psu label in two strata = two PSUs (R nest=TRUE): relabelling PSUs uniquely per
    stratum must not change anything, while pooling labels across strata would."""
    data = _read("design.csv")
    unique = data.assign(psu=data["stratum"] + "/" + data["psu"])
    a, b = fit_risk_model(data, COVS), fit_risk_model(unique, COVS)
    assert a.n_psu == b.n_psu == unique["psu"].nunique()
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-12)
