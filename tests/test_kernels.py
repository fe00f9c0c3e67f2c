"""The compiled row kernels (clrisk.phase1.kernels) against the NumPy formulas they replace,
and the census pass's threaded lanes against one thread."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from clrisk.phase1 import kernels


@pytest.mark.parametrize("grouped", [True, False])
def test_taylor_sums_match_the_power_and_gradient_sums(grouped):
    rng = np.random.default_rng(11)
    n, k, T, N1 = 5_000, 4, 37, 15
    tc = rng.integers(0, T, n).astype(np.intp)
    if grouped:  # runs of one territory, as a census sorted by territory gives them
        tc = np.sort(tc)
    X = rng.integers(0, 6, (k, n)).astype(np.float64)
    eta = rng.normal(-2.0, 1.5, n)
    c = rng.uniform(0.5, 30.0, n)
    at = rng.normal(0.0, 0.4, T)
    c.flags.writeable = False  # a census in memory is read-only
    M, G = np.zeros((T, N1)), np.zeros((T, k + 1))
    kernels.taylor_sums(X, eta, tc, c, at, M, G)
    p = expit(eta + at[tc])
    for j in range(N1):
        ref = np.bincount(tc, weights=c * p ** (j + 1), minlength=T)
        np.testing.assert_allclose(M[:, j], ref, rtol=1e-11, atol=1e-300)
    v = c * p * (1.0 - p)
    np.testing.assert_allclose(G[:, 0], np.bincount(tc, weights=v, minlength=T), rtol=1e-12)
    for j in range(k):
        ref = np.bincount(tc, weights=v * X[j], minlength=T)
        np.testing.assert_allclose(G[:, j + 1], ref, rtol=1e-12)
    # the kernel adds to what is there (one accumulator per lane, several blocks)
    M2, G2 = M.copy(), G.copy()
    kernels.taylor_sums(X, eta, tc, c, at, M2, G2)
    np.testing.assert_allclose(M2, 2.0 * M, rtol=1e-14)
    np.testing.assert_allclose(G2, 2.0 * G, rtol=1e-14)


def test_psu_scores_match_the_per_psu_sums():
    rng = np.random.default_rng(12)
    n, GK, p, C = 3_000, 21, 5, 140
    cp = np.sort(rng.integers(0, C, n)).astype(np.intp)
    Q = rng.uniform(0.01, 0.99, (n, GK))
    om = rng.dirichlet(np.ones(GK), C)
    sign = np.where(rng.uniform(size=n) < 0.3, 1.0, -1.0)
    Xw = rng.normal(size=(n, p))
    vw, Sc = np.empty(n), np.zeros((C, GK, p))
    kernels.psu_scores(Q, om, cp, sign, Xw, vw, Sc)
    np.testing.assert_allclose(vw, (Q * (1.0 - Q) * om[cp]).sum(1), rtol=1e-13)
    R = sign[:, None] * (1.0 - Q)  # y − p at every quadrature point
    ref = np.zeros((C, GK, p))
    np.add.at(ref, cp, R[:, :, None] * Xw[:, None, :])
    np.testing.assert_allclose(Sc, ref, rtol=1e-12, atol=1e-12)


def test_census_pass_lanes_give_the_same_bytes_on_one_thread(tmp_path, monkeypatch):
    """A census in memory is summed by one thread per lane; the same lanes walked by one
    thread (as a streamed census is) give the same bytes, whatever the scheduling."""
    import pandas as pd

    from clrisk.phase1 import sae
    from clrisk.phase1.census_source import resolve_census

    rng = np.random.default_rng(3)
    n, T = 40_000, 60
    t = np.sort(rng.integers(0, T, n))
    pd.DataFrame({"territory_id": [f"T{v:02d}" for v in t],
                  "a": rng.integers(0, 2, n).astype(np.int8),
                  "b": rng.integers(0, 9, n).astype(np.int8)}).to_parquet(
        tmp_path / "c.parquet", row_group_size=5_000)
    src = resolve_census(tmp_path / "c.parquet", ["a", "b"], method="rows", batch_size=2_500,
                         keep_in_memory=True)
    assert src.in_memory
    beta = np.array([-2.0, 0.7, 0.1])
    mean = rng.normal(0.0, 0.2, T)
    nodes = mean[:, None] + np.linspace(-0.9, 0.9, 7)[None, :]
    threaded = sae.census_curves(src, None, beta, nodes, at=mean)
    monkeypatch.setattr(type(src), "in_memory", property(lambda self: False))
    serial = sae.census_curves(src, None, beta, nodes, at=mean)
    for a, b in zip(threaded, serial, strict=True):
        assert a.tobytes() == b.tobytes()


def test_logit_segments_interpolate_and_extrapolate_on_the_logit_scale():
    rng = np.random.default_rng(13)
    T, K, D = 80, 7, 40
    nodes = np.sort(rng.normal(0.0, 0.6, (T, K)), axis=1)
    L = np.sort(rng.normal(-2.0, 1.0, (T, K)), axis=1)
    slope = (L[:, 1:] - L[:, :-1]) / (nodes[:, 1:] - nodes[:, :-1])
    u = rng.normal(0.0, 1.2, (D, T))  # inside the nodes and beyond both ends
    out = np.empty((D, T))
    kernels.logit_segments(L, np.ascontiguousarray(slope), nodes, u, out)
    for t in range(T):  # np.interp inside; the outer segments' lines outside
        inside = np.interp(u[:, t], nodes[t], L[t])
        low = L[t, 0] + slope[t, 0] * (u[:, t] - nodes[t, 0])
        high = L[t, -1] + slope[t, -1] * (u[:, t] - nodes[t, -1])
        ref = np.where(u[:, t] < nodes[t, 0], low, np.where(u[:, t] > nodes[t, -1], high, inside))
        np.testing.assert_allclose(out[:, t], ref, rtol=1e-12, atol=1e-12)


def test_kernels_import_where_no_cache_location_is_writable():
    """A read-only installation: numba cannot cache, so the kernels compile in memory instead
    of failing the import (a fresh interpreter, every cache location refused)."""
    import subprocess
    import sys

    code = ("import numba.core.caching as c\n"
            "def refuse(self):\n"
            "    raise OSError('read-only')\n"
            "c._CacheLocator.ensure_cache_path = refuse\n"
            "import numpy as np\n"
            "from clrisk.phase1 import kernels\n"
            "M, G = np.zeros((1, 3)), np.zeros((1, 1))\n"
            "kernels.taylor_sums(np.zeros((0, 2)), np.zeros(2), np.zeros(2, dtype=np.intp),\n"
            "                    np.ones(2), np.zeros(1), M, G)\n"
            "print(M.tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[[1.0, 0.5, 0.25]]", out.stderr  # two rows, p = 1/2
