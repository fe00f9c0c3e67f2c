"""Instrument 2 against brute-force recomputation on the raw census rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_scoring_support import COVS, make_census, stand_in_model

from clrisk.errors import DataError
from clrisk.phase1.factors import (
    FACTOR_COLUMNS,
    default_factors,
    factor_weights,
    national_factor_ranking,
)
from clrisk.phase1.patterns import collapse_census

FACTORS = {"poverty": 0.0, "head_schooling": 11.0, "rural": 0.0}


@pytest.fixture(scope="module")
def setup():
    census = make_census(2500, 20, seed=8)
    return census, stand_in_model()


def test_against_brute_force(setup):
    census, model = setup
    out = factor_weights(model, census, FACTORS, sectors={"rural": "labour"})
    assert list(out.columns) == FACTOR_COLUMNS
    base = census.assign(p=model.predict(census)).groupby("territory_id")["p"].mean()
    for f, ref in FACTORS.items():
        cf = census.assign(**{f: ref})
        cfp = cf.assign(p=model.predict(cf)).groupby("territory_id")["p"].mean()
        rows = out[out["factor"] == f].set_index("territory_id")
        np.testing.assert_allclose(rows["counterfactual_probability"], cfp.loc[rows.index],
                                   rtol=1e-12)
        np.testing.assert_allclose(rows["delta_pp"], 100 * (base - cfp).loc[rows.index],
                                   rtol=1e-10)
        n = census.groupby("territory_id").size().loc[rows.index]
        np.testing.assert_allclose(rows["children"], n * (base - cfp).loc[rows.index],
                                   rtol=1e-10)
    assert (out.loc[out["factor"] == "rural", "sector"] == "labour").all()


def test_shares_ranks_and_sort(setup):
    census, model = setup
    out = factor_weights(model, census, FACTORS)
    for _tid, g in out.groupby("territory_id"):
        pos = g["delta_pp"] > 0
        assert g.loc[pos, "share"].sum() == pytest.approx(1.0)
        assert (g.loc[~pos, "share"] == 0).all()
        assert list(g["rank"]) == list(range(1, len(FACTORS) + 1))
        assert g["delta_pp"].is_monotonic_decreasing
    assert out["territory_id"].is_monotonic_increasing


def test_pattern_table_parquet_and_row_fallback_agree(setup, tmp_path):
    census, model = setup
    a = factor_weights(model, census, FACTORS)
    b = factor_weights(model, collapse_census(census, COVS), FACTORS)
    pd.testing.assert_frame_equal(a, b)
    path = tmp_path / "c.parquet"
    census.to_parquet(path)
    from clrisk.phase1 import factors as fmod
    monkey = pytest.MonkeyPatch()
    monkey.setattr(fmod, "as_pattern_table", _raise_too_many)
    try:
        c = factor_weights(model, path, FACTORS, batch_size=333)
    finally:
        monkey.undo()
    pd.testing.assert_frame_equal(a, c, check_exact=False, rtol=1e-10, atol=1e-13)


def _raise_too_many(*args, **kwargs):
    from clrisk.phase1.patterns import TooManyPatterns
    raise TooManyPatterns("forced")


def test_national_ranking_children_weighted(setup):
    census, model = setup
    out = factor_weights(model, census, FACTORS)
    nat = national_factor_ranking(out)
    assert list(nat["rank"]) == [1, 2, 3]
    assert nat["children"].is_monotonic_decreasing
    for f in FACTORS:
        assert nat.set_index("factor").loc[f, "children"] == pytest.approx(
            out.loc[out["factor"] == f, "children"].sum())
    n = len(census)
    np.testing.assert_allclose(nat["delta_pp"], 100 * nat["children"] / n)


def test_defaults_from_catalogue_and_profile(setup):
    census, model = setup
    refs, sectors = default_factors(COVS)
    assert refs == {"poverty": 0.0, "head_schooling": 11.0}  # age/female/rural are not factors
    assert sectors["head_schooling"] == "education"

    class P:
        factors = {"poverty": 0, "rural": 0}
        factor_sectors = {"poverty": "social_protection", "rural": "labour"}

    refs, sectors = default_factors(COVS, P())
    assert refs == {"poverty": 0.0, "rural": 0.0} and sectors["rural"] == "labour"
    out = factor_weights(model, census)
    assert set(out["factor"]) == {"poverty", "head_schooling"}


def test_unknown_factor(setup):
    census, model = setup
    with pytest.raises(DataError, match="'indigenous' is not a covariate"):
        factor_weights(model, census, {"indigenous": 0})
