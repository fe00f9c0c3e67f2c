"""Small-area estimator: recovery on simulated data, intervals, draws, bad input, pipeline.

Statistical checks use fresh simulated populations with a known truth (several seeds, never
one lucky draw); figures on the committed samples are read from ``run_country`` output."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from clrisk.errors import DataError
from clrisk.phase1 import sae
from clrisk.phase1.census_source import resolve_census

ROOT = Path(__file__).resolve().parents[1]
COVS = ["x1", "x2"]
BETA = np.array([-1.5, 0.8, -0.6])


def simulate(seed: int, T: int = 80, per: int = 400, n_s: int = 30, sigma: float = 0.5
             ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Census of T territories, survey of n_s children in 3/4 of them, true territory rates."""
    rng = np.random.default_rng(seed)
    tid = np.repeat([f"T{t:03d}" for t in range(T)], per)
    t = np.repeat(np.arange(T), per)
    x1 = rng.binomial(1, expit(rng.normal(0, 1, T)))[t] * 0 + rng.binomial(1, 0.4, T * per)
    x2 = rng.normal(rng.normal(0, 0.5, T)[t], 1.0).round(1)
    u = rng.normal(0, sigma, T)
    p = expit(BETA[0] + BETA[1] * x1 + BETA[2] * x2 + u[t])
    census = pd.DataFrame({"territory_id": tid, "x1": x1.astype(float), "x2": x2})
    truth = pd.Series(p).groupby(t).mean().to_numpy()
    rows = []
    for k in range(int(T * 0.75)):
        idx = rng.choice(np.flatnonzero(t == k), n_s, replace=False)
        rows.append(idx)
    idx = np.concatenate(rows)
    w = rng.uniform(50, 150, len(idx))
    survey = census.iloc[idx].copy()
    survey["child_labour"] = (rng.random(len(idx)) < p[idx]).astype(int)
    survey["weight"] = w
    return census, survey.reset_index(drop=True), truth


def test_fit_recovers_beta_and_sigma_over_replicates():
    est = []
    for seed in range(4):
        _c, survey, _t = simulate(seed)
        f = sae.fit_mixed_logit(survey, COVS)
        assert f.converged
        est.append(np.concatenate([f.beta, [f.sigma]]))
    mean = np.mean(est, axis=0)
    assert np.allclose(mean[:3], BETA, atol=0.15), mean
    assert 0.35 < mean[3] < 0.65, mean


def test_ebp_beats_synthetic_and_intervals_cover():
    cover, err_sae, err_syn = [], [], []
    for seed in range(10, 14):
        census, survey, truth = simulate(seed)
        src = resolve_census(census, COVS)
        f = sae.fit_mixed_logit(survey, COVS)
        r = sae.small_area_estimates(f, src)
        assert np.all(r.ci_low > 0) and np.all(r.ci_high < 1)
        assert np.all((r.ci_low < r.estimate) & (r.estimate < r.ci_high))
        cover.append(np.mean((truth >= r.ci_low) & (truth <= r.ci_high)))
        err_sae.append(np.mean((r.estimate - truth) ** 2))
        post0 = sae.posterior(f, src.territory_ids)
        P0, _g = sae.census_curves(src, None, f.beta, np.zeros((len(truth), 1)))
        err_syn.append(np.mean((P0[:, 0] - truth) ** 2))
        assert post0.sampled.sum() == 60
        assert np.all(r.n_surveyed[post0.sampled] == 30)
    assert 0.88 <= np.mean(cover) <= 0.995, cover
    assert np.mean(err_sae) < 0.8 * np.mean(err_syn)


def test_scaling_changes_the_fit():
    _c, survey, _t = simulate(3)
    rng = np.random.default_rng(0)
    survey["weight"] = rng.lognormal(0, 1.2, len(survey))
    sig = {s: sae.fit_mixed_logit(survey, COVS, scaling=s).sigma for s in sae.SCALINGS}
    assert len({round(v, 3) for v in sig.values()}) == 3


