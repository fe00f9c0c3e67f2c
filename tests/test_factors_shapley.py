"""Instrument 2 (issue 13): additive, one-directional factor weights with intervals.

Checked against brute force on raw rows (Shapley over subsets written out by hand), with an
interaction term, and on every committed survey+census sample: weights add up to the joint
effect, nobody is moved toward more risk, every weight has an interval, P(rank 1) sums to 1,
no marker is ranked.
"""

from __future__ import annotations

import itertools
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from test_scoring_support import make_census

from clrisk.errors import DataError
from clrisk.phase1.factors import (
    NATIONAL_COLUMNS,
    WEIGHT_COLUMNS,
    FactorMethodWarning,
    instrument2,
)
from clrisk.phase1.factors_shapley import FactorSpec, counterfactual_rows, risk_side
from clrisk.phase1.terms import columns_of, design_rows

RAW = ["age", "female", "poverty", "head_schooling", "rural"]
TERMS = [*RAW, "poverty_x_rural"]
BETA = {"const": -3.0, "age": 0.15, "female": -0.4, "poverty": 0.5, "head_schooling": -0.08,
        "rural": 0.6, "poverty_x_rural": 0.7}
FACTORS = {"poverty": 0.0, "head_schooling": 11.0}
ROLES = {"poverty": "risk", "head_schooling": "protective"}


