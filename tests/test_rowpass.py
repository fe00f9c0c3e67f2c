"""The one-pass row engine (clrisk.phase1.rowpass) against the reference computations:
DataFrame vs Parquet streaming vs collapsed table, the automatic choice, the P(top)
expansion, and the reader thread's shutdown on errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from test_scoring_support import COVS, make_census, stand_in_model

from clrisk.errors import DataError
from clrisk.phase1 import classify as cl
from clrisk.phase1.factors import factor_weights, score_and_factors
from clrisk.phase1.patterns import choose_method, collapse_census
from clrisk.phase1.rowpass import prefetched, row_sums
from clrisk.phase1.scoring import model_arrays, score_territories

FACTORS = {"poverty": 0.0, "head_schooling": 11.0, "rural": 0.0}


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    return make_census(6000, 40, seed=11)


@pytest.fixture(scope="module")
def model():
    return stand_in_model(seed=4, scale=0.02)


def _close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0.0)


def _no_prefetch_thread(timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not any(t.name == "clrisk-prefetch" for t in threading.enumerate()):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("weighted", [False, True])
def test_rows_parquet_dataframe_and_patterns_agree(census, model, tmp_path, weighted):
    c = census.assign(weight=np.random.default_rng(2).uniform(0.5, 3.0, len(census))) \
        if weighted else census
    w = "weight" if weighted else None
    path = tmp_path / "c.parquet"
    c.sample(frac=1.0, random_state=5).to_parquet(path, row_group_size=1000)
    ref = score_territories(model, collapse_census(c, COVS, weight=w))
    a = score_territories(model, c, method="rows", weight=w, batch_size=777)
    b = score_territories(model, path, method="rows", weight=w, batch_size=1234)
    if not weighted:
        assert (ref["children"].to_numpy() == b["children"].to_numpy()).all()
    _close(ref, a)
    _close(ref, b)
    fref = factor_weights(model, collapse_census(c, COVS, weight=w), FACTORS)
    fa = factor_weights(model, c, FACTORS, weight=w, method="rows", batch_size=500)
    fb = factor_weights(model, path, FACTORS, weight=w, method="rows", batch_size=2000)
    for f in (fa, fb):
        pd.testing.assert_frame_equal(fref, f, check_exact=False, rtol=1e-12, atol=1e-15)


def test_row_sums_equal_brute_force(census, model):
    covs, beta, _V = model_arrays(model)
    shuffled = census.sample(frac=1.0, random_state=3)
    s = row_sums(beta, covs, shuffled, batch_size=999, hessian=True,
                 factors=[("head_schooling", 11.0)])
    X = np.column_stack([np.ones(len(shuffled)), shuffled[covs].to_numpy(float)])
    p = expit(X @ beta)
    v = p * (1 - p)
    t = np.searchsorted(s.territory_ids.astype(str), shuffled["territory_id"].to_numpy())
    m = len(s.N)
    G = np.zeros((m, X.shape[1]))
    H = np.zeros((m, X.shape[1], X.shape[1]))
    np.add.at(G, t, v[:, None] * X)
    np.add.at(H, t, (v * (1 - 2 * p))[:, None, None] * X[:, :, None] * X[:, None, :])
    Xc = X.copy()
    Xc[:, 1 + covs.index("head_schooling")] = 11.0
    F = np.bincount(t, weights=expit(Xc @ beta), minlength=m)
    np.testing.assert_allclose(s.N, np.bincount(t, minlength=m))
    np.testing.assert_allclose(s.S, np.bincount(t, weights=p, minlength=m), rtol=1e-12)
    np.testing.assert_allclose(s.G, G, rtol=1e-12)
    np.testing.assert_allclose(s.H, H, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(s.F[:, 0], F, rtol=1e-12)


def test_score_and_factors_one_pass_equals_two_calls(census, model, tmp_path):
    path = tmp_path / "c.parquet"
    census.to_parquet(path)
    for method in ("rows", "patterns", "auto"):
        scores, weights = score_and_factors(model, path, FACTORS, method=method)
        _close(score_territories(model, census, method="patterns"), scores)
        pd.testing.assert_frame_equal(factor_weights(model, census, FACTORS, method="patterns"),
                                      weights, check_exact=False, rtol=1e-12, atol=1e-15)


def test_choose_method_samples_compression(census, tmp_path):
    # small census: collapsed outright, its table returned
    method, table = choose_method(census, COVS)
    assert method == "patterns" and table is not None and table.n_rows == len(census)
    # compressible: 6000 children in 40 territories, coarse covariates
    coarse = census.assign(age=(census["age"] >= 12).astype(float), head_schooling=0.0)
    assert choose_method(coarse, COVS, sample_rows=3000) == ("patterns", None)
    # a continuous covariate: every child its own cell
    fine = census.assign(age=np.random.default_rng(1).uniform(5, 18, len(census)))
    path = tmp_path / "fine.parquet"
    fine.to_parquet(path)
    assert choose_method(path, COVS, sample_rows=3000) == ("rows", None)
    # auto on that census takes the row pass and still equals the collapsed reference
    m = stand_in_model()
    _close(score_territories(m, collapse_census(fine, COVS, max_levels=10**6)),
           score_territories(m, path))


def test_expansion_close_to_exact_and_exact_flag(census, tmp_path):
    model = stand_in_model(seed=4, scale=0.003)  # survey-sized standard errors
    covs, beta, V = model_arrays(model)
    B = cl.draw_coefficients(beta, V, 30, 4)
    exact = cl._draw_rows(covs, B, census, None, 100_000).to_numpy()
    sums = row_sums(beta, covs, census, hessian=True, cov=V)
    approx = cl.draw_expansion(sums, beta, B).to_numpy()
    err2 = np.abs(exact - approx).max()
    bound = sums.expansion_error()
    assert bound.max() < cl.EXPANSION_TOL
    # the bound is on the expected remainder: the mean error over draws stays below it
    # (up to the noise of 30 draws); single extreme draws exceed it a few times over
    assert (np.abs(exact - approx).mean(axis=0) < 2 * bound).all()
    assert err2 < 20 * bound.max()
    # the second-order term matters: first order alone is clearly worse
    lin = ((sums.S[:, None] + sums.G @ (B - beta).T) / sums.N[:, None]).T
    assert err2 < 0.2 * np.abs(exact - lin).max()
    # a census that does not collapse: expansion by default, exact=True recomputes rows
    fine = census.assign(age=np.random.default_rng(1).uniform(5, 18, len(census)))
    path = tmp_path / "fine.parquet"
    fine.to_parquet(path)
    ex = cl.draw_mean_probabilities(model, path, draws=30, seed=4, exact=True)
    pd.testing.assert_frame_equal(ex, cl._draw_rows(covs, B, fine, None, 100_000),
                                  check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(
        ex, cl.draw_mean_probabilities(model, collapse_census(fine, COVS, max_levels=10**6),
                                       draws=30, seed=4),
        check_exact=False, rtol=1e-5)
    ap = cl.draw_mean_probabilities(model, path, draws=30, seed=4)
    assert 0 < np.abs(ap.to_numpy() - ex.to_numpy()).max() < cl.EXPANSION_TOL


def test_expansion_refused_when_draws_too_spread(census, tmp_path):
    model = stand_in_model(seed=4, scale=0.02)  # logit spread ~1: expansion off by ~0.1
    fine = census.assign(age=np.random.default_rng(1).uniform(5, 18, len(census)))
    path = tmp_path / "fine.parquet"
    fine.to_parquet(path)
    with pytest.warns(UserWarning, match="too spread"):
        out = cl.draw_mean_probabilities(model, path, draws=10, seed=2)
    pd.testing.assert_frame_equal(out, cl.draw_mean_probabilities(model, path, draws=10,
                                                                  seed=2, exact=True))


def test_prefetch_forwards_errors_and_stops():
    def boom():
        yield 1
        raise RuntimeError("reader failed")

    got = []
    with pytest.raises(RuntimeError, match="reader failed"):
        for x in prefetched(boom()):
            got.append(x)
    assert got == [1]
    assert _no_prefetch_thread()
    # the consumer stops early: the producer (an endless stream) is stopped and joined
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    for x in prefetched(endless()):
        if x == 5:
            break
    assert _no_prefetch_thread()


def test_truncated_and_corrupt_parquet_raise_data_error(census, model, tmp_path):
    path = tmp_path / "c.parquet"
    census.to_parquet(path, row_group_size=500, compression=None)
    raw = path.read_bytes()
    cut = tmp_path / "truncated.parquet"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="truncated.parquet.*cannot be read"):
        score_territories(model, cut, method="rows")
    # footer intact, a data page in the middle overwritten: fails while streaming
    bad = bytearray(raw)
    mid = len(raw) // 2
    bad[mid:mid + 4000] = b"\xff" * 4000
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(bytes(bad))
    with pytest.raises(DataError, match="corrupt.parquet.*cannot be read"):
        score_territories(model, corrupt, method="rows", batch_size=300)
    assert _no_prefetch_thread()


def test_bad_value_in_later_batch_names_row(census, model, tmp_path):
    c = census.copy()
    c.loc[4500, "age"] = np.nan
    path = tmp_path / "c.parquet"
    c.to_parquet(path)
    with pytest.raises(DataError, match=r"c.parquet, column 'age'.*4501"):
        score_territories(model, path, method="rows", batch_size=1000)
    assert _no_prefetch_thread()