def test_predictive_draws_and_p_top():
    census, survey, truth = simulate(21)
    src = resolve_census(census, COVS)
    r = sae.small_area_estimates(sae.fit_mixed_logit(survey, COVS), src)
    d = sae.predictive_draws(r, draws=300, seed=1)
    assert d.beta.shape == (300, 3) and d.u.shape == (300, len(truth))
    # draws centre on the estimate and spread like the RMSE
    assert np.allclose(d.rates.mean(0), r.estimate, atol=0.01)
    ratio = d.rates.std(0) / r.rmse
    assert 0.7 < np.median(ratio) < 1.3
    pt = sae.p_top(d)
    assert pt.min() >= 0 and pt.max() <= 1
    assert np.all(pt[r.estimate > np.quantile(r.estimate, 0.95)] > 0.5)
    again = sae.predictive_draws(r, draws=300, seed=1)
    assert np.array_equal(again.rates, d.rates)  # seeded


def test_bootstrap_agrees_with_analytic():
    census, survey, _truth = simulate(5, T=40)
    src = resolve_census(census, COVS)
    f = sae.fit_mixed_logit(survey, COVS)
    a = sae.small_area_estimates(f, src)
    b = sae.small_area_estimates(f, src, mse="bootstrap", bootstrap_B=30, seed=3)
    ratio = np.sqrt(np.mean(a.rmse ** 2) / np.mean(b.rmse ** 2))
    assert 0.75 < ratio < 1.33, ratio


def test_no_territory_with_two_children_is_a_clear_error():
    _c, survey, _t = simulate(1)
    one = survey.groupby("territory_id").head(1)
    with pytest.raises(DataError, match="more than one surveyed child"):
        sae.fit_mixed_logit(one, COVS)


def test_boundary_without_prior_warns_and_all_ones_territory_is_finite():
    census, survey, _t = simulate(2, sigma=0.0)
    first = survey["territory_id"] == survey["territory_id"].iloc[0]
    survey.loc[first, "child_labour"] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sae.fit_mixed_logit(survey, COVS, prior=False)
    r = sae.small_area_estimates(f, resolve_census(census, COVS))
    assert np.all(np.isfinite(r.estimate)) and np.all(np.isfinite(r.rmse))
    if f.boundary:
        assert any(issubclass(w.category, sae.SAEWarning) for w in caught)
        assert f.sigma2 == 0.0


def test_bad_weights_are_a_data_error():
    _c, survey, _t = simulate(4)
    survey.loc[3, "weight"] = -1.0
    with pytest.raises(DataError, match="weight"):
        sae.fit_mixed_logit(survey, COVS)


def test_run_country_table_columns():
    from clrisk.data import load_country
    from clrisk.pipeline import run_country

    res = run_country(load_country("chile"), draws=50)
    t = res.territories
    for col in ("mean_probability", "ci_low", "ci_high", "p_top", "estimator", "rmse", "cv",
                "n_surveyed", "synthetic_mean_probability", "synthetic_low_coef_only",
                "synthetic_high_coef_only", "synthetic_p_top", "high_cv", "uncertain_level"):
        assert col in t.columns, col
    assert "se" not in t.columns
    assert set(t["estimator"]) == {"sae"}
    assert np.all((t["ci_low"] < t["mean_probability"]) & (t["mean_probability"] < t["ci_high"]))


SAMPLE_COUNTRIES = ["argentina", "brazil", "chile", "colombia", "guatemala", "mexico", "peru"]