class Model(SimpleNamespace):
    """The slice of RiskModel instrument 2 needs (coefficients, covariance, draws, terms)."""

    def draw_coefficients(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        L = np.linalg.cholesky(self.cov.to_numpy())
        return self.params.to_numpy() + rng.standard_normal((n, len(self.params))) @ L.T


def model(interaction: bool = True, scale: float = 0.03) -> Model:
    covs = TERMS if interaction else RAW
    names = ["const", *covs]
    rng = np.random.default_rng(3)
    A = rng.normal(size=(len(names), len(names))) * scale
    V = A @ A.T + np.eye(len(names)) * scale**2
    m = Model(params=pd.Series(BETA)[names], cov=pd.DataFrame(V, index=names, columns=names),
              covariates=list(covs))
    if interaction:
        m.derived_terms = {"poverty_x_rural": "poverty * rural"}
    return m


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    return make_census(4000, 12, seed=5)


def brute_force(m: Model, census: pd.DataFrame, specs: list[FactorSpec]) -> pd.DataFrame:
    """Shapley reductions per territory written out subset by subset on the raw rows."""
    X = census[RAW].to_numpy(float)
    beta = m.params[["const", *m.covariates]].to_numpy()
    tid = census["territory_id"].to_numpy()

    def v(S):
        p = expit(design_rows(m, counterfactual_rows(X, specs, S), RAW) @ beta)
        return pd.Series(p).groupby(tid).sum()

    k = len(specs)
    out = {}
    for j in range(k):
        others = [i for i in range(k) if i != j]
        tot = 0.0
        for r in range(k):
            for S in itertools.combinations(others, r):
                w = math.factorial(r) * math.factorial(k - r - 1) / math.factorial(k)
                tot = tot + w * (v(list(S)) - v([*S, j]))
        out[specs[j].name] = tot
    return pd.DataFrame(out)


def test_shapley_equals_brute_force_with_interaction(census):
    m = model()
    res = instrument2(m, census, factors=FACTORS, roles=ROLES, n_draws=20, seed=1)
    fw = res.factor_weights
    assert list(fw.columns) == WEIGHT_COLUMNS
    assert list(res.national_factors.columns) == NATIONAL_COLUMNS
    specs = [FactorSpec("poverty", 0.0, "risk", None, 2),
             FactorSpec("head_schooling", 11.0, "protective", None, 3)]
    truth = brute_force(m, census, specs)
    got = fw.pivot(index="territory_id", columns="factor", values="children")
    np.testing.assert_allclose(got[truth.columns].to_numpy(), truth.loc[got.index].to_numpy(),
                               rtol=1e-9, atol=1e-9)


def test_interaction_equals_recoded_data(census):
    """A profile with poverty x rural gives the poverty weight of the same model applied to
    data recoded by hand (poverty set to 0 for the poor, the product recomputed)."""
    m = model()
    res = instrument2(m, census, factors={"poverty": 0.0}, roles=ROLES, n_draws=5, seed=1)
    recoded = census.assign(poverty=0)
    beta = m.params[["const", *TERMS]].to_numpy()

    def mean_p(df, interaction=None):
        full = df.assign(poverty_x_rural=df["poverty"] * df["rural"] if interaction is None
                         else interaction)
        X = np.column_stack([np.ones(len(full)), full[TERMS].to_numpy(float)])
        return pd.Series(expit(X @ beta)).groupby(full["territory_id"].to_numpy()).mean()

    expected = 100 * (mean_p(census) - mean_p(recoded))
    got = res.factor_weights.set_index("territory_id")["delta_pp"]
    np.testing.assert_allclose(got.loc[expected.index], expected, rtol=0, atol=1e-9)
    # moving only poverty's own column (the interaction left as it was) differs: teeth
    own_only = 100 * (mean_p(census) - mean_p(recoded, census["poverty"] * census["rural"]))
    assert (own_only - expected).abs().max() > 0.1
    assert columns_of("poverty", m) == ["poverty", "poverty_x_rural"]


def test_adds_up_and_one_directional(census):
    m = model()
    res = instrument2(m, census, factors=FACTORS, roles=ROLES, n_draws=30, seed=2)
    fw = res.factor_weights
    sums = fw.groupby("territory_id")["delta_pp"].sum()
    joint = res.joint.set_index("territory_id")["joint_reduction_pp"]
    np.testing.assert_allclose(sums.loc[joint.index], joint, rtol=1e-9)
    assert res.national_factors["delta_pp"].sum() == pytest.approx(
        res.national_joint["joint_reduction_pp"], rel=1e-9)
    # moved children go only to the reference, from the risk side
    X = census[RAW].to_numpy(float)
    specs = [FactorSpec("poverty", 0.0, "risk", None, 2),
             FactorSpec("head_schooling", 11.0, "protective", None, 3)]
    Xc = counterfactual_rows(X, specs, [0, 1])
    assert (Xc[:, 3] >= X[:, 3]).all() and (Xc[:, 2] <= X[:, 2]).all()
    assert ((Xc[:, 3] != X[:, 3]) <= (X[:, 3] < 11)).all()
    # head_schooling is only raised: children above 11 years keep their schooling
    assert (Xc[X[:, 3] > 11, 3] == X[X[:, 3] > 11, 3]).all()
    moved = fw.groupby("factor")["children_moved"].sum()
    assert moved["head_schooling"] == (X[:, 3] < 11).sum()
    assert moved["poverty"] == (X[:, 2] > 0).sum()


def test_intervals_p_rank1_and_ties(census):
    m = model()
    res = instrument2(m, census, factors=FACTORS, roles=ROLES, n_draws=60, seed=4)
    fw = res.factor_weights
    assert fw[["ci_low_pp", "ci_high_pp", "p_rank1"]].notna().all().all()
    assert (fw["ci_low_pp"] <= fw["ci_high_pp"]).all()
    np.testing.assert_allclose(fw.groupby("territory_id")["p_rank1"].sum(), 1.0)
    # twin factors (identical columns and coefficients) tie: same rank, never broken by name
    twin = census.assign(poverty2=census["poverty"])
    names = ["const", *RAW, "poverty2"]
    beta = pd.Series({**BETA, "poverty": 0.6, "poverty2": 0.6})[names]
    t = Model(params=beta, cov=pd.DataFrame(np.eye(len(names)) * 1e-4, index=names,
                                           columns=names), covariates=[*RAW, "poverty2"])
    r2 = instrument2(t, twin, factors={"poverty2": 0.0, "poverty": 0.0}, n_draws=20, seed=1)
    pair = r2.factor_weights.groupby("territory_id")["rank"].nunique()
    assert (pair == 1).all()
    assert r2.factor_weights["tie"].all()


def test_draws_with_territory_effects(census):
    m = model()
    T = census["territory_id"].nunique()
    B = m.draw_coefficients(10, 1)
    u = np.zeros((10, T))
    zero = np.zeros(T)
    a = instrument2(m, census, factors=FACTORS, roles=ROLES,
                    draws={"beta": B, "u": u, "u_hat": zero})
    b = instrument2(m, census, factors=FACTORS, roles=ROLES,
                    draws={"beta": B, "u": u + 1.0, "u_hat": zero})
    assert np.allclose(a.factor_weights["delta_pp"], b.factor_weights["delta_pp"])
    assert not np.allclose(a.factor_weights["ci_low_pp"], b.factor_weights["ci_low_pp"])
    # without u_hat the point estimate is centred on the effect draws (here: +1 everywhere)
    c = instrument2(m, census, factors=FACTORS, roles=ROLES, draws={"beta": B, "u": u + 1.0})
    d = instrument2(m, census.assign(), factors=FACTORS, roles=ROLES,
                    draws={"beta": B, "u": u + 1.0, "u_hat": zero + 1.0})
    assert np.allclose(c.factor_weights["delta_pp"], d.factor_weights["delta_pp"])
    # effect draws named by territory are aligned to the census's territories
    ids = np.array(sorted(census["territory_id"].unique()))
    shifted = SimpleNamespace(beta=B, u=np.tile(np.arange(T, dtype=float), (10, 1))[:, ::-1],
                              territory_ids=ids[::-1])
    e = instrument2(m, census, factors=FACTORS, roles=ROLES, draws=shifted)
    f = instrument2(m, census, factors=FACTORS, roles=ROLES,
                    draws={"beta": B, "u": np.tile(np.arange(T, dtype=float), (10, 1))})
    assert np.allclose(e.factor_weights["delta_pp"], f.factor_weights["delta_pp"])


def test_one_at_a_time_is_labelled_and_not_additive(census):
    m = model()
    res = instrument2(m, census, factors=FACTORS, roles=ROLES, n_draws=5,
                      method="one_at_a_time")
    assert (res.factor_weights["method"] == "one_at_a_time").all()
    sums = res.factor_weights.groupby("territory_id")["delta_pp"].sum()
    joint = res.joint.set_index("territory_id")["joint_reduction_pp"]
    assert (sums.loc[joint.index] - joint).abs().max() > 1e-6


def test_markers_not_ranked(census):
    m = model()
    res = instrument2(m, census, factors=FACTORS, roles=ROLES, n_draws=5,
                      markers=["female", "age", "rural"])
    assert set(res.factor_weights["factor"]) == set(FACTORS)
    mk = res.markers
    assert set(mk["marker"]) == {"female", "age", "rural"}
    nat = mk[mk["level"] == "national"]
    for _m, g in nat.groupby("marker"):
        assert g["children"].sum() == pytest.approx(len(census))
        assert g["share_of_expected"].sum() == pytest.approx(1.0)


# --- bad input ---------------------------------------------------------------------------
def test_factor_not_a_covariate(census):
    with pytest.raises(DataError, match="'schooling' is not a measured covariate"):
        instrument2(model(), census, factors={"schooling": 11.0}, n_draws=2)


def test_reference_outside_observed_range(census):
    with pytest.raises(DataError, match="outside the values observed.*0 to 16"):
        instrument2(model(), census, factors={"head_schooling": 25.0}, roles=ROLES,
                    n_draws=2)


def test_more_than_twelve_factors_falls_back_with_message():
    rng = np.random.default_rng(0)
    n, k = 1500, 13
    names = [f"f{i}" for i in range(k)]
    df = pd.DataFrame(rng.integers(0, 2, (n, k)), columns=names)
    df.insert(0, "territory_id", [f"T{i % 5}" for i in range(n)])
    pn = ["const", *names]
    m = Model(params=pd.Series(np.r_[-2.0, np.linspace(0.1, 0.5, k)], index=pn),
              cov=pd.DataFrame(np.eye(k + 1) * 1e-3, index=pn, columns=pn), covariates=names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = instrument2(m, df, factors=dict.fromkeys(names, 0.0), n_draws=4, seed=3)
    notes = [str(w.message) for w in caught if issubclass(w.category, FactorMethodWarning)]
    assert notes and "2^13 = 8,192" in notes[0] and "doubling" in notes[0]
    assert res.notes == notes
    sums = res.factor_weights.groupby("territory_id")["delta_pp"].sum()
    joint = res.joint.set_index("territory_id")["joint_reduction_pp"]
    np.testing.assert_allclose(sums.loc[joint.index], joint, rtol=1e-9)


def test_risk_side():
    X = np.array([[0.0, 5.0], [1.0, 12.0], [1.0, 11.0]])
    specs = [FactorSpec("poverty", 0.0, "risk", None, 0),
             FactorSpec("head_schooling", 11.0, "protective", None, 1)]
    assert risk_side(X, specs).tolist() == [[False, True], [True, False], [True, False]]


# --- the census-scale kernel (clrisk.phase1.shapley_direct) --------------------------------
def _both_kernels(m, census, rows=True, **kw):
    """instrument2 with the census-scale kernel and with the general one (on the census
    streamed row by row, or collapsed to patterns when it compresses)."""
    from clrisk.phase1 import shapley_direct as sd
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.terms import raw_covariates

    census = resolve_census(census, raw_covariates(m), weight=kw.pop("weight", None),
                            method="rows" if rows else "auto")
    fast = instrument2(m, census, **kw)
    sd.ENABLED = False
    try:
        general = instrument2(m, census, **kw)
    finally:
        sd.ENABLED = True
    return fast, general


def _assert_same(fast, general):
    pd.testing.assert_frame_equal(fast.factor_weights, general.factor_weights,
                                  check_exact=False, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fast.joint["joint_reduction_pp"],
                               general.joint["joint_reduction_pp"], rtol=1e-12)
    np.testing.assert_allclose(fast.national_factors["children"],
                               general.national_factors["children"], rtol=1e-12)


@pytest.mark.parametrize("order", ["shuffled", "by_territory"])
def test_census_kernel_equals_general_kernel(census, order, tmp_path, monkeypatch):
    """Point estimate without draws on the fast kernel: the same exact Shapley values as the
    general kernel (1e-12 relative), as DataFrame and as int8 Parquet (lookup tables), in
    any row order, with and without census weights; the same bytes when run twice."""
    m = model(interaction=False)
    df = census if order == "shuffled" else census.sort_values("territory_id", kind="stable")
    kw = {"factors": {**FACTORS, "age": 10.5, "rural": 0.0},
          "roles": {**ROLES, "age": "protective"}, "n_draws": 0,
          "markers": ["female"]}
    _assert_same(*_both_kernels(m, df, **kw))
    _assert_same(*_both_kernels(m, df, rows=False, **kw))
    small = df.assign(**{c: df[c].astype(np.int8) for c in RAW})
    path = tmp_path / "census.parquet"
    small.to_parquet(path, row_group_size=700)
    fast, general = _both_kernels(m, path, **kw)
    _assert_same(fast, general)
    from clrisk.phase1 import shapley_direct as sd

    monkeypatch.setattr(sd, "MIN_ROWS", 900)  # several blocks on two threads
    fast = _both_kernels(m, path, **kw)[0]
    _assert_same(fast, general)
    again = _both_kernels(m, path, **kw)[0]
    assert again.factor_weights.to_csv() == fast.factor_weights.to_csv()
    assert again.markers.to_csv() == fast.markers.to_csv()
    weighted = df.assign(w=np.random.default_rng(1).uniform(0.5, 3.0, len(df)))
    _assert_same(*_both_kernels(m, weighted, weight="w", **kw))


def test_census_kernel_many_factors(tmp_path):
    """Ten binary factors (the 16-bit group code), uint8 columns: same values."""
    rng = np.random.default_rng(7)
    n, k = 3000, 10
    names = [f"f{i}" for i in range(k)]
    df = pd.DataFrame(rng.integers(0, 2, (n, k)).astype(np.uint8), columns=names)
    df.insert(0, "territory_id", [f"T{i:02d}" for i in rng.integers(0, 9, n)])
    pn = ["const", *names]
    m = Model(params=pd.Series(np.r_[-2.0, np.linspace(0.2, 0.9, k)], index=pn),
              cov=pd.DataFrame(np.eye(k + 1) * 1e-3, index=pn, columns=pn), covariates=names)
    df.to_parquet(tmp_path / "c.parquet")
    refs = {**dict.fromkeys(names, 0.0), "f3": 0.5}  # 0.5: the integer column compares > 0
    fast, general = _both_kernels(m, tmp_path / "c.parquet", factors=refs, n_draws=0)
    _assert_same(fast, general)
    sums = fast.factor_weights.groupby("territory_id")["delta_pp"].sum()
    joint = fast.joint.set_index("territory_id")["joint_reduction_pp"]
    np.testing.assert_allclose(sums.loc[joint.index], joint, rtol=1e-9)


def test_census_kernel_territory_effects(census):
    """Territory effects enter the linear predictor of every counterfactual."""
    from clrisk.phase1 import shapley_direct as sd
    from clrisk.phase1.factors_shapley import accumulate

    m = model(interaction=False)
    tids = sorted(census["territory_id"].unique())
    codes = np.searchsorted(tids, census["territory_id"].to_numpy())
    X = census[RAW].to_numpy(float)
    block = SimpleNamespace(territory_codes=codes, X=X, weights=np.ones(len(X)))
    specs = [FactorSpec("poverty", 0.0, "risk", None, 2),
             FactorSpec("head_schooling", 11.0, "protective", None, 3)]
    coefs = m.params[["const", *RAW]].to_numpy()[None, :]
    u = np.linspace(-1.0, 1.0, len(tids))[:, None]
    got = accumulate(m, [block], len(tids), RAW, specs, coefs, u)
    sd.ENABLED = False
    try:
        ref = accumulate(m, [block], len(tids), RAW, specs, coefs, u)
    finally:
        sd.ENABLED = True
    for name in ("base", "all", "shapley", "moved", "lo", "hi"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-12,
                                   err_msg=name)
