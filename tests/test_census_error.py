"""A census sample's own error (clrisk.phase1.census_error), checked against known truth:
fresh census samples drawn from one known population, over many replicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from clrisk.phase1.census_error import census_sampling_mse, household_design_effect
from clrisk.phase1.census_source import resolve_census


def _population(seed: int, T: int = 40, households: int = 120, size: int | None = None
                ) -> pd.DataFrame:
    """Children in households: a household effect shared by its children (sd 1), a child
    covariate (sd 0.7), 1-4 children per household (or ``size``); p = Λ(−1.5 + h + 0.7 x);
    bigger households have more child labour (h rises with the size)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(T):
        m = rng.integers(1, 5, households) if size is None else np.full(households, size)
        hid = np.repeat(np.arange(households), m)
        h = (rng.normal(0.0, 1.0, households) + (0.3 * (m - 2.5) if size is None else 0.0))[hid]
        x = rng.normal(0.0, 1.0, len(hid))
        rows.append(pd.DataFrame({"territory_id": f"T{t:03d}", "household_id": [
            f"{t}-{i}" for i in hid], "x": x, "h": h}))
    pop = pd.concat(rows, ignore_index=True)
    pop["eta"] = -1.5 + pop["h"] + 0.7 * pop["x"]
    pop["p"] = expit(pop["eta"])
    return pop


def test_household_design_effect_matches_the_simulated_clustering():
    """Households of 3 children: deff = 1 + 2ρ, ρ the true intra-household correlation."""
    pop = _population(1, T=60, size=3)
    beta = np.array([-1.5, 1.0, 0.7])
    d = household_design_effect(pop, ["h", "x"], beta)
    rng = np.random.default_rng(0)  # ρ of two children of one household, by Monte Carlo
    h = rng.normal(0.0, 1.0, 1_000_000)
    p1 = expit(-1.5 + h + 0.7 * rng.normal(0.0, 1.0, h.size))
    p2 = expit(-1.5 + h + 0.7 * rng.normal(0.0, 1.0, h.size))
    rho = float(np.corrcoef(p1, p2)[0, 1])
    assert d == pytest.approx(1.0 + 2.0 * rho, rel=0.05)
    assert household_design_effect(pop.drop(columns="household_id"), ["h", "x"], beta) == 1.0


def test_census_sample_error_matches_fresh_samples():
    """Over 300 fresh census samples of 25 households per territory, the mean of the
    estimated variance is within 15% of the empirical MSE of the sample's territory mean."""
    pop = _population(2)
    truth = pop.groupby("territory_id")["p"].mean()
    hh = pop[["territory_id", "household_id"]].drop_duplicates()
    deff = household_design_effect(pop, ["h", "x"], np.array([-1.5, 1.0, 0.7]))
    rng = np.random.default_rng(3)
    sq, est = [], []
    for _r in range(300):
        take = hh.groupby("territory_id", group_keys=False).apply(
            lambda g: g.sample(25, random_state=int(rng.integers(1 << 31))))
        s = pop[pop["household_id"].isin(take["household_id"])].copy()
        s["weight"] = 120 / 25
        src = resolve_census(s[["territory_id", "x", "weight"]], ["x"], weight="weight",
                             method="rows")
        w, p = s["weight"].to_numpy(), s["p"].to_numpy()
        g = s["territory_id"].to_numpy()
        W = pd.Series(w).groupby(g).sum()
        m1 = pd.Series(w * p).groupby(g).sum() / W
        m2 = pd.Series(w * p * p).groupby(g).sum() / W
        spread = np.column_stack([m1.to_numpy(), m2.to_numpy()])
        est.append(census_sampling_mse(src, spread, deff))
        sq.append(((m1 - truth.loc[m1.index]) ** 2).to_numpy())
    ratio = np.mean(est) / np.mean(sq)
    assert 0.85 <= ratio <= 1.15, ratio
    # without the household design effect the error is understated
    assert np.mean(est) / deff / np.mean(sq) < 0.8


def test_full_count_census_has_no_sample_error():
    pop = _population(4, T=5, households=20)
    src = resolve_census(pop[["territory_id", "x"]], ["x"])
    assert src.rows is None
    assert np.all(census_sampling_mse(src, np.ones((5, 2)), 2.0) == 0.0)