@pytest.mark.slow
def test_pooled_figures_on_committed_samples():
    """Issue 12's three figures pooled over the seven survey+census samples (run output),
    next to the yardstick: the same predictor with the samples' TRUE parameters."""
    from scipy.stats import spearmanr

    from clrisk.data import load_country
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.sae_yardstick import oracle_estimates
    from clrisk.pipeline import census_source, census_weight, run_country

    cover, rho, rho_syn, rho_oracle, top, sel = [], [], [], [], 0, 0
    for c in SAMPLE_COUNTRIES:
        data = load_country(c)
        run = run_country(data, draws=100)
        t = run.territories
        truth = json.loads((ROOT / "data_samples" / c / "truth.json").read_text())
        tp = t["territory_id"].map(truth["territory_probability"]).to_numpy()
        cover.append(np.mean((tp >= t["ci_low"]) & (tp <= t["ci_high"])))
        rho.append(spearmanr(t["mean_probability"], tp)[0])
        rho_syn.append(spearmanr(t["synthetic_mean_probability"], tp)[0])
        s = t["p_top"].to_numpy() >= 0.9
        top += int((tp[s] > np.quantile(tp, 2 / 3)).sum())
        sel += int(s.sum())
        census = census_source(data)
        src = resolve_census(census, list(data.profile.covariates),
                             weight=census_weight(census))
        o = oracle_estimates(run.estimates.sae, src, truth, draws=20)
        ot = o["territory_id"].map(truth["territory_probability"]).to_numpy()
        rho_oracle.append(spearmanr(o["oracle_mean_probability"], ot)[0])
    assert 0.90 <= np.mean(cover) <= 0.99, cover
    # issue 12's target is 0.93. Measured on these samples: 0.891, the projection 0.887 and
    # the yardstick 0.892 — with the true β and σ no predictor ranks these territories at
    # 0.93 (low prevalence, few surveyed PSUs per territory, and a true rate that carries the
    # draw of a territory's few synthetic segments). So the test asks what the data allow:
    # the fitted estimate ranks as well as the yardstick and not worse than the projection
    assert np.mean(rho) >= np.mean(rho_oracle) - 0.01, (rho, rho_oracle)
    assert np.mean(rho) >= np.mean(rho_syn) - 0.01, (rho, rho_syn)
    assert sel > 0 and top / sel >= 0.9


