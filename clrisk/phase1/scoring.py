"""Projection of the fitted risk model onto the census (METHODOLOGY items 4-5).

For territory t with census children i (weights c_i, 1 for a full count):
N_t = sum c_i, mean probability p_t = sum c_i p_i / N_t, expected children E_t = sum c_i p_i,
and (beyond the original) the delta-method variance Var(p_t) = g_t' V g_t with
g_t = sum c_i p_i (1 - p_i) x_i / N_t, where V is the design-based covariance of beta.

Why the delta method on p_t itself (not on its logit): it is what the methodology states and it
is what the tests check against numerical gradients. The 95% interval p_t +/- 1.96 se is clipped
to [0, 1]; with the small se typical of census projections clipping almost never binds.

Everything is computed on the collapsed (territory x pattern) table (see ``patterns.py``), so the
cost after the single streaming pass is proportional to the number of patterns. When a census
has too many distinct covariate vectors for collapsing to pay, the same quantities are
accumulated exactly as per-territory sums while streaming rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.phase1.patterns import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PATTERNS,
    PatternTable,
    TooManyPatterns,
    check_children,
    collapse_census,
    iter_census,
    source_name,
)
from clrisk.schema import TERRITORY_ID

Z95 = 1.959963984540054
SCORE_COLUMNS = [TERRITORY_ID, "children", "mean_probability", "expected_children", "ci_low",
                 "ci_high", "se"]
Census = PatternTable | pd.DataFrame | str | Path


def model_arrays(model: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(covariates, beta, V) from a RiskModel, ordered ``const`` then covariates."""
    covs = list(model.covariates)
    names = ["const", *covs]
    beta = np.asarray(pd.Series(model.params).loc[names], dtype=np.float64)
    cov = model.cov
    V = np.asarray(cov.loc[names, names] if isinstance(cov, pd.DataFrame) else cov,
                   dtype=np.float64)
    return covs, beta, V


def score_patterns(table: PatternTable, beta: np.ndarray, V: np.ndarray,
                   covariates: Sequence[str]) -> pd.DataFrame:
    """Territory indicators from a pattern table (the fast path)."""
    Xd = table.design(covariates)
    p = expit(Xd @ beta)
    M = table.counts
    N = table.children
    S = M @ p
    G = (M @ (Xd * (p * (1.0 - p))[:, None])) / N[:, None]
    return _frame(table.territory_ids, N, S, G, V, table.weighted)


def _frame(tids: np.ndarray, N: np.ndarray, S: np.ndarray, G: np.ndarray, V: np.ndarray,
           weighted: bool) -> pd.DataFrame:
    pbar = S / N
    var = np.einsum("ti,ij,tj->t", G, V, G)
    se = np.sqrt(np.clip(var, 0.0, None))
    out = pd.DataFrame({
        TERRITORY_ID: pd.array(tids.astype(str), dtype=object),
        "children": N if weighted else np.rint(N).astype(np.int64),
        "mean_probability": pbar,
        "expected_children": S,
        "ci_low": np.clip(pbar - Z95 * se, 0.0, 1.0),
        "ci_high": np.clip(pbar + Z95 * se, 0.0, 1.0),
        "se": se,
    })
    return out.sort_values(TERRITORY_ID, kind="stable").reset_index(drop=True)


