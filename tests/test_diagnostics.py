"""Weighted AUC, calibration deciles and the regional model-vs-direct validation.

Checked against brute force (AUC), statsmodels' Wilson interval (calibration) and R
``svyby(~child_labour, ~region_id, design, svymean)`` stored in tests/r_reference (regions).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from babel.messages.pofile import read_po
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from clrisk.errors import DataError
from clrisk.phase1.diagnostics import (
    calibration_table,
    display_table,
    regional_validation,
    share_covered,
    weighted_auc,
)
from clrisk.phase1.model import fit_risk_model

ROOT = Path(__file__).parents[1]
REF_DIR = Path(__file__).parent / "r_reference"
COVS = ["age", "female", "poverty", "head_schooling", "rural"]


def brute_auc(y, p, w):
    num = den = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if y[i] == 1 and y[j] == 0:
                den += w[i] * w[j]
                num += w[i] * w[j] * (1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0)
    return num / den


@pytest.mark.parametrize("seed", range(5))
def test_weighted_auc_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 60
    p = rng.integers(0, 8, n) / 8  # many ties
    y = (rng.random(n) < 0.2 + 0.6 * p).astype(int)
    w = rng.uniform(0.2, 5, n)
    assert weighted_auc(y, p, w) == pytest.approx(brute_auc(y, p, w), rel=1e-12)


def test_unweighted_auc_is_mann_whitney_and_integer_weights_replicate():
    rng = np.random.default_rng(9)
    p = np.round(rng.random(200), 2)
    y = (rng.random(200) < p).astype(int)
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert weighted_auc(y, p) == pytest.approx(u / (y.sum() * (1 - y).sum()), rel=1e-12)
    k = rng.integers(1, 4, 200)
    assert weighted_auc(y, p, k) == pytest.approx(
        weighted_auc(np.repeat(y, k), np.repeat(p, k)), rel=1e-12)
    assert weighted_auc([0, 1], [0.1, 0.9]) == 1.0
    assert weighted_auc([1, 0], [0.1, 0.9]) == 0.0


def test_auc_bad_input():
    with pytest.raises(DataError, match="different lengths"):
        weighted_auc([0, 1], [0.1])
    with pytest.raises(DataError, match="with and without"):
        weighted_auc([1, 1], [0.1, 0.2])
    with pytest.raises(DataError, match="column 'y'.*0/1"):
        weighted_auc([0, 2], [0.1, 0.2])
    with pytest.raises(DataError, match="column 'w'.*positive.*row 2"):
        weighted_auc([0, 1], [0.1, 0.2], [1, 0])
    with pytest.raises(DataError, match="column 'p'.*row 1"):
        weighted_auc([0, 1], [np.nan, 0.2])


def test_calibration_table_sums_and_means():
    rng = np.random.default_rng(2)
    n = 5000
    p = rng.beta(1, 6, n)
    y = (rng.random(n) < p).astype(int)
    w = rng.lognormal(0, 0.5, n)
    tab = calibration_table(y, p, w, bins=10)
    assert list(tab.columns) == ["bin", "n", "weight", "p_min", "p_max", "mean_predicted",
                                 "observed_rate", "ci_low", "ci_high"]
    assert list(tab["bin"]) == list(range(1, 11))
    assert tab["n"].sum() == n
    assert tab["weight"].sum() == pytest.approx(w.sum())
    # equal weighted size bins (up to one child's weight)
    assert np.all(np.abs(tab["weight"] - w.sum() / 10) < 2 * w.max())
    assert (tab["p_max"].to_numpy()[:-1] <= tab["p_min"].to_numpy()[1:]).all()
    first = p <= tab["p_max"].iloc[0]
    assert tab["mean_predicted"].iloc[0] == pytest.approx(np.average(p[first], weights=w[first]))
    assert tab["observed_rate"].iloc[0] == pytest.approx(np.average(y[first], weights=w[first]))
    # a well-specified model is calibrated: every decile CI contains its mean prediction
    assert ((tab["ci_low"] <= tab["mean_predicted"]) & (tab["mean_predicted"] <= tab["ci_high"])
            ).mean() >= 0.8


def test_calibration_wilson_unweighted_matches_statsmodels_and_ties_kept_together():
    p = np.repeat([0.1, 0.2, 0.3, 0.4], 50)
    y = np.zeros(200, int)
    y[::7] = 1
    tab = calibration_table(y, p, bins=4)
    assert (tab["p_min"] == tab["p_max"]).all()
    three = calibration_table(y, p, bins=3)  # a tied value never spans two bins
    assert three["n"].tolist() == [50, 100, 50] and three["n"].sum() == 200
    for _, row in tab.iterrows():
        sel = p == row["p_min"]
        lo, hi = proportion_confint(y[sel].sum(), sel.sum(), method="wilson")
        assert row["ci_low"] == pytest.approx(lo, rel=1e-10)
        assert row["ci_high"] == pytest.approx(hi, rel=1e-10)


@pytest.fixture(scope="module")
def design():
    data = pd.read_csv(REF_DIR / "design.csv", dtype={"stratum": str, "psu": str,
                                                      "region_id": str})
    data["territory_id"] = data["stratum"] + "-" + data["psu"]
    return data, fit_risk_model(data, COVS)


def test_regional_direct_estimates_match_r_svyby(design):
    data, model = design
    ref = json.loads((REF_DIR / "svyglm_reference.json").read_text())["fits"]["base"]["region"]
    regions = dict(zip(data["territory_id"], data["region_id"], strict=True))
    tab = regional_validation(model, data, data, regions)
    assert list(tab.columns) == ["region_id", "n_survey", "direct_rate", "direct_se", "ci_low",
                                 "ci_high", "n_census", "model_rate", "covered"]
    assert list(tab["region_id"]) == ref["region_id"]
    np.testing.assert_allclose(tab["direct_rate"], ref["mean"], rtol=1e-10)
    np.testing.assert_allclose(tab["direct_se"], ref["se"], rtol=1e-8)
    np.testing.assert_allclose(tab["ci_low"], ref["ci_low_t"], rtol=1e-8)
    np.testing.assert_allclose(tab["ci_high"], ref["ci_high_t"], rtol=1e-8)


def test_regional_model_rate_and_coverage(design):
    data, model = design
    census = data[["territory_id", *COVS]].copy()  # unweighted census
    terr = data[["territory_id", "region_id"]].drop_duplicates()
    tab = regional_validation(model, data, census, terr)
    p = model.predict(census)
    for _, row in tab.iterrows():
        sel = data["region_id"].to_numpy() == row["region_id"]
        assert row["model_rate"] == pytest.approx(p[sel].mean(), rel=1e-12)
        assert row["n_census"] == sel.sum()
        assert row["covered"] == (row["ci_low"] <= row["model_rate"] <= row["ci_high"])
    assert tab.attrs["share_covered"] == share_covered(tab) == tab["covered"].mean()
    # census weights are used when present
    weighted = regional_validation(model, data, census.assign(weight=data["weight"]), terr)
    sel = data["region_id"].to_numpy() == "R1"
    assert weighted["model_rate"].iloc[0] == pytest.approx(
        np.average(p[sel], weights=data["weight"][sel]), rel=1e-12)
    # a Series map and a survey without region_id (derived from territory_id) give the same
    series = pd.Series(terr["region_id"].to_numpy(), index=terr["territory_id"])
    same = regional_validation(model, data.drop(columns="region_id"), census, series)
    pd.testing.assert_frame_equal(same, tab)


def test_regional_validation_streams_parquet_census(design, tmp_path):
    data, model = design
    census = data[["territory_id", *COVS]].copy()
    path = tmp_path / "census.parquet"
    census.to_parquet(path, row_group_size=100)
    terr = data[["territory_id", "region_id"]].drop_duplicates()
    from clrisk.phase1 import diagnostics

    streamed = [b for b, _ in diagnostics._census_batches(path, model, "weight", batch_size=150)]
    assert len(streamed) > 3
    a = regional_validation(model, data, census, terr)
    b = regional_validation(model, data, path, terr)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_regional_validation_bad_input(design):
    data, model = design
    regions = dict(zip(data["territory_id"], data["region_id"], strict=True))
    census = data[["territory_id", *COVS]].copy()
    census.loc[3, "territory_id"] = "nowhere"
    with pytest.raises(DataError, match="territory_id.*not found.*row 4"):
        regional_validation(model, data, census, regions)
    with pytest.raises(DataError, match="poverty"):
        regional_validation(model, data, data.drop(columns="poverty"), regions)
    with pytest.raises(DataError, match="cannot read"):
        regional_validation(model, data, data, 42)


def test_display_table_translates_headers(design):
    data, model = design
    tab = regional_validation(model, data, data, data[["territory_id", "region_id"]]
                              .drop_duplicates())
    es = display_table(tab, lang="es")
    assert "Tasa según el modelo" in es.columns and "Región" in es.columns
    assert "Taux selon le modèle" in display_table(tab, lang="fr").columns
    assert list(tab.columns)[0] == "region_id"  # the original is untouched


def _msgids(path: Path) -> set[str]:
    ids = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                and node.args and isinstance(node.args[0], ast.Constant)):
            ids.add(node.args[0].value)
    if path.name == "diagnostics.py":
        from clrisk.phase1.diagnostics import _HEADERS
        ids |= set(_HEADERS.values())
    return ids


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_msgid_translated_in_own_catalog(lang):
    with (ROOT / f"clrisk/locales/{lang}/LC_MESSAGES/model.po").open("rb") as fh:
        cat = read_po(fh, locale=lang)
    translated = {m.id for m in cat if m.id and m.string and not m.fuzzy}
    used = _msgids(ROOT / "clrisk/phase1/model.py") | _msgids(ROOT / "clrisk/phase1/diagnostics.py")
    assert used and used <= translated, sorted(used - translated)