def test_maps_hatch_imprecise_and_outline_uncertain_territories():
    import geopandas as gpd
    from shapely.geometry import box

    from clrisk.maps import plot_territory_map

    gdf = gpd.GeoDataFrame({
        "territory_id": ["a", "b", "c"], "mean_probability": [0.1, 0.2, 0.3],
        "risk_level": [1, 2, 3], "p_top": [0.0, 0.5, 1.0],
        "high_cv": [True, False, False], "uncertain_level": [False, True, False]},
        geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:4326")
    fig = plot_territory_map(gdf, "risk_level", kind="level", lang="es", k=3)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Estimación imprecisa (CV > 30 %)" in labels
    assert any("nivel más alto" in lab for lab in labels)
    gdf["high_cv"] = False
    fig = plot_territory_map(gdf, "mean_probability", kind="probability", lang="en")
    legend = fig.axes[0].get_legend()
    assert legend is None or not any("CV" in t.get_text() for t in legend.get_texts())


def test_ratio_benchmark_reproduces_direct_estimates():
    from clrisk.phase1.benchmarking import ratio_benchmark

    terr = pd.DataFrame({"territory_id": ["a", "b", "c", "d"], "region_id": ["1", "1", "2", "2"],
                         "children": [100.0, 300.0, 200.0, 200.0],
                         "mean_probability": [0.10, 0.20, 0.05, 0.15],
                         "ci_low": [0.05, 0.15, 0.02, 0.10], "ci_high": [0.2, 0.3, 0.1, 0.2],
                         "rmse": [0.02, 0.03, 0.01, 0.02]})
    survey = pd.DataFrame({"region_id": ["1", "1", "2", "2"], "child_labour": [1, 0, 0, 1],
                           "weight": [1.0, 3.0, 9.0, 1.0]})
    out, table = ratio_benchmark(terr, survey, "region")
    direct = {"1": 0.25, "2": 0.1}
    for r, d in direct.items():
        g = out[out["region_id"] == r]
        assert np.isclose(np.average(g["mean_probability"], weights=g["children"]), d)
    assert np.allclose(table["model_after"], table["direct"])
    assert np.allclose(out["rmse"] / terr["rmse"], out["mean_probability"]
                       / terr["mean_probability"])
    nat, t2 = ratio_benchmark(terr, survey, "national")
    assert len(t2) == 1 and np.isclose(t2["model_after"].iloc[0], t2["direct"].iloc[0])


@pytest.mark.slow
def test_replicate_study_reduced_size():
    """benchmarks/sae_replicates.py at reduced size (make validate runs 50 x Guatemala and Peru)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sae_replicates", ROOT / "benchmarks" / "sae_replicates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = [r for s in (20_001, 20_002) for r in mod.one_replicate("chile", s, draws=100)]
    summary = mod.summarise(pd.DataFrame(rows)).set_index("estimator")
    sae_row, syn_row = summary.loc["sae"], summary.loc["synthetic"]
    assert 0.85 <= sae_row["coverage"] <= 1.0
    assert sae_row["coverage"] > syn_row["coverage"] + 0.2  # the coefficients-only band misses
    # Not materially less accurate than the projection (measured on these two replicates:
    # 1.06x; the small-area gain is in honest intervals, not in point accuracy, on samples
    # whose PSU effects (sd 0.9) dwarf the territory effects (sd 0.25)).
    assert sae_row["empirical_rmse"] <= 1.25 * syn_row["empirical_rmse"]
    assert 0.6 <= sae_row["rmse_ratio"] <= 1.6


def test_non_convergence_is_reported_not_hidden():
    census, survey, _t = simulate(6, T=30)
    with pytest.warns(sae.SAEWarning, match="did not converge"):
        f = sae.fit_mixed_logit(survey, COVS, max_iter=1)
    assert not f.converged
    r = sae.small_area_estimates(f, resolve_census(census, COVS))
    assert np.all(np.isfinite(r.estimate))


def test_pipeline_falls_back_to_synthetic_when_sae_cannot_be_fitted():
    from clrisk.phase1.model import fit_risk_model
    from clrisk.phase1.sae_run import territory_estimates
    from clrisk.phase1.scoring import score_territories

    census, survey, _t = simulate(7, T=30)
    survey["stratum"], survey["psu"] = "s", np.arange(len(survey)).astype(str)
    model = fit_risk_model(survey, COVS, outcome="child_labour", weight="weight",
                           strata="stratum", psu="psu")
    src = resolve_census(census, COVS)
    one = survey.groupby("territory_id").head(1)
    with pytest.warns(sae.SAEWarning, match="synthetic projection drives"):
        est = territory_estimates(score_territories(model, src), model, src, one, draws=20)
    t = est.table
    assert est.estimator == "synthetic" and set(t["estimator"]) == {"synthetic"}
    assert np.allclose(t["mean_probability"], t["synthetic_mean_probability"])
    assert t["rmse"].isna().all()  # unknown without the territory variance: not invented
    # nor an interval: the coefficients-only band stays in its own columns, never in ci_*
    assert t["ci_low"].isna().all() and t["ci_high"].isna().all()
    assert t["synthetic_low_coef_only"].notna().all()


def _with_psus(survey: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Two or three PSUs per surveyed territory (labels reused across territories)."""
    rng = np.random.default_rng(seed)
    return survey.assign(psu=rng.integers(0, 3, len(survey)).astype(str))


@pytest.mark.parametrize("nested", [False, True])
def test_louis_hessian_matches_finite_differences(nested):
    """The Newton fit's Hessian (Louis identity) is the derivative of its gradient."""
    _c, survey, _t = simulate(31, T=40)
    survey = _with_psus(survey, 1) if nested else survey
    d = sae._survey_arrays(survey, COVS, "child_labour", "weight", "territory_id", None, "psu")
    assert d["nested"] == nested
    d["wt"] = sae.scale_weights(d["w"], d["t"], "size")
    theta = np.concatenate([sae._start_beta(d), [np.log(0.4)] * (2 if nested else 1)])
    st = {"penalty": 1.0}
    f, g, H, _s = sae._louis(theta, d, sae.FIT_NODES, dict(st))
    f0, g0 = sae._nested(theta, d, sae.GRID_POINTS, sae.FIT_NODES, dict(st))
    assert np.isclose(f, f0, rtol=1e-12) and np.allclose(g, g0, atol=1e-9)
    Hfd = np.empty_like(H)
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = 1e-5
        gp = sae._louis(theta + e, d, sae.FIT_NODES, dict(st))[1]
        gm = sae._louis(theta - e, d, sae.FIT_NODES, dict(st))[1]
        Hfd[:, j] = (gp - gm) / 2e-5
    assert np.max(np.abs(Hfd - H)) < 1e-3 * np.max(np.abs(H)), (H, Hfd)
    # the value-and-gradient mode gives the same gradient and the exact variance block
    _f2, g2, Hs, _n = sae._louis(theta, d, sae.FIT_NODES, dict(st), hessian=False)
    p_ = len(sae._start_beta(d))
    assert np.allclose(g2, g, atol=1e-9) and np.allclose(Hs, H[p_:, p_:], rtol=1e-9)


@pytest.mark.parametrize("nested", [False, True])
def test_newton_fit_reaches_the_root_that_lbfgs_approaches(nested):
    _c, survey, _t = simulate(32)
    survey = _with_psus(survey, 2) if nested else survey
    new = sae.fit_mixed_logit(survey, COVS)
    old = sae.fit_mixed_logit(survey, COVS, method="lbfgs")
    assert new.converged and new.data["nested"] == nested
    st = {"penalty": sae.BOUNDARY_PRIOR}  # the quadrature of u the fit uses (FIT_U_NODES)
    rule = sae.u_rule("grid") if nested else sae.u_rule("gh", sae.FIT_U_NODES)
    g_new = sae._louis(sae._theta(new), new.data, sae.FIT_NODES, dict(st), rule)[1]
    g_old = sae._louis(sae._theta(old), old.data, sae.FIT_NODES, dict(st), rule)[1]
    assert np.max(np.abs(g_new)) < 1e-4 < np.max(np.abs(g_old))  # L-BFGS-B stops short
    assert np.allclose(new.beta, old.beta, rtol=0.02, atol=0.01)
    assert abs(new.sigma / old.sigma - 1) < 0.05
    # the sandwich from the Louis Hessian agrees with the finite-difference one
    assert np.allclose(new.cov_beta, sae._sandwich(new, sae.FIT_NODES), rtol=0.02)


def test_fit_is_reproducible_and_free_of_row_order():
    _c, survey, _t = simulate(33)
    survey = _with_psus(survey, 3)
    a = sae.fit_mixed_logit(survey, COVS)
    b = sae.fit_mixed_logit(survey.sample(frac=1.0, random_state=7), COVS)
    assert a.beta.tobytes() == b.beta.tobytes() and a.sigma2 == b.sigma2
    assert a.sigma2_psu == b.sigma2_psu and a.cov_beta.tobytes() == b.cov_beta.tobytes()


def test_census_taylor_pass_matches_the_exact_pass():
    """One expit per row + Taylor series in the node offset, exact for far territories."""
    census, survey, _t = simulate(34, T=60)
    src = resolve_census(census, COVS)
    f = sae.fit_mixed_logit(survey, COVS)
    post = sae.posterior(f, src.territory_ids)
    nodes = post.nodes.copy()
    nodes[:5] = post.mean[:5, None] + np.linspace(-2.5, 2.5, nodes.shape[1])  # beyond radius
    far = np.max(np.abs(nodes - post.mean[:, None]), axis=1) > sae.TAYLOR_RADIUS
    assert far[:5].all() and not far[5:].all()
    P, G = sae.census_curves(src, None, f.beta, nodes, at=post.mean)
    Pe, Ge = sae.census_curves(src, None, f.beta, nodes, at=post.mean, exact=True)
    assert np.max(np.abs(P - Pe)) < sae.TAYLOR_TOL
    assert np.allclose(P[far], Pe[far], rtol=0, atol=1e-15)
    assert np.allclose(G, Ge, rtol=1e-13)
    # rows in any order (no runs of one territory): the sparse-sum path, same curves
    shuffled = resolve_census(census.sample(frac=1.0, random_state=3), COVS)
    assert np.array_equal(shuffled.territory_ids, src.territory_ids)
    Ps, Gs = sae.census_curves(shuffled, None, f.beta, nodes, at=post.mean)
    assert np.allclose(Ps, P, rtol=0, atol=1e-12) and np.allclose(Gs, G, rtol=1e-12)
    # with a PSU effect the curves integrate it (tabulated F): always the exact path
    P2, _g = sae.census_curves(src, None, f.beta, nodes, at=post.mean, sigma2_psu=0.3)
    P3, _g = sae.census_curves(src, None, f.beta, nodes, at=post.mean, sigma2_psu=0.3,
                               exact=True)
    assert np.array_equal(P2, P3)


def test_census_pass_with_and_without_derived_terms():
    """Raw-block fast path when the design is [1, X[:, sel]]; derived terms use the design."""
    from types import SimpleNamespace

    census, survey, _t = simulate(35, T=30)
    census["x3"] = census["x1"] * census["x2"]
    ref = resolve_census(census, ["x1", "x2"])
    beta = np.array([-1.2, -0.5, 0.7])
    nodes = np.linspace(-0.4, 0.4, 5)[None, :].repeat(30, 0)
    plain = SimpleNamespace(covariates=["x1", "x2"], derived_terms={})
    assert np.array_equal(sae._column_selection(plain, 2), [0, 1])
    P, G = sae.census_curves(ref, plain, beta, nodes, at=np.zeros(30))
    Pr, Gr = sae.census_curves(ref, None, beta, nodes, at=np.zeros(30), exact=True)
    assert np.allclose(P, Pr, rtol=0, atol=1e-9) and np.allclose(G, Gr, rtol=1e-12)
    inter = SimpleNamespace(covariates=["x1", "x2", "x1_x2"],
                            derived_terms={"x1_x2": "x1 * x2"})
    assert sae._column_selection(inter, 2) is None
    b3 = np.r_[beta, 0.3]
    P3, G3 = sae.census_curves(ref, inter, b3, nodes, at=np.zeros(30))
    src3 = resolve_census(census, ["x1", "x2", "x3"])
    P4, G4 = sae.census_curves(src3, None, b3, nodes, at=np.zeros(30), exact=True)
    assert np.allclose(P3, P4, rtol=0, atol=1e-9) and np.allclose(G3, G4, rtol=1e-12)


def test_newton_that_stalls_falls_back_to_lbfgs_and_polishes(monkeypatch):
    """A Newton run that does not converge (forced here with one iteration; seen on a Chile
    replicate whose iterates stalled for 116 s) hands over to L-BFGS-B and a Newton polish:
    the fit still reaches the root of the score equations, quickly."""
    _c, survey, _t = simulate(34)
    survey = _with_psus(survey, 2)
    reference = sae.fit_mixed_logit(survey, COVS)
    calls = []
    original = sae.newton_theta

    def spy(d, theta0, nodes, prior, max_iter, **kw):
        calls.append(max_iter)
        return original(d, theta0, nodes, prior, max_iter, **kw)

    monkeypatch.setattr(sae, "NEWTON_MAX_ITER", 1)
    monkeypatch.setattr(sae, "newton_theta", spy)
    fit = sae.fit_mixed_logit(survey, COVS)
    assert calls == [1, sae.NEWTON_POLISH_ITER]  # the stalled run, then the polish
    assert fit.converged
    assert np.allclose(fit.beta, reference.beta, rtol=1e-5, atol=1e-6)
    assert abs(fit.sigma / reference.sigma - 1) < 1e-4


def test_replicate_study_reader_appends_bootstrap_and_other_countries(tmp_path, monkeypatch):
    """The validation chapter's table: the main study, its bootstrap-MSE rows and the other
    survey countries (reduced size) — each file's rows once, never a main-study country twice."""
    import json

    from clrisk.phase1 import diagnostics

    def row(country, estimator, reps):
        return {"country": country, "estimator": estimator, "replicates": reps, "coverage": 0.9}

    main = tmp_path / "sae_replicates.json"
    main.write_text(json.dumps({"replicates": 50, "mse": "analytic", "summary": [
        row("chile", "sae", 50), row("chile", "synthetic", 50)]}))
    # a bootstrap run of a country outside the main study (argentina) must not hide that
    # country's rows of the other-countries file
    (tmp_path / "sae_replicates_bootstrap.json").write_text(json.dumps({"summary": [
        row("chile", "sae", 10), row("chile", "synthetic", 10), row("argentina", "sae", 10)]}))
    (tmp_path / "sae_replicates_countries.json").write_text(json.dumps({"summary": [
        row("peru", "sae", 10), row("peru", "oracle", 10), row("chile", "sae", 10),
        row("argentina", "sae", 10)]}))
    monkeypatch.setattr(diagnostics, "REPLICATES_FILE", main)
    s = diagnostics.replicate_study()
    got = list(zip(s["country"], s["estimator"], s["replicates"], strict=True))
    assert got == [("chile", "sae", 50), ("chile", "synthetic", 50),
                   ("chile", "sae_bootstrap", 10), ("argentina", "sae_bootstrap", 10),
                   ("peru", "sae", 10), ("peru", "oracle", 10), ("argentina", "sae", 10)]
    assert s.attrs["replicates"] == 50 and s.attrs["mse"] == "analytic"


def test_background_fit_is_the_same_fit_and_reports_instead_of_warning():
    """start_small_area_fit (the fit overlapped with the census read): the same numbers, bit
    for bit, and its messages come back as a list, re-issued once by territory_estimates."""
    from types import SimpleNamespace

    from clrisk.phase1.sae_run import start_small_area_fit, territory_estimates
    from clrisk.phase1.scoring import score_territories

    census, survey, _t = simulate(5)
    model = SimpleNamespace(covariates=COVS)
    direct = sae.fit_mixed_logit(survey, COVS, model=model)
    fit, messages = start_small_area_fit(survey, model).result()
    assert messages == []
    assert np.array_equal(fit.beta, direct.beta) and fit.sigma2 == direct.sigma2
    assert np.array_equal(fit.cov_beta, direct.cov_beta)
    # the background fit also computed the survey side of the posterior at σ̂_u (overlapping
    # the census read): placing it gives the same bytes as computing it when asked
    assert (float(fit.sigma2), sae.PREDICT_NODES, True) in fit.data["_post_memo"]
    assert "_post_memo" not in direct.data
    ids = np.array(sorted(census["territory_id"].unique()))
    prepared, fresh = sae.posterior(fit, ids), sae.posterior(direct, ids)
    for name in ("mean", "sd", "nodes", "weights", "dmean_dbeta"):
        assert getattr(prepared, name).tobytes() == getattr(fresh, name).tobytes(), name

    report: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sae.fit_mixed_logit(survey, COVS, max_iter=1, report=report)
    assert not f.converged and any("did not converge" in m for m in report)
    assert not any(issubclass(w.category, sae.SAEWarning) for w in caught)

    from clrisk.phase1.model import fit_risk_model

    design = survey.assign(st="s", cl=survey["territory_id"])  # design columns, not "psu"
    m = fit_risk_model(design, COVS, outcome="child_labour", weight="weight", strata="st",
                       psu="cl")
    src = resolve_census(census, COVS)
    scores = score_territories(m, src)
    pending = start_small_area_fit(survey, m)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        a = territory_estimates(scores, m, src, survey, pending=pending, draws=50, seed=3)
        b = territory_estimates(scores, m, src, survey, draws=50, seed=3)
    pd.testing.assert_frame_equal(a.table, b.table)
