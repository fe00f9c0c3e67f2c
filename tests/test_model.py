"""fit_risk_model / RiskModel: cross-checks with statsmodels, bad inputs, JSON, draws, speed.

Why statsmodels here: it is an independent implementation of the logit; with a single stratum
the design-based sandwich reduces to its cluster-robust covariance (up to its small-sample
factor), and its ``get_margeff`` gives average marginal effects to compare with ours.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from clrisk.errors import DataError, ModelError
from clrisk.phase1.model import RiskModel, fit_risk_model

COVS = ["age", "female", "poverty", "head_schooling"]
BETA = np.array([-3.5, 0.15, -0.4, 0.9, -0.1])


def simulate(n: int = 3000, n_strata: int = 10, psu_per_stratum: int = 6, seed: int = 1,
             beta: np.ndarray = BETA, sigma_u: float = 0.3, weighted: bool = True
             ) -> pd.DataFrame:
    """Stratified cluster sample from a logit with a PSU random effect (documented DGP):
    age U{5..17}, female B(0.5), poverty B(0.35), head_schooling N(8 − 2·poverty, 3);
    weights lognormal(0, 0.4) times a stratum factor; PSU labels reused across strata."""
    rng = np.random.default_rng(seed)
    n_psu = n_strata * psu_per_stratum
    psu_global = rng.integers(0, n_psu, n)
    stratum = psu_global // psu_per_stratum
    age = rng.integers(5, 18, n).astype(float)
    female = (rng.random(n) < 0.5).astype(float)
    poverty = (rng.random(n) < 0.35).astype(float)
    school = np.round(rng.normal(8 - 2 * poverty, 3), 1)
    x = np.column_stack([np.ones(n), age, female, poverty, school])
    u = rng.normal(0, sigma_u, n_psu)[psu_global]
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ beta + u)))).astype(int)
    w = rng.lognormal(0, 0.4, n) * (1 + stratum) if weighted else np.ones(n)
    return pd.DataFrame({"stratum": stratum.astype(str), "psu": (psu_global % psu_per_stratum),
                         "weight": w, "child_labour": y, "age": age, "female": female,
                         "poverty": poverty, "head_schooling": school})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def model(data) -> RiskModel:
    return fit_risk_model(data, COVS)


# --- cross-checks with statsmodels ---------------------------------------------------------
def test_point_estimates_match_statsmodels_weighted_glm(data, model):
    x = sm.add_constant(data[COVS])
    glm = sm.GLM(data["child_labour"], x, family=sm.families.Binomial(),
                 freq_weights=data["weight"]).fit(tol=1e-12)
    np.testing.assert_allclose(model.params.to_numpy(), glm.params.to_numpy(), rtol=1e-7)
    assert model.converged and model.iterations < 15


@pytest.mark.filterwarnings("ignore:cov_type not fully supported")
def test_single_stratum_se_equals_statsmodels_cluster_sandwich(data):
    """One stratum: B = G/(G−1) Σ u_j u_j'; statsmodels' cluster covariance adds the factor
    (N−1)/(N−K), so V_ours = V_sm · (N−K)/(N−1) exactly."""
    one = data.assign(stratum="all", psu=data["stratum"] + "-" + data["psu"].astype(str))
    ours = fit_risk_model(one, COVS)
    x = sm.add_constant(one[COVS])
    groups = pd.factorize(one["psu"])[0]
    glm = sm.GLM(one["child_labour"], x, family=sm.families.Binomial(),
                 var_weights=one["weight"] / one["weight"].mean()).fit(
        tol=1e-12, cov_type="cluster", cov_kwds={"groups": groups})
    n, k = len(one), len(COVS) + 1
    np.testing.assert_allclose(ours.bse.to_numpy() ** 2,
                               glm.bse.to_numpy() ** 2 * (n - k) / (n - 1), rtol=1e-6)


def test_unweighted_each_child_a_psu_is_hc0_times_n_over_n_minus_1():
    data = simulate(n=1500, weighted=False, seed=5)
    srs = data.assign(stratum="all", psu=np.arange(len(data)))
    ours = fit_risk_model(srs, COVS)
    logit = sm.Logit(srs["child_labour"], sm.add_constant(srs[COVS])).fit(
        disp=0, cov_type="HC0", method="newton", tol=1e-12)
    np.testing.assert_allclose(ours.params.to_numpy(), logit.params.to_numpy(), rtol=1e-7)
    n = len(srs)
    np.testing.assert_allclose(ours.bse.to_numpy() ** 2, logit.bse.to_numpy() ** 2 * n / (n - 1),
                               rtol=1e-6)
    assert ours.df_resid == n - 1


def test_odds_ratios_and_ame_match_statsmodels_margeff():
    data = simulate(n=2000, weighted=False, seed=7)
    one = data.assign(stratum="all")
    ours = fit_risk_model(one, COVS)
    logit = sm.Logit(one["child_labour"], sm.add_constant(one[COVS])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(ours.odds_ratios()["odds_ratio"], np.exp(logit.params), rtol=1e-7)
    me = logit.get_margeff(at="overall", method="dydx", dummy=True).summary_frame()
    np.testing.assert_allclose(ours.marginal_effects()["ame"].to_numpy(),
                               me["dy/dx"].to_numpy(), rtol=1e-6)


# --- the model object ----------------------------------------------------------------------
def test_model_facts(data, model):
    assert model.n_obs == len(data)
    assert model.n_strata == 10 and model.n_psu == 60
    assert model.df_resid == 50 and model.df_t == 50 + 1 - 5
    assert model.singleton_strata == [] and model.lonely_psu == "adjust"
    assert list(model.bse.index) == ["const", *COVS]
    assert list(model.cov.columns) == ["const", *COVS]


def test_predict_dataframe_and_matrix(data, model):
    p = model.predict(data)
    x = data[COVS].to_numpy(float)
    np.testing.assert_allclose(p, model.predict(x), rtol=1e-14)
    np.testing.assert_allclose(p, model.predict(np.column_stack([np.ones(len(x)), x])),
                               rtol=1e-14)
    eta = model.linear_predictor(data)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-eta)), rtol=1e-12)
    with pytest.raises(DataError, match="head_schooling"):
        model.predict(data.drop(columns="head_schooling"))
    with pytest.raises(DataError, match="expected 4"):
        model.predict(np.ones((3, 2)))


def test_odds_ratio_table(model):
    t = model.odds_ratios()
    assert list(t.columns) == ["odds_ratio", "ci_low", "ci_high", "p_value"]
    assert (t["ci_low"] < t["odds_ratio"]).all() and (t["odds_ratio"] < t["ci_high"]).all()
    wide = model.odds_ratios(alpha=0.01)
    assert (wide["ci_low"] < t["ci_low"]).all()
    normal = model.odds_ratios(dist="normal")
    assert (normal["ci_low"] > t["ci_low"]).all()  # t intervals are wider
    with pytest.raises(ValueError, match="dist"):
        model.odds_ratios(dist="cauchy")


def test_marginal_effects_table(model):
    me = model.marginal_effects()
    assert list(me.columns) == ["ame", "se", "ci_low", "ci_high"]
    assert list(me.index) == COVS
    assert (me["se"] > 0).all()
    # signs follow the coefficients
    assert (np.sign(me["ame"]) == np.sign(model.params[COVS])).all()


def test_summary_is_translated(model):
    en = model.summary()
    es = model.summary(lang="es")
    fr = model.summary(lang="fr")
    assert "Odds ratio" in en.columns and "Intercept" in en.index
    assert "Razón de momios" in es.columns or "Razón de probabilidades" in es.columns
    assert "Constante" in es.index
    assert "Rapport de cotes" in fr.columns
    np.testing.assert_array_equal(en.to_numpy(), es.to_numpy())


def test_json_round_trip_is_exact(model, data, tmp_path):
    text = model.to_json()
    back = RiskModel.from_json(text)
    pd.testing.assert_series_equal(back.params, model.params, check_exact=True)
    pd.testing.assert_frame_equal(back.cov, model.cov, check_exact=True)
    pd.testing.assert_series_equal(back.bse, model.bse, check_exact=True)
    pd.testing.assert_frame_equal(back.marginal_effects(), model.marginal_effects(),
                                  check_exact=True)
    for f in ("covariates", "outcome", "n_obs", "n_psu", "n_strata", "singleton_strata",
              "df_resid", "converged", "iterations", "lonely_psu", "weight", "strata", "psu"):
        assert getattr(back, f) == getattr(model, f), f
    np.testing.assert_array_equal(back.predict(data), model.predict(data))
    assert back.to_json() == text
    path = model.save(tmp_path / "out" / "model.json")
    assert path.is_file() and not list(path.parent.glob(".*tmp"))
    assert RiskModel.load(path).to_json() == text
    with pytest.raises(DataError, match="not a clrisk risk model"):
        RiskModel.from_json('{"params": [1]}')


def test_draw_coefficients(model):
    a = model.draw_coefficients(20_000, seed=3)
    b = model.draw_coefficients(20_000, seed=3)
    assert a.shape == (20_000, 5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.draw_coefficients(20_000, seed=4))
    se = model.bse.to_numpy()
    assert np.all(np.abs(a.mean(axis=0) - model.params.to_numpy()) < 4 * se / np.sqrt(20_000))
    emp, cov = np.cov(a.T), model.cov.to_numpy()
    np.testing.assert_allclose(np.diag(emp), np.diag(cov), rtol=0.05)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    emp_corr = emp / np.sqrt(np.outer(np.diag(emp), np.diag(emp)))
    np.testing.assert_allclose(emp_corr, corr, atol=0.03)


def test_input_frame_not_modified(data):
    before = data.copy()
    fit_risk_model(data, COVS)
    pd.testing.assert_frame_equal(data, before)


# --- bad input: each a clear DataError / ModelError ---------------------------------------
def _raises(exc, match, frame, covs=COVS, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match) as info:
            fit_risk_model(frame, covs, **kw)
    assert "Fix:" in str(info.value)
    return str(info.value)


def test_empty_survey(data):
    _raises(DataError, "no rows", data.iloc[:0])


def test_missing_columns(data):
    msg = _raises(DataError, "missing column.*'poverty'", data.drop(columns="poverty"))
    assert "column 'poverty'" in msg
    _raises(DataError, "'stratum'", data.drop(columns="stratum"))


def test_nan_counts_per_column(data):
    bad = data.copy()
    bad.loc[[3, 9], "age"] = np.nan
    bad.loc[[4], "weight"] = np.nan
    msg = _raises(DataError, "'weight': 1 rows", bad)
    assert "'age': 2 rows (rows 4, 10)" in msg and "'weight': 1 rows (row 5)" in msg


def test_non_binary_outcome(data):
    bad = data.copy()
    bad.loc[5, "child_labour"] = 2
    _raises(DataError, r"column 'child_labour'.*0/1.*\[2.0\].*row 6", bad)


def test_non_numeric_covariate(data):
    bad = data.assign(poverty=np.where(data["poverty"] == 1, "yes", "no"))
    _raises(DataError, "column 'poverty': non-numeric", bad)


@pytest.mark.parametrize("value", [0, 1])
def test_constant_outcome(data, value):
    _raises(ModelError, f"always {value}", data.assign(child_labour=value))


def test_no_variance_covariate(data):
    _raises(ModelError, "female take a single value", data.assign(female=1.0))


def test_non_positive_weights(data):
    bad = data.copy()
    bad.loc[[0, 7], "weight"] = [0.0, -2.0]
    _raises(DataError, "column 'weight'.*strictly positive.*rows 1, 8", bad)


def test_collinear_covariates_named(data):
    bad = data.assign(age_months=data["age"] * 12)
    msg = _raises(ModelError, "collinear", bad, covs=[*COVS, "age_months"])
    assert "age, age_months" in msg and "poverty" not in msg
    lin = data.assign(combo=data["age"] + 2 * data["poverty"])
    msg = _raises(ModelError, "collinear", lin, covs=[*COVS, "combo"])
    assert "age" in msg and "poverty" in msg and "combo" in msg and "female" not in msg


def test_quasi_complete_separation_binary(data):
    bad = data.copy()
    bad.loc[bad["female"] == 1, "child_labour"] = 0
    _raises(ModelError, "separation by covariate 'female'", bad)


def test_perfect_separation_continuous(data):
    bad = data.assign(child_labour=(data["head_schooling"] < 6).astype(int))
    _raises(ModelError, "separation.*head_schooling", bad)


def test_fewer_than_two_psus(data):
    _raises(DataError, "only 1 primary sampling unit", data.assign(stratum="a", psu=1))


def test_bad_arguments(data):
    _raises(DataError, "no covariates", data, covs=[])
    _raises(DataError, "listed twice", data, covs=["age", "age"])
    with pytest.raises(ValueError, match="lonely_psu"):
        fit_risk_model(data, COVS, lonely_psu="drop")
    with pytest.raises(DataError, match="DataFrame"):
        fit_risk_model(data.to_numpy(), COVS)


def test_all_singleton_strata(data):
    one_psu = data.assign(stratum=data["stratum"] + "-" + data["psu"].astype(str), psu=1)
    with pytest.warns(UserWarning, match="single PSU"):
        adj = fit_risk_model(one_psu, COVS)  # adjust: lone PSUs centred at the grand mean
    assert len(adj.singleton_strata) == adj.n_strata == adj.n_psu == 60
    assert adj.df_resid == 0 and np.isfinite(adj.bse).all()
    _raises(ModelError, "average", one_psu, lonely_psu="average")


def test_source_names_the_file(data):
    _raises(DataError, "^survey.csv, column 'poverty'", data.drop(columns="poverty"),
            source="/x/survey.csv")


# --- recovery and speed --------------------------------------------------------------------
def test_ci_coverage_over_replications():
    """200 samples from a known β with PSU random effects (σ_u = 0.3): the design-based 95%
    CIs cover each true coefficient in 88–99% of samples (binomial sd ≈ 1.5 points). The truth
    is the population-averaged β, i.e. β·(1 + 0.346 σ²)^−½ (Zeger et al. 1988 approximation),
    because the survey logit is a marginal model."""
    reps = 200
    atten = 1 / np.sqrt(1 + 0.346 * 0.3**2)
    inside = np.zeros(len(BETA))
    for r in range(reps):
        d = simulate(n=2000, n_strata=20, psu_per_stratum=5, seed=1000 + r)
        m = fit_risk_model(d, COVS)
        t = m.odds_ratios()
        lo, hi = np.log(t["ci_low"]).to_numpy(), np.log(t["ci_high"]).to_numpy()
        truth = BETA * atten
        inside += (lo <= truth) & (truth <= hi)
    coverage = inside / reps
    assert np.all(coverage >= 0.88) and np.all(coverage <= 0.99), coverage


def test_large_sample_recovers_beta():
    d = simulate(n=60_000, n_strata=40, psu_per_stratum=25, seed=11, sigma_u=0.0)
    m = fit_risk_model(d, COVS)
    z = (m.params.to_numpy() - BETA) / m.bse.to_numpy()
    assert np.all(np.abs(z) < 3.5), z


def test_performance_200k_rows_11_covariates():
    rng = np.random.default_rng(0)
    n, k = 200_000, 11
    x = rng.normal(size=(n, k))
    x[:, :5] = x[:, :5] > 0.3
    psu = rng.integers(0, 4000, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2 + x @ np.linspace(-0.5, 0.5, k))))).astype(int)
    names = [f"x{i}" for i in range(k)]
    frame = pd.DataFrame(x, columns=names).assign(
        child_labour=y, weight=rng.lognormal(0, 0.5, n), psu=psu % 20, stratum=psu // 20)
    t0 = time.perf_counter()
    m = fit_risk_model(frame, names)
    elapsed = time.perf_counter() - t0
    assert m.n_psu == 4000 and m.n_strata == 200
    assert elapsed < 10, f"fit took {elapsed:.1f} s"
