"""Census projection: pattern collapsing, streaming, delta-method CIs, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from test_scoring_support import COVS, make_census, stand_in_model

from clrisk.errors import DataError
from clrisk.phase1.patterns import collapse_census
from clrisk.phase1.scoring import (
    SCORE_COLUMNS,
    merge_tables,
    score_patterns,
    score_territories,
)


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    return make_census(4000, 30, seed=3)


@pytest.fixture(scope="module")
def model():
    return stand_in_model(scale=0.01)


def test_matches_brute_force_row_means(census, model):
    out = score_territories(model, census)
    assert list(out.columns) == SCORE_COLUMNS
    assert out["territory_id"].is_monotonic_increasing
    p = model.predict(census)
    direct = census.assign(p=p).groupby("territory_id")["p"].agg(["mean", "sum", "size"])
    np.testing.assert_allclose(out["mean_probability"], direct["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(out["expected_children"], direct["sum"].to_numpy(), rtol=1e-12)
    assert (out["children"].to_numpy() == direct["size"].to_numpy()).all()
    assert (out["ci_low"] <= out["mean_probability"]).all()
    assert (out["mean_probability"] <= out["ci_high"]).all()


def test_parquet_streaming_equals_dataframe_exactly(census, model, tmp_path):
    path = tmp_path / "census.parquet"
    census.sample(frac=1.0, random_state=1).to_parquet(path, row_group_size=500)
    a = score_territories(model, census)
    b = score_territories(model, path, batch_size=37)  # many batches: exercises accumulation
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_pattern_table_reused_and_row_fallback_agree(census, model):
    table = collapse_census(census, COVS, batch_size=999)
    assert table.n_patterns < len(census)
    assert table.counts.sum() == len(census)
    a = score_territories(model, table)
    rows = score_territories(model, census, max_patterns=5, batch_size=700)  # forces fallback
    pd.testing.assert_frame_equal(a, rows, check_exact=False, rtol=1e-11, atol=1e-14)


def test_weighted_census(census, model, tmp_path):
    w = np.random.default_rng(4).uniform(0.5, 3.0, len(census))
    c = census.assign(weight=w)
    out = score_territories(model, c, weight="weight")
    p = model.predict(c)
    g = c.assign(wp=w * p).groupby("territory_id")[["wp", "weight"]].sum()
    np.testing.assert_allclose(out["mean_probability"], (g["wp"] / g["weight"]).to_numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(out["children"], g["weight"].to_numpy(), rtol=1e-12)
    c.to_parquet(tmp_path / "w.parquet")
    out2 = score_territories(model, tmp_path / "w.parquet", weight="weight", batch_size=101)
    pd.testing.assert_frame_equal(out, out2, check_exact=False, rtol=1e-12)


def test_delta_method_se_matches_numerical_gradient(census, model):
    out = score_territories(model, census)
    names = ["const", *COVS]
    beta = model.params[names].to_numpy()
    V = model.cov.loc[names, names].to_numpy()
    X = np.column_stack([np.ones(len(census)), census[COVS].to_numpy(float)])
    t = census["territory_id"].to_numpy()
    tids = out["territory_id"].to_numpy()

    def pbar(b: np.ndarray) -> np.ndarray:
        s = pd.Series(expit(X @ b)).groupby(t).mean()
        return s.loc[tids].to_numpy()

    h = 1e-6
    J = np.column_stack([(pbar(beta + h * e) - pbar(beta - h * e)) / (2 * h)
                         for e in np.eye(len(beta))])
    se_num = np.sqrt(np.einsum("ti,ij,tj->t", J, V, J))
    np.testing.assert_allclose(out["se"], se_num, rtol=1e-6)


def test_delta_method_se_close_to_monte_carlo(census, model):
    out = score_territories(model, census)
    names = ["const", *COVS]
    rng = np.random.default_rng(7)
    draws = rng.multivariate_normal(model.params[names].to_numpy(),
                                    model.cov.loc[names, names].to_numpy(), 2000)
    table = collapse_census(census, COVS)
    Xd = table.design(COVS)
    sims = (table.counts @ expit(draws @ Xd.T).T).T / table.children
    sd = sims.std(axis=0, ddof=1)
    # small coefficient uncertainty: linearisation is accurate to a few per cent
    np.testing.assert_allclose(out["se"], sd, rtol=0.1)


def test_merge_tables_equals_whole(census, model):
    half = len(census) // 2
    t1 = collapse_census(census.iloc[:half], COVS)
    t2 = collapse_census(census.iloc[half:], COVS)
    whole = score_territories(model, census)
    names = ["const", *COVS]
    merged = score_patterns(merge_tables([t1, t2]), model.params[names].to_numpy(),
                            model.cov.loc[names, names].to_numpy(), COVS)
    pd.testing.assert_frame_equal(whole, merged, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("method", ["auto", "rows"])
def test_dask_partitions_equal_single_pass(census, model, tmp_path, method):
    distributed = pytest.importorskip("distributed")
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(census)), 3)):
        p = tmp_path / f"part{i}.parquet"
        census.iloc[part].to_parquet(p)
        paths.append(p)
    from clrisk.phase1.scoring import score_partitions_dask

    whole = score_territories(model, census)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        parts = score_partitions_dask(model, paths, client=client, method=method)
    pd.testing.assert_frame_equal(whole, parts, check_exact=False, rtol=1e-12)


# --- bad inputs --------------------------------------------------------------------------
def test_empty_census(model):
    with pytest.raises(DataError, match="no rows"):
        score_territories(model, make_census(10).iloc[:0])


def test_missing_columns_named_with_file(census, model, tmp_path):
    path = tmp_path / "census_x.parquet"
    census.drop(columns=["poverty", "rural"]).to_parquet(path)
    with pytest.raises(DataError, match=r"census_x\.parquet.*'poverty', 'rural'"):
        score_territories(model, path)


def test_nan_covariate_names_rows(census, model):
    bad = census.copy()
    bad["head_schooling"] = bad["head_schooling"].astype(float)
    bad.loc[[4, 9], "head_schooling"] = np.nan
    with pytest.raises(DataError, match=r"head_schooling.*rows 5, 10"):
        score_territories(model, bad)


def test_missing_territory_id(census, model):
    bad = census.copy()
    bad.loc[2, "territory_id"] = None
    with pytest.raises(DataError, match=r"territory_id.*row 3"):
        score_territories(model, bad)


def test_zero_children_territory_named(census, model):
    c = census.assign(weight=1.0)
    c.loc[c["territory_id"] == "T005", "weight"] = 0.0
    with pytest.raises(DataError, match="T005 has zero children"):
        score_territories(model, c, weight="weight")


def test_territory_without_census_children_named(census, model):
    tids = sorted(census["territory_id"].unique()) + ["T999"]
    with pytest.raises(DataError, match="T999"):
        score_territories(model, census, territory_ids=tids)


def test_non_numeric_covariate(census, model):
    bad = census.assign(poverty=np.where(census["poverty"] == 1, "yes", "no"))
    with pytest.raises(DataError, match="poverty.*not numeric"):
        score_territories(model, bad)


def test_input_not_modified(census, model):
    before = census.copy()
    score_territories(model, census, batch_size=100)
    pd.testing.assert_frame_equal(census, before)


def test_rows_method_equals_patterns(census, model, tmp_path):
    shuffled = census.sample(frac=1.0, random_state=2)  # territories not in contiguous runs
    a = score_territories(model, census)
    b = score_territories(model, shuffled, method="rows", batch_size=500)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-11, atol=1e-14)
    path = tmp_path / "sorted.parquet"
    census.sort_values("territory_id").to_parquet(path)  # contiguous runs: reduceat path
    c = score_territories(model, path, method="rows", batch_size=777)
    pd.testing.assert_frame_equal(a, c, check_exact=False, rtol=1e-11, atol=1e-14)
    with pytest.raises(ValueError, match="method"):
        score_territories(model, census, method="fast")


def test_sparse_key_index_and_non_integer_values(census, model, monkeypatch):
    """The sorted-key index (large key spaces) and factorised float covariates give the same
    table as the dense look-up path."""
    import clrisk.phase1.patterns as pat

    c = census.assign(head_schooling=census["head_schooling"] + 0.5 * (census["age"] > 12))
    dense = collapse_census(c, COVS, batch_size=113)
    monkeypatch.setattr(pat, "DENSE_BITS", 0)
    sparse = collapse_census(c, COVS, batch_size=113)
    np.testing.assert_array_equal(dense.patterns, sparse.patterns)
    assert (dense.counts != sparse.counts).nnz == 0
    assert 8.5 in set(dense.patterns[:, COVS.index("head_schooling")])
    a = score_territories(model, dense)
    b = score_territories(model, c, method="rows")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-11, atol=1e-14)
