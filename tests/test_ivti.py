"""IVTI against a hand computation; options and bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.ivti import ivti_contributions, vulnerability_index

INDICATORS = [
    {"name": "dropout", "dimension": "education", "direction": 1},
    {"name": "attendance", "dimension": "education", "direction": -1},
    {"name": "unemployment", "dimension": "labour", "direction": 1},
]


@pytest.fixture()
def records() -> pd.DataFrame:
    return pd.DataFrame({
        "territory_id": ["03", "01", "02", "04"],
        "dropout": [10.0, 0.0, 5.0, 20.0],
        "attendance": [90.0, 100.0, 80.0, 60.0],
        "unemployment": [4.0, 2.0, 10.0, 6.0],
    })


def test_hand_computation(records):
    out = vulnerability_index(records, INDICATORS, k=2)
    assert list(out["territory_id"]) == ["01", "02", "03", "04"]
    # territories sorted 01..04: dropout 0,5,10,20 -> 0,.25,.5,1 ; attendance 100,80,90,60
    # flipped -> 0,.5,.25,1 ; unemployment 2,10,4,6 -> 0,1,.25,.5
    edu = np.array([(0 + 0) / 2, (0.25 + 0.5) / 2, (0.5 + 0.25) / 2, (1 + 1) / 2])
    lab = np.array([0.0, 1.0, 0.25, 0.5])
    np.testing.assert_allclose(out["dimension_education"], edu)
    np.testing.assert_allclose(out["dimension_labour"], lab)
    np.testing.assert_allclose(out["ivti"], (edu + lab) / 2)
    contrib = out[[c for c in out.columns if c.startswith("contribution_")]].sum(axis=1)
    np.testing.assert_allclose(contrib, out["ivti"])
    np.testing.assert_allclose(out["contribution_unemployment"], lab / 2)
    assert list(out["risk_level"]) == [1, 2, 1, 2]  # median split of .0, .6875, .3125, .75


def test_dimension_weights_and_zscore(records):
    out = vulnerability_index(records, INDICATORS, {"education": 3, "labour": 1}, k=2)
    edu, lab = out["dimension_education"], out["dimension_labour"]
    np.testing.assert_allclose(out["ivti"], 0.75 * edu + 0.25 * lab)
    z = vulnerability_index(records, INDICATORS, method="zscore", k=2)
    d = records.sort_values("territory_id")["dropout"]
    np.testing.assert_allclose(z["contribution_dropout"], 0.25 * (d - d.mean()) / d.std())


def test_pca_weights(records):
    out = vulnerability_index(records, INDICATORS, weighting="pca", k=2)
    w = np.array(list(out.attrs["indicator_weights"].values()))
    assert w.sum() == pytest.approx(1.0)
    X = records.sort_values("territory_id")[["dropout", "attendance", "unemployment"]]
    X = X.to_numpy() * np.array([1, -1, 1])
    vals, vecs = np.linalg.eigh(np.corrcoef(X, rowvar=False))
    np.testing.assert_allclose(w, vecs[:, -1] ** 2, rtol=1e-10)
    assert out.attrs["explained_variance"] == pytest.approx(vals[-1] / 3)


def test_contributions_long(records):
    long = ivti_contributions(vulnerability_index(records, INDICATORS, k=2))
    assert len(long) == 12
    first = long[long["territory_id"] == "04"].iloc[0]
    assert first["rank"] == 1 and first["indicator"] in ("dropout", "attendance")


def test_missing_indicator(records):
    with pytest.raises(DataError, match="missing indicator column.*unemployment"):
        vulnerability_index(records.drop(columns="unemployment"), INDICATORS)


def test_constant_indicator(records):
    with pytest.raises(DataError, match="'dropout'.*constant"):
        vulnerability_index(records.assign(dropout=1.0), INDICATORS)


def test_nan_names_territory(records):
    bad = records.copy()
    bad["unemployment"] = bad["unemployment"].astype(object)
    bad.loc[bad["territory_id"] == "02", "unemployment"] = "n/a"  # text, not a number
    with pytest.raises(DataError, match="unemployment.*02"):
        vulnerability_index(bad, INDICATORS)


def test_missing_values_are_reweighted_within_the_territory(records):
    """Omissions (issue 16): a missing indicator's weight goes to the territory's other
    indicators; others' values are unchanged; too many gaps name the territory."""
    full = vulnerability_index(records, INDICATORS)
    gap = records.copy()
    gap.loc[gap["territory_id"] == "02", "unemployment"] = np.nan
    out = vulnerability_index(gap, INDICATORS)
    contrib = out.filter(like="contribution_").sum(axis=1)
    assert np.allclose(contrib, out["ivti"])
    row = out["territory_id"] == "02"
    assert out.loc[row, "contribution_unemployment"].item() == 0.0
    assert out.loc[row, "missing_indicators"].item() == 1
    assert out.loc[~row, "missing_indicators"].eq(0).all()
    assert not np.isclose(out.loc[row, "ivti"].item(), full.loc[row, "ivti"].item())
    most = records.copy()  # 0.25 (dropout) + 0.5 (labour) of the weight gone
    most.loc[most["territory_id"] == "03", ["dropout", "unemployment"]] = np.nan
    with pytest.raises(DataError, match="03"):
        vulnerability_index(most, INDICATORS)
