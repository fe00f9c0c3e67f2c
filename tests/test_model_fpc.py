"""Finite population correction and zero design df against R ``survey`` (stored reference).

Why stored numbers: CI has no R. ``svyglm_fpc_reference.R`` ran R ``svydesign(fpc=)`` on the
datasets ``make_fpc_design.py`` derives from ``design.csv``: a one-stage cluster design with
the stratum's population number of PSUs (and the same as a sampling fraction, and one stratum
sampled in full), a stratified element design, and a design with no degrees of freedom left.
clrisk must reproduce coefficients and SEs to 1e-6 relative, and — with df ≤ 0 — give NaN
p-values and intervals with a warning, as R does.
"""

from __future__ import annotations

import importlib.util
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.phase1.model import DesignDfWarning, RiskModel, fit_risk_model

REF_DIR = Path(__file__).parent / "r_reference"
REF = json.loads((REF_DIR / "svyglm_fpc_reference.json").read_text())
COVS = ["age", "female", "poverty", "head_schooling", "rural"]
FPC_FITS = ["cluster_fpc_count", "cluster_fpc_fraction", "element_fpc", "element_nofpc"]
DTYPES = {"stratum": str, "psu": str, "region_id": str, "child_id": str}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / name, dtype=DTYPES)


def _fit(key: str) -> tuple[dict, RiskModel]:
    spec = REF["fits"][key]
    model = fit_risk_model(_read(spec["file"]), COVS, psu=spec["psu"], fpc=spec["fpc"])
    return spec, model


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def test_fpc_files_are_reproducible():
    spec = importlib.util.spec_from_file_location("make_fpc", REF_DIR / "make_fpc_design.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fpc, small = mod.make()
    pd.testing.assert_frame_equal(fpc, _read("design_fpc.csv"), check_dtype=False)
    pd.testing.assert_frame_equal(small, _read("design_df0.csv"), check_dtype=False)


@pytest.mark.parametrize("key", FPC_FITS)
def test_fpc_coefficients_and_ses_match_r(key):
    spec, model = _fit(key)
    assert _rel(model.params, list(spec["coef"].values())) < 1e-6
    assert _rel(model.bse, list(spec["se"].values())) < 1e-6
    vcov = np.array(spec["vcov"])
    assert np.max(np.abs(model.cov.to_numpy() - vcov)) < 1e-6 * np.max(np.abs(vcov))
    assert model.df_resid == spec["degf"]
    assert model.df_t == spec["df_residual"]
    ors = model.odds_ratios()
    assert _rel(ors["p_value"], list(spec["p_value"].values())) < 1e-5
    assert _rel(np.log(ors["ci_low"]), list(spec["ci_low"].values())) < 1e-6
    assert _rel(np.log(ors["ci_high"]), list(spec["ci_high"].values())) < 1e-6
    me = model.marginal_effects()
    assert _rel(me["ame"], [spec["ame"][c]["ame"] for c in COVS]) < 1e-6
    assert _rel(me["se"], [spec["ame"][c]["se"] for c in COVS]) < 1e-5


def test_fpc_shrinks_ses_and_fraction_equals_count():
    _, count = _fit("cluster_fpc_count")
    _, frac = _fit("cluster_fpc_fraction")
    plain = fit_risk_model(_read("design_fpc.csv"), COVS)
    np.testing.assert_allclose(count.cov.to_numpy(), frac.cov.to_numpy(), rtol=1e-9)
    assert (count.bse < plain.bse).all()
    np.testing.assert_array_equal(count.params.to_numpy(), plain.params.to_numpy())


def test_fpc_round_trips_through_json():
    _, model = _fit("cluster_fpc_count")
    again = RiskModel.from_json(model.to_json())
    assert again.fpc == "fpc_psu"
    np.testing.assert_array_equal(again.cov.to_numpy(), model.cov.to_numpy())


def test_zero_df_gives_nan_inference_like_r():
    spec = REF["fits"]["zero_df"]
    model = fit_risk_model(_read(spec["file"]), COVS)
    assert model.df_t == spec["df_residual"] <= 0
    assert _rel(model.params, list(spec["coef"].values())) < 1e-6
    assert _rel(model.bse, list(spec["se"].values())) < 1e-6
    assert all(v == "NaN" for v in spec["p_value"].values())
    assert all(v == "NaN" for v in spec["ci_low"].values())
    with pytest.warns(DesignDfWarning, match="degrees of freedom"):
        ors = model.odds_ratios()
    assert ors["p_value"].isna().all() and ors["ci_low"].isna().all()
    assert ors["ci_high"].isna().all()
    assert np.isfinite(ors["odds_ratio"]).all()
    with pytest.warns(DesignDfWarning):
        me = model.marginal_effects()
    assert me["ci_low"].isna().all() and np.isfinite(me["se"]).all()
    # the normal reference stays available on request, without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normal = model.odds_ratios(dist="normal")
    assert np.isfinite(normal["p_value"]).all()


def test_zero_df_warning_is_translated():
    model = fit_risk_model(_read("design_df0.csv"), COVS)
    from clrisk.i18n import set_language

    try:
        set_language("es")
        with pytest.warns(DesignDfWarning) as rec:
            model.odds_ratios()
        assert "grados de libertad" in str(rec[0].message).lower()
    finally:
        set_language("en")


def _bad(frame: pd.DataFrame, col: str = "fpc_psu") -> str:
    with pytest.raises(DataError) as exc:
        fit_risk_model(frame, COVS, fpc=col, source="survey.csv")
    msg = str(exc.value)
    assert "survey.csv" in msg and col in msg
    return msg


def test_bad_fpc_is_a_clear_message():
    d = _read("design_fpc.csv")
    _bad(d.drop(columns="fpc_psu"))
    varies = d.copy()
    varies.loc[varies.index[-1], "fpc_psu"] += 1
    assert "S08" in _bad(varies)
    small = d.assign(fpc_psu=1.5)  # fewer PSUs than sampled
    assert "100%" in _bad(small)
    mixed = d.astype({"fpc_psu": float})
    mixed.loc[mixed["stratum"] == "S02", "fpc_psu"] = 0.5
    assert "fractions" in _bad(mixed)
    neg = d.copy()
    neg.loc[3, "fpc_psu"] = math.nan
    assert "4" in _bad(neg)


def test_profile_design_fpc_reaches_the_fit(tmp_path):
    """``design: {fpc: col}`` in profile.yaml keeps the column through loading and mapping."""
    import shutil

    from clrisk.data.country import load_country

    src = Path(__file__).resolve().parents[1] / "data_samples" / "peru"
    dst = tmp_path / "peru"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("phase2"))
    survey = pd.read_csv(dst / "survey.csv", dtype=str)
    n_h = survey.groupby("stratum")["psu"].transform("nunique").astype(int)
    survey["n_psu_pop"] = (3 * n_h).astype(str)
    survey.to_csv(dst / "survey.csv", index=False)
    prof = (dst / "profile.yaml").read_text(encoding="utf-8")
    prof = prof.replace("design: {weight: weight, stratum: stratum, psu: psu}",
                        "design: {weight: weight, stratum: stratum, psu: psu, fpc: n_psu_pop}")
    assert "fpc: n_psu_pop" in prof
    (dst / "profile.yaml").write_text(prof, encoding="utf-8")
    data = load_country(dst)
    assert data.profile.design["fpc"] == "n_psu_pop"
    covs = list(data.profile.covariates)
    with_fpc = fit_risk_model(data.survey, covs, fpc=data.profile.design["fpc"])
    plain = fit_risk_model(data.survey, covs)
    # sampling a third of the PSUs: every variance shrinks by the factor 1 − 1/3 exactly
    np.testing.assert_allclose(with_fpc.cov.to_numpy(), plain.cov.to_numpy() * (2 / 3),
                               rtol=1e-9)


