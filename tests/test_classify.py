"""Risk levels against mapclassify, labels, and P(top level) from coefficient draws."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from test_scoring_support import COVS, make_census, stand_in_model

from clrisk.errors import DataError
from clrisk.i18n import set_language
from clrisk.phase1.classify import (
    class_bounds,
    classify_risk,
    compare_methods,
    draw_mean_probabilities,
    level_agreement,
    level_labels,
    level_stability,
)
from clrisk.phase1.patterns import collapse_census
from clrisk.phase1.scoring import score_territories


def _frame(y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"territory_id": [f"{i:04d}" for i in range(len(y))],
                         "mean_probability": y})


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    return np.random.default_rng(11).beta(2, 8, 180)


def test_quantiles_match_mapclassify(y):
    for k in (3, 4, 5):
        out = classify_risk(_frame(y), "quantiles", k)
        ref = mapclassify.Quantiles(y, k=k).yb + 1
        assert (out["risk_level"].to_numpy() == ref).all()


def test_fisher_jenks_matches_mapclassify(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "numba not installed"
        ref = mapclassify.FisherJenks(y, k=3)
    np.testing.assert_allclose(class_bounds(y, "fisher_jenks", 3), ref.bins[:-1])
    out = classify_risk(_frame(y), "fisher_jenks", 3)
    assert (out["risk_level"].to_numpy() == ref.yb + 1).all()


def test_mean_sd_matches_stdmean(y):
    out = classify_risk(_frame(y), "mean_sd", 3)
    ref = mapclassify.StdMean(y, multiples=[-1, 1]).yb + 1
    assert (out["risk_level"].to_numpy() == ref).all()
    m, s = y.mean(), y.std(ddof=1)
    assert (out["risk_level"].to_numpy()[y > m + s] == 3).all()


def test_fixed_matches_user_defined(y):
    cuts = [0.1, 0.25]
    out = classify_risk(_frame(y), "fixed", 3, cutoffs=cuts)
    ref = mapclassify.UserDefined(y, bins=[*cuts, y.max()]).yb + 1
    assert (out["risk_level"].to_numpy() == ref).all()
    with pytest.raises(ValueError, match="k - 1"):
        classify_risk(_frame(y), "fixed", 3, cutoffs=[0.1])


def test_labels_translated():
    set_language("es")
    try:
        assert level_labels(3) == ["Bajo", "Medio", "Alto"]
    finally:
        set_language("en")
    assert level_labels(3) == ["Low", "Medium", "High"]
    assert len(set(level_labels(4))) == 4


def test_bad_inputs(y):
    with pytest.raises(DataError, match="cannot form"):
        classify_risk(_frame(y[:2]), "quantiles", 3)
    bad = _frame(y.copy())
    bad.loc[3, "mean_probability"] = np.nan
    with pytest.raises(DataError, match="0003"):
        classify_risk(bad)
    with pytest.raises(ValueError, match="unknown classification method"):
        classify_risk(_frame(y), "jenks")


@pytest.fixture(scope="module")
def scored():
    census = make_census(3000, 40, seed=5)
    model = stand_in_model(scale=0.01)
    table = collapse_census(census, COVS)
    return census, model, table, score_territories(model, table)


def test_p_top_reproducible_and_sane(scored):
    census, model, table, scores = scored
    a = classify_risk(scores, model=model, patterns=table, draws=150, seed=3)
    b = classify_risk(scores, model=model, patterns=table, draws=150, seed=3)
    pd.testing.assert_series_equal(a["p_top"], b["p_top"])
    assert a["p_top"].between(0, 1).all()
    rho = spearmanr(a["p_top"], a["mean_probability"]).statistic
    assert rho > 0.8
    top = a["risk_level"] == 3
    assert a.loc[top, "p_top"].mean() > 0.5 > a.loc[a["risk_level"] == 1, "p_top"].mean()
    # the expected number of top territories per draw equals the top level's size
    assert abs(a["p_top"].sum() - top.sum()) <= 1


def test_draws_pattern_path_equals_row_path(scored, tmp_path):
    census, model, table, scores = scored
    a = draw_mean_probabilities(model, table, draws=20, seed=9)
    path = tmp_path / "c.parquet"
    census.to_parquet(path)
    from clrisk.phase1 import classify as cl
    b = cl._draw_rows(COVS, cl.draw_coefficients(*_arrays(model), 20, 9), path, None, 5000)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-5)
    c = classify_risk(scores, model=model, census=path, draws=20, seed=9)
    d = classify_risk(scores, model=model, patterns=table, draws=20, seed=9)
    pd.testing.assert_frame_equal(c, d)


def _arrays(model):
    from clrisk.phase1.scoring import model_arrays
    _c, beta, V = model_arrays(model)
    return beta, V


def test_compare_methods_and_agreement(scored):
    *_, scores = scored
    levels = compare_methods(scores)
    assert list(levels.columns[2:]) == ["quantiles", "fisher_jenks", "mean_sd"]
    agree = level_agreement(levels)
    assert np.allclose(np.diag(agree), 1.0)
    assert ((agree.to_numpy() >= 0) & (agree.to_numpy() <= 1)).all()


def test_level_stability_counts(scored):
    census, model, table, scores = scored
    out = classify_risk(scores, model=model, patterns=table, draws=50, seed=1)
    tab = level_stability(out, threshold=0.8)
    assert tab.iloc[0, 0] == (out["risk_level"] == 3).sum()
    assert tab.iloc[0, 1] + tab.iloc[0, 2] == tab.iloc[0, 0]
