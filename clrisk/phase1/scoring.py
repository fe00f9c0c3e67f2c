"""Projection of the fitted risk model onto the census (METHODOLOGY items 4-5).

For territory t with census children i (weights c_i, 1 for a full count):
N_t = sum c_i, mean probability p_t = sum c_i p_i / N_t, expected children E_t = sum c_i p_i,
and (beyond the original) the delta-method variance Var(p_t) = g_t' V g_t with
g_t = sum c_i p_i (1 - p_i) x_i / N_t, where V is the design-based covariance of beta.

Why the delta method on p_t itself (not on its logit): it is what the methodology states and it
is what the tests check against numerical gradients. The 95% interval p_t +/- 1.96 se is clipped
to [0, 1]; with the small se typical of census projections clipping almost never binds.

Two exact ways to get the sums, chosen automatically (``method="auto"``,
:func:`~clrisk.phase1.patterns.choose_method`): when the census compresses well, on the collapsed
(territory x pattern) table (``patterns.py``), whose later steps cost in proportion to the cells
and which classification and factor weights reuse; otherwise in one streaming pass over the rows
(``rowpass.py``: reader thread, one BLAS product, one sparse scatter per batch), about twice the
cost of reading the census columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.phase1.census_source import CensusSource, resolve_census
from clrisk.phase1.patterns import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PATTERNS,
    PatternTable,
    choose_method,
    collapse_census,
)
from clrisk.phase1.rowpass import RowSums, row_sums
from clrisk.schema import TERRITORY_ID

Z95 = 1.959963984540054
SCORE_COLUMNS = [TERRITORY_ID, "children", "mean_probability", "expected_children", "ci_low",
                 "ci_high", "se"]
Census = CensusSource | PatternTable | pd.DataFrame | str | Path


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


def score_sums(sums: RowSums, V: np.ndarray) -> pd.DataFrame:
    """Territory indicators from the per-territory sums of one row pass."""
    return _frame(sums.territory_ids, sums.N, sums.S, sums.G / sums.N[:, None], V,
                  sums.weighted)


def score_source(src: CensusSource, beta: np.ndarray, V: np.ndarray,
                 covariates: Sequence[str]) -> pd.DataFrame:
    """Official synthetic projection from a resolved census: on its pattern table, or by one
    streaming row pass (reader thread, one BLAS product per batch)."""
    if src.table is not None:
        return score_patterns(src.table, beta, V, covariates)
    return score_sums(row_sums(beta, covariates, src.raw, weight=src.weight,
                               batch_size=src.batch_size), V)


def score_territories(model: Any, census: Census, batch_size: int = DEFAULT_BATCH_SIZE,
                      weight: str | None = None, *, territory_ids: Sequence[str] | None = None,
                      max_patterns: int = DEFAULT_MAX_PATTERNS, method: str = "auto"
                      ) -> pd.DataFrame:
    """Mean probability of child labour per territory, with delta-method 95% CIs.

    ``census`` is a DataFrame, a path to a Parquet file (streamed in ``batch_size`` rows, only
    the model's columns read), a :class:`PatternTable` from :func:`collapse_census` or a
    :class:`~clrisk.phase1.census_source.CensusSource` (resolved once by the caller).
    ``weight`` names a census-sample weight column (None: every row is one child).
    ``territory_ids`` (optional): territories that must all have census children — a missing
    one is an error naming it.

    Returns columns territory_id, children, mean_probability, expected_children, ci_low,
    ci_high, se, sorted by territory_id. The CI is p +/- 1.96 se on the probability scale,
    clipped to [0, 1].

    ``method``: ``"auto"`` (default) samples the start of the census and collapses it to its
    pattern table when that compresses well (fewer than 0.3 cells per child, see
    :func:`~clrisk.phase1.patterns.choose_method`), else streams the rows once;
    ``"patterns"`` always collapses (the table can be kept with :func:`collapse_census` and
    reused by classification and factor weights); ``"rows"`` always accumulates exact
    per-territory sums in one pass (:func:`~clrisk.phase1.rowpass.row_sums`: a reader thread
    decodes the next batch while this one is computed; about 2x the cost of reading the
    columns). All give the same numbers to ~1e-15 relative (summation order only).
    """
    covs, beta, V = model_arrays(model)
    src = resolve_census(census, covs, weight=weight, batch_size=batch_size,
                         max_patterns=max_patterns, method=method)
    out = score_source(src, beta, V, covs)
    if territory_ids is not None:
        check_coverage(out, territory_ids, src.name)
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
                          batch_size: int = DEFAULT_BATCH_SIZE, client: Any = None,
                          method: str = "patterns") -> pd.DataFrame:
    """Score a census split in Parquet partitions as a map-reduce on Dask.

    ``method="patterns"``: map — each partition is collapsed to its (territory x pattern)
    counts on a worker (the model-free :class:`PatternTable`); reduce — the tables are added
    (counts are additive) and the indicators computed once on the merged table.
    ``method="rows"`` (for a census that does not collapse; ``"auto"`` decides on the first
    partition): map — one row pass per partition (:func:`~clrisk.phase1.rowpass.row_sums`);
    reduce — the per-territory sums are added (a territory split across partitions is simply
    summed). Either way the result equals :func:`score_territories` on the concatenated
    census, and only per-territory (or per-pattern) sums travel between workers.
    """
    import dask

    covs, beta, V = model_arrays(model)
    if method == "auto":
        method, _table = choose_method(str(paths[0]), covs, weight=weight)
    if method == "rows":
        tasks = [dask.delayed(row_sums)(beta, covs, str(p), weight=weight,
                                        batch_size=batch_size) for p in paths]
    else:
        tasks = [dask.delayed(collapse_census)(str(p), covs, weight=weight,
                                               batch_size=batch_size,
                                               max_patterns=np.iinfo(np.int64).max)
                 for p in paths]
    if client is not None:
        parts = client.gather(client.compute(tasks))
    else:
        parts = list(dask.compute(*tasks))
    if method == "rows":
        return score_sums(merge_sums(parts), V)
    return score_patterns(merge_tables(parts), beta, V, covs)


def merge_sums(parts: Sequence[RowSums]) -> RowSums:
    """Add the per-territory sums of row passes over disjoint parts of one census."""
    tids = np.array(sorted({str(t) for s in parts for t in s.territory_ids}), dtype=object)
    pos = {t: i for i, t in enumerate(tids)}
    k = parts[0].G.shape[1]
    N, S, G = np.zeros(len(tids)), np.zeros(len(tids)), np.zeros((len(tids), k))
    for s in parts:
        idx = np.array([pos[str(t)] for t in s.territory_ids], dtype=np.intp)
        N[idx] += s.N
        S[idx] += s.S
        G[idx] += s.G
    return RowSums(tids, N, S, G, None, None, sum(s.n_rows for s in parts),
                   any(s.weighted for s in parts))


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