@pytest.mark.parametrize("key", [*FPC_FITS, "zero_df"])
def test_prevalence_design_effect_matches_r(key):
    from clrisk.phase1.diagnostics import prevalence_design_effect

    spec = REF["fits"][key]
    d = _read(spec["file"])
    out = prevalence_design_effect(d, psu=spec["psu"], fpc=spec["fpc"])
    assert out["estimate"] == pytest.approx(spec["mean"]["mean"], rel=1e-10)
    assert out["se"] == pytest.approx(np.ravel(spec["mean"]["se"])[0], rel=1e-8)
    assert out["deff"] == pytest.approx(spec["mean"]["deff"], rel=1e-8)
    assert out["se_srs"] == pytest.approx(out["se"] / np.sqrt(out["deff"]), rel=1e-12)


def test_large_survey_with_rare_outcome_fits():
    """The warm start (1-in-m subsample) must not fail when the subsample has no case."""
    rng = np.random.default_rng(3)
    n = 80_000
    x = rng.normal(size=n)
    y = np.zeros(n)
    y[rng.choice(np.flatnonzero(np.arange(n) % 4 != 0), 40, replace=False)] = 1.0  # none at 4k
    frame = pd.DataFrame({"child_labour": y, "x": x, "weight": 1.0,
                          "stratum": (np.arange(n) % 10).astype(str),
                          "psu": (np.arange(n) % 400).astype(str)})
    model = fit_risk_model(frame, ["x"])
    assert model.converged and np.isfinite(model.bse).all()
