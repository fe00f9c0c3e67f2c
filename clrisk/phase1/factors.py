"""Instrument 2: the weight of each risk/protection factor in each territory.

For factor j with reference value r_j (0 for a binary risk factor; the protective value for a
protective one), the counterfactual mean probability p_t^(j) sets x_j = r_j for every child of
territory t. The weight is Delta_tj = p_t - p_t^(j) (reported in percentage points), the children
it represents N_t * Delta_tj, and its share among the factors with a positive reduction in t.

Why on the pattern table: setting x_j = r_j maps each pattern to one counterfactual pattern, so
every factor costs one (patterns x covariates) product and one sparse (territories x patterns)
product, whatever the number of children.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.errors import data_error
from clrisk.phase1.patterns import (
    DEFAULT_BATCH_SIZE,
    PatternTable,
    TooManyPatterns,
    as_pattern_table,
    choose_method,
    source_name,
)
from clrisk.phase1.rowpass import RowSums, row_sums
from clrisk.phase1.scoring import model_arrays, score_patterns, score_sums
from clrisk.schema import COVARIATES, TERRITORY_ID

FACTOR_COLUMNS = [TERRITORY_ID, "factor", "sector", "reference", "territory_children",
                  "mean_probability", "counterfactual_probability", "delta_pp", "children",
                  "share", "rank"]


def default_factors(covariates: list[str], profile: Any = None
                    ) -> tuple[dict[str, float], dict[str, str | None]]:
    """Factors and their sectors among ``covariates``: from the profile (``factor: {reference,
    sector}`` entries, exposed as ``Profile.factors`` / ``Profile.factor_sectors``), else the
    catalogue references in :data:`clrisk.schema.COVARIATES`."""
    if profile is not None and getattr(profile, "factors", None) is not None:
        prof_refs = dict(profile.factors)
        prof_sec = dict(getattr(profile, "factor_sectors", {}) or {})
        refs = {c: float(prof_refs[c]) for c in covariates if c in prof_refs}
        return refs, {c: prof_sec.get(c) for c in refs}
    refs, sectors = {}, {}
    for c in covariates:
        spec = COVARIATES.get(c)
        if spec is not None and spec.reference is not None:
            refs[c] = float(spec.reference)
            sectors[c] = spec.sector
    return refs, sectors


def _resolve(covs: list[str], census: Any, factors: Mapping[str, float] | None,
             sectors: Mapping[str, str | None] | None
             ) -> tuple[list[str], np.ndarray, dict[str, str | None]]:
    if factors is None:
        factors, default_sectors = default_factors(covs)
        sectors = {**default_sectors, **(sectors or {})}
    sectors = dict(sectors or {})
    for f in factors:
        if f not in covs:
            raise data_error(source_name(census), f"factor '{f}' is not a covariate of the "
                             "model", "list only model covariates as factors (profile.yaml "
                             "covariates: factor:)", f)
        sectors.setdefault(f, COVARIATES[f].sector if f in COVARIATES else None)
    names = list(factors)
    if not names:
        raise data_error(source_name(census), "no factor has a reference value",
                         "give factors a reference in profile.yaml (factor: {reference: ..})")
    return names, np.array([float(factors[f]) for f in names]), sectors


def _table_or_none(census: Any, covs: list[str], weight: str | None, batch_size: int,
                   method: str) -> PatternTable | None:
    """The pattern table when collapsing is chosen (and possible), else None (row pass)."""
    if method not in ("auto", "patterns", "rows"):
        raise ValueError(f"method must be 'auto', 'patterns' or 'rows', not {method!r}")
    if isinstance(census, PatternTable):
        return as_pattern_table(census, covs)
    if method == "auto":
        method, table = choose_method(census, covs, weight=weight)
        if table is not None:
            return table
    if method == "rows":
        return None
    try:
        return as_pattern_table(census, covs, weight=weight, batch_size=batch_size)
    except TooManyPatterns:
        return None


def factor_weights(model: Any, census: PatternTable | pd.DataFrame | str | Path,
                   factors: Mapping[str, float] | None = None, *,
                   sectors: Mapping[str, str | None] | None = None, weight: str | None = None,
                   batch_size: int = DEFAULT_BATCH_SIZE, method: str = "auto") -> pd.DataFrame:
    """Long table: one row per (territory, factor), sorted by territory_id then rank.

    ``factors`` maps covariate -> reference value (default: the catalogue's references for the
    model's covariates); ``sectors`` maps covariate -> sector (default: the catalogue's).
    ``census`` is a DataFrame, a Parquet path or a :class:`PatternTable`. ``method`` as in
    :func:`~clrisk.phase1.scoring.score_territories`: on the row pass each factor's
    counterfactual reuses the child's linear predictor and is recomputed only for the
    children not already at the reference value.
    """
    covs, beta, _V = model_arrays(model)
    names, refs, sectors = _resolve(covs, census, factors, sectors)
    table = _table_or_none(census, covs, weight, batch_size, method)
    if table is None:
        tids, N, base, cf = _factor_rows(covs, beta, names, refs, census, weight, batch_size)
    else:
        tids, N, base, cf = _factor_patterns(table, covs, beta, names, refs)
    return _long_table(tids, N, base, cf, names, refs, sectors)


def score_and_factors(model: Any, census: PatternTable | pd.DataFrame | str | Path,
                      factors: Mapping[str, float] | None = None, *,
                      sectors: Mapping[str, str | None] | None = None,
                      weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                      method: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`score_territories` and :func:`factor_weights` from ONE read of the census.

    Why: on a census that does not collapse, each of the two reads every child; here the row
    pass accumulates the scoring sums and every factor's counterfactual sums together (about
    the cost of reading the census plus the factors' arithmetic). On a collapsible census the
    pattern table is built once and both are computed on it. Same numbers as the two calls.
    """
    covs, beta, V = model_arrays(model)
    names, refs, sectors = _resolve(covs, census, factors, sectors)
    table = _table_or_none(census, covs, weight, batch_size, method)
    if table is not None:
        scores = score_patterns(table, beta, V, covs)
        tids, N, base, cf = _factor_patterns(table, covs, beta, names, refs)
    else:
        sums = row_sums(beta, covs, census, weight=weight, batch_size=batch_size,
                        factors=list(zip(names, refs, strict=True)))
        scores = score_sums(sums, V)
        tids, N, base, cf = _sums_factors(sums)
    return scores, _long_table(tids, N, base, cf, names, refs, sectors)


