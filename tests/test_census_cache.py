"""A census kept in memory (resolve_census(keep_in_memory=True)) gives the same blocks, the
same small-area curves, the same errors as one streamed from its file."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.phase1 import census_source, sae
from clrisk.phase1.census_source import resolve_census

COVS = ["x1", "x2", "x3"]


def _census_file(tmp_path, n: int = 30_000, T: int = 40, weighted: bool = False):
    """A Parquet census grouped by territory, int8 and float64 covariates, several batches."""
    rng = np.random.default_rng(5)
    t = np.sort(rng.integers(0, T, n))
    df = pd.DataFrame({"territory_id": [f"T{k:02d}" for k in t],
                       "x1": rng.integers(0, 2, n).astype(np.int8),
                       "x2": rng.integers(0, 6, n).astype(np.int8),
                       "x3": rng.normal(0, 1, n).round(2)})
    if weighted:
        df["weight"] = rng.uniform(5, 30, n)
    path = tmp_path / "census.parquet"
    df.to_parquet(path, row_group_size=4_000)
    return path


def _resolve(path, keep: bool, weight: str | None = None):
    return resolve_census(path, COVS, weight=weight, method="rows", batch_size=3_000,
                          keep_in_memory=keep)


def _curves(src):
    T = len(src.territory_ids)
    beta = np.array([-1.5, 0.4, -0.2, 0.3])
    mean = np.linspace(-0.3, 0.3, T)
    nodes = mean[:, None] + np.linspace(-0.8, 0.8, 7)[None, :]
    nodes[:3] = mean[:3, None] + np.linspace(-2.0, 2.0, 7)  # beyond the Taylor radius
    return sae.census_curves(src, None, beta, nodes, at=mean)


@pytest.mark.parametrize("weighted", [False, True])
def test_memory_and_file_give_the_same_blocks_and_curves(tmp_path, weighted):
    path = _census_file(tmp_path, weighted=weighted)
    weight = "weight" if weighted else None
    disk, mem = _resolve(path, False, weight), _resolve(path, True, weight)
    assert disk._cache is None and mem._cache is not None
    assert np.array_equal(disk.territory_ids, mem.territory_ids)
    assert disk.children.tobytes() == mem.children.tobytes() and disk.n_rows == mem.n_rows
    assert (disk.rows is None) == (not weighted)
    if weighted:
        assert disk.rows.tobytes() == mem.rows.tobytes()
    pairs = list(zip(disk.blocks(), mem.blocks(), strict=True))
    assert len(pairs) > 5
    for a, b in pairs:
        assert np.array_equal(a.territory_codes, b.territory_codes)
        assert a.X.tobytes() == b.X.tobytes() and a.weights.tobytes() == b.weights.tobytes()
    P_disk, G_disk = _curves(disk)
    for _pass in range(2):  # the memory is read as often as asked
        P_mem, G_mem = _curves(mem)
        assert P_disk.tobytes() == P_mem.tobytes() and G_disk.tobytes() == G_mem.tobytes()


def test_a_census_beyond_the_memory_budget_is_streamed(tmp_path, monkeypatch):
    path = _census_file(tmp_path)
    monkeypatch.setattr(census_source, "CACHE_BYTES", 1_000)
    src = _resolve(path, True)
    assert src._cache is None
    assert _curves(src)[0].tobytes() == _curves(_resolve(path, False))[0].tobytes()


def test_a_bad_column_is_reported_when_the_census_is_read(tmp_path):
    path = _census_file(tmp_path)
    df = pd.read_parquet(path)
    df.loc[17_000, "x3"] = np.nan
    df.to_parquet(path, row_group_size=4_000)
    with pytest.raises(DataError) as streamed:
        list(_resolve(path, False).blocks())
    with pytest.raises(DataError) as kept:
        _resolve(path, True)  # the totals are counted from the batches read into memory
    for exc in (streamed.value, kept.value):
        assert "x3" in str(exc) and "17001" in str(exc) and "census.parquet" in str(exc)


def test_a_pickled_source_streams_its_file(tmp_path):
    path = _census_file(tmp_path)
    mem = _resolve(path, True)
    copy = pickle.loads(pickle.dumps(mem))
    assert copy._cache is None and mem._cache is not None
    assert _curves(copy)[0].tobytes() == _curves(mem)[0].tobytes()


def test_census_pass_in_chunks_matches_the_exact_pass(tmp_path, monkeypatch):
    """The Taylor path in chunks of rows (several per block here) gives the exact curves
    within the Taylor tolerance, and the same bytes on every run."""
    src = _resolve(_census_file(tmp_path), True)
    monkeypatch.setattr(sae, "CURVE_CHUNK", 1_000)
    P, G = _curves(src)
    P2, G2 = _curves(src)
    assert P.tobytes() == P2.tobytes() and G.tobytes() == G2.tobytes()
    exact = sae.census_curves(src, None, np.array([-1.5, 0.4, -0.2, 0.3]),
                              *_nodes_for(src), exact=True)
    assert np.max(np.abs(P - exact[0])) < sae.TAYLOR_TOL
    assert np.allclose(G, exact[1], rtol=1e-12)


def _nodes_for(src):
    T = len(src.territory_ids)
    mean = np.linspace(-0.3, 0.3, T)
    nodes = mean[:, None] + np.linspace(-0.8, 0.8, 7)[None, :]
    nodes[:3] = mean[:3, None] + np.linspace(-2.0, 2.0, 7)
    return nodes, mean


def test_instrument2_reads_the_same_rows_from_memory(tmp_path):
    """Instrument 2's kernels lay out the columns themselves (column_batches): the same
    blocks from memory as from the file, and the memory is never written."""
    from clrisk.phase1.factors_shapley import row_blocks
    from clrisk.phase1.shapley_direct import _parquet_blocks

    path = _census_file(tmp_path, weighted=True)
    disk, mem = _resolve(path, False, "weight"), _resolve(path, True, "weight")
    for a, b in zip(_parquet_blocks(disk, 7_000), _parquet_blocks(mem, 7_000), strict=True):
        assert np.array_equal(a.codes, b.codes)
        assert all(x.tobytes() == y.tobytes() for x, y in zip(a.columns, b.columns,
                                                                strict=True))
        assert a.weights.tobytes() == b.weights.tobytes()
    for a, b in zip(row_blocks(disk, 7_000), row_blocks(mem, 7_000), strict=True):
        assert np.array_equal(a.territory_codes, b.territory_codes)
        assert a.X.tobytes() == b.X.tobytes() and a.weights.tobytes() == b.weights.tobytes()
    first = next(iter(mem._cache))
    with pytest.raises(ValueError):
        first.columns[0][0] = 1


def test_psu_path_in_chunks_matches_a_direct_computation(tmp_path, monkeypatch):
    """With a PSU effect (F = E Λ(s + v), tabulated): the chunked pass equals the sums
    computed directly with 40-point Gauss–Hermite, for the curves, the gradient and a census
    sample's spread rows."""
    from scipy.special import expit

    path = _census_file(tmp_path, weighted=True)
    src = _resolve(path, True, "weight")
    monkeypatch.setattr(sae, "CURVE_CHUNK", 1_000)
    beta = np.array([-1.5, 0.4, -0.2, 0.3])
    nodes, mean = _nodes_for(src)
    sv2 = 0.6
    spread = np.zeros((len(src.territory_ids), 2))
    P, G = sae.census_curves(src, None, beta, nodes, at=mean, sigma2_psu=sv2, spread=spread)
    df = pd.read_parquet(path)
    t = pd.Index(src.territory_ids).get_indexer(df["territory_id"])
    X = df[COVS].to_numpy(float)
    eta = beta[0] + X @ beta[1:]
    c = df["weight"].to_numpy()
    x, w = np.polynomial.hermite.hermgauss(40)
    v = np.sqrt(2.0 * sv2) * x

    def F(s):
        return expit(s[..., None] + v) @ w / np.sqrt(np.pi)

    N = np.bincount(t, weights=c)
    want_P = np.column_stack([np.bincount(t, weights=c * F(eta + nodes[t, k]))
                              for k in range(nodes.shape[1])]) / N[:, None]
    p = expit((eta + mean[t])[:, None] + v)
    dF = (p * (1 - p)) @ w / np.sqrt(np.pi)
    D = np.column_stack([np.ones(len(eta)), X])
    want_G = np.column_stack([np.bincount(t, weights=c * dF * D[:, j])
                              for j in range(D.shape[1])]) / N[:, None]
    f = F(eta + mean[t])
    assert np.max(np.abs(P - want_P)) < 1e-6
    assert np.max(np.abs(G - want_G)) < 1e-6
    assert np.max(np.abs(spread[:, 0] - np.bincount(t, weights=c * f) / N)) < 1e-6
    assert np.max(np.abs(spread[:, 1] - np.bincount(t, weights=c * f * f) / N)) < 1e-6