def _runs(t: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(run starts, run territory) when every territory of the batch is one contiguous run of
    rows — the usual layout of census files, ordered by geography — else None."""
    starts = np.concatenate([[0], np.flatnonzero(t[1:] != t[:-1]) + 1])
    run_t = t[starts]
    if len(np.unique(run_t)) != len(run_t):
        return None
    return starts, run_t


def _score_rows(model_covs: Sequence[str], beta: np.ndarray, V: np.ndarray, census: Any,
                weight: str | None, batch_size: int) -> pd.DataFrame:
    """Exact per-territory sums accumulated row by row (no collapsing).

    For ordered batches the gradient sums G_t = sum w p (1 - p) x are one sparse product
    (territory-run indicator weighted by w p (1 - p)) @ X, which reads X once; otherwise one
    weighted bincount per column."""
    import scipy.sparse as sp

    index: dict[str, int] = {}
    k = len(beta)
    acc = np.zeros((0, k + 2))  # columns: N, S, G (k: const then covariates)
    for b in iter_census(census, model_covs, weight=weight, batch_size=batch_size):
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in b.territory_values),
                           dtype=np.int64, count=len(b.territory_values))
        t = tmap[b.territory_codes]
        m = len(index)
        if acc.shape[0] < m:
            acc = np.pad(acc, ((0, m - acc.shape[0]), (0, 0)))
        p = expit(beta[0] + b.X @ beta[1:])
        wp = b.weights * p
        wv = wp * (1.0 - p)
        runs = _runs(t)
        if runs is not None:
            starts, run_t = runs
            n = len(t)
            acc[run_t, 0] += np.add.reduceat(b.weights, starts)
            acc[run_t, 1] += np.add.reduceat(wp, starts)
            acc[run_t, 2] += np.add.reduceat(wv, starts)
            ind = sp.csr_matrix((wv, np.arange(n), np.append(starts, n)), shape=(len(starts), n))
            acc[run_t, 3:] += ind @ b.X
        else:
            acc[:, 0] += np.bincount(t, weights=b.weights, minlength=m)
            acc[:, 1] += np.bincount(t, weights=wp, minlength=m)
            acc[:, 2] += np.bincount(t, weights=wv, minlength=m)
            for j in range(k - 1):
                acc[:, 3 + j] += np.bincount(t, weights=wv * b.X[:, j], minlength=m)
    tids = np.array(list(index), dtype=object)
    N, S, G = acc[:, 0], acc[:, 1], acc[:, 2:]
    check_children(tids, N, source_name(census))
    return _frame(tids, N, S, G / N[:, None], V, weight is not None)


def score_territories(model: Any, census: Census, batch_size: int = DEFAULT_BATCH_SIZE,
                      weight: str | None = None, *, territory_ids: Sequence[str] | None = None,
                      max_patterns: int = DEFAULT_MAX_PATTERNS, method: str = "patterns"
                      ) -> pd.DataFrame:
    """Mean probability of child labour per territory, with delta-method 95% CIs.

    ``census`` is a DataFrame, a path to a Parquet file (streamed in ``batch_size`` rows, only
    the model's columns read) or a :class:`PatternTable` from :func:`collapse_census`.
    ``weight`` names a census-sample weight column (None: every row is one child).
    ``territory_ids`` (optional): territories that must all have census children — a missing
    one is an error naming it.

    Returns columns territory_id, children, mean_probability, expected_children, ci_low,
    ci_high, se, sorted by territory_id. The CI is p +/- 1.96 se on the probability scale,
    clipped to [0, 1].

    ``method="patterns"`` (default) collapses the census to its pattern table first (the table
    can be kept with :func:`collapse_census` and reused by classification and factor weights);
    ``method="rows"`` accumulates the exact per-territory sums row by row in one pass, which is
    cheaper when scoring is the only step and almost every child has its own pattern. Both give
    the same numbers (to rounding).
    """
    if method not in ("patterns", "rows"):
        raise ValueError(f"method must be 'patterns' or 'rows', not {method!r}")
    covs, beta, V = model_arrays(model)
    if method == "rows" and not isinstance(census, PatternTable):
        out = _score_rows(covs, beta, V, census, weight, batch_size)
        if territory_ids is not None:
            check_coverage(out, territory_ids, source_name(census))
        return out
    try:
        table = census if isinstance(census, PatternTable) else collapse_census(
            census, covs, weight=weight, batch_size=batch_size, max_patterns=max_patterns)
    except TooManyPatterns:
        out = _score_rows(covs, beta, V, census, weight, batch_size)
    else:
        out = score_patterns(table, beta, V, covs)
    if territory_ids is not None:
        check_coverage(out, territory_ids, source_name(census))
    return out


def check_coverage(scores: pd.DataFrame, territory_ids: Sequence[str], src: str) -> None:
    """Every listed territory must have census children (else its probability is unknown)."""
    from clrisk.errors import data_error

    missing = sorted(set(map(str, territory_ids)) - set(scores[TERRITORY_ID]))
    if missing:
        raise data_error(src, f"territory {', '.join(missing[:5])}"
                         + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                         + " has zero children in the census",
                         "check the territory codes in the census against the territory file",
                         TERRITORY_ID)


def score_partitions_dask(model: Any, paths: Sequence[str | Path], *, weight: str | None = None,
                          batch_size: int = DEFAULT_BATCH_SIZE, client: Any = None
                          ) -> pd.DataFrame:
    """Score a census split in Parquet partitions as a map-reduce on Dask.

    Map: each partition is collapsed to its (territory x pattern) counts on a worker (the
    model-free :class:`PatternTable`); reduce: the tables are added (counts are additive), and
    the territory indicators are computed once on the merged table. The result equals
    :func:`score_territories` on the concatenated census.
    """
    import dask

    covs, beta, V = model_arrays(model)
    tasks = [dask.delayed(collapse_census)(str(p), covs, weight=weight, batch_size=batch_size,
                                           max_patterns=np.iinfo(np.int64).max) for p in paths]
    if client is not None:
        tables = client.gather(client.compute(tasks))
    else:
        tables = list(dask.compute(*tasks))
    merged = merge_tables(tables)
    return score_patterns(merged, beta, V, covs)


def merge_tables(tables: Sequence[PatternTable]) -> PatternTable:
    """Add pattern tables built on disjoint parts of one census (same covariates)."""
    import scipy.sparse as sp

    if not tables:
        raise ValueError("no pattern tables to merge")
    covs = tables[0].covariates
    tids = np.array(sorted({str(t) for tab in tables for t in tab.territory_ids}), dtype=object)
    allp = np.vstack([tab.patterns for tab in tables])
    pats, inv = np.unique(allp, axis=0, return_inverse=True)
    inv = inv.ravel()
    t_pos = {t: i for i, t in enumerate(tids)}
    total = None
    start = 0
    for tab in tables:
        if tab.covariates != covs:
            raise ValueError("pattern tables have different covariates")
        pmap = inv[start:start + tab.n_patterns]
        start += tab.n_patterns
        tmap = np.array([t_pos[str(t)] for t in tab.territory_ids], dtype=np.int64)
        coo = tab.counts.tocoo()
        m = sp.csr_matrix((coo.data, (tmap[coo.row], pmap[coo.col])),
                          shape=(len(tids), len(pats)))
        total = m if total is None else total + m
    total.sort_indices()
    return PatternTable(covs, tids, pats, total.tocsr(), sum(t.n_rows for t in tables),
                        any(t.weighted for t in tables), tables[0].source)