def _sums_factors(sums: RowSums):
    tids = sums.territory_ids.astype(str)
    return tids, sums.N, sums.S / sums.N, sums.F / sums.N[:, None]


def _factor_patterns(table: PatternTable, covs: list[str], beta: np.ndarray,
                     names: list[str], refs: np.ndarray):
    Xd = table.design(covs)
    N = table.children
    base = (table.counts @ expit(Xd @ beta)) / N
    cf = np.empty((len(N), len(names)))
    for j, (f, r) in enumerate(zip(names, refs, strict=True)):
        col = 1 + covs.index(f)
        eta = Xd @ beta + (r - Xd[:, col]) * beta[col]
        cf[:, j] = (table.counts @ expit(eta)) / N
    return table.territory_ids.astype(str), N, base, cf


def _factor_rows(covs, beta, names, refs, census, weight, batch_size):
    """Exact per-territory sums from one pass over the rows (no collapsing)."""
    return _sums_factors(row_sums(beta, covs, census, weight=weight, batch_size=batch_size,
                                  factors=list(zip(names, refs, strict=True))))


def _long_table(tids, N, base, cf, names, refs, sectors) -> pd.DataFrame:
    nt, nf = cf.shape
    delta = base[:, None] - cf
    pos = np.where(delta > 0, delta, 0.0)
    tot = pos.sum(axis=1, keepdims=True)
    share = np.divide(pos, tot, out=np.zeros_like(pos), where=tot > 0)
    # rank 1 = largest reduction; ties broken by factor name for determinism
    name_order = np.argsort(np.argsort(np.array(names)))
    order = np.lexsort((np.broadcast_to(name_order, (nt, nf)), -delta), axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, nf + 1)[None, :].repeat(nt, 0), axis=1)
    out = pd.DataFrame({
        TERRITORY_ID: np.repeat(tids, nf).astype(object),
        "factor": np.tile(np.array(names, dtype=object), nt),
        "sector": np.tile(np.array([sectors.get(f) for f in names], dtype=object), nt),
        "reference": np.tile(refs, nt),
        "territory_children": np.repeat(N, nf),
        "mean_probability": np.repeat(base, nf),
        "counterfactual_probability": cf.ravel(),
        "delta_pp": 100.0 * delta.ravel(),
        "children": (N[:, None] * delta).ravel(),
        "share": share.ravel(),
        "rank": rank.ravel().astype(np.int64),
    })
    return out.sort_values([TERRITORY_ID, "rank"], kind="stable").reset_index(drop=True)


def national_factor_ranking(weights: pd.DataFrame) -> pd.DataFrame:
    """Children-weighted national ranking of factors from :func:`factor_weights` output.

    ``children`` is the national total N_t * Delta_tj; ``delta_pp`` the national reduction of the
    mean probability (children-weighted mean of territory reductions); ``share`` among the
    factors with a positive national reduction; rank 1 = largest.
    """
    total_children = weights.drop_duplicates(TERRITORY_ID)["territory_children"].sum()
    g = weights.groupby(["factor"], sort=True).agg(sector=("sector", "first"),
                                                  children=("children", "sum"))
    g["delta_pp"] = 100.0 * g["children"] / total_children
    pos = g["children"].clip(lower=0)
    g["share"] = pos / pos.sum() if pos.sum() > 0 else 0.0
    g = g.reset_index().sort_values(["children", "factor"], ascending=[False, True],
                                    kind="stable")
    g["rank"] = np.arange(1, len(g) + 1)
    return g[["factor", "sector", "children", "delta_pp", "share", "rank"]].reset_index(
        drop=True)
