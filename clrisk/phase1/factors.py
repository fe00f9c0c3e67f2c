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
    check_children,
    iter_census,
    source_name,
)
from clrisk.phase1.scoring import model_arrays
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


def factor_weights(model: Any, census: PatternTable | pd.DataFrame | str | Path,
                   factors: Mapping[str, float] | None = None, *,
                   sectors: Mapping[str, str | None] | None = None, weight: str | None = None,
                   batch_size: int = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
    """Long table: one row per (territory, factor), sorted by territory_id then rank.

    ``factors`` maps covariate -> reference value (default: the catalogue's references for the
    model's covariates); ``sectors`` maps covariate -> sector (default: the catalogue's).
    ``census`` is a DataFrame, a Parquet path or a :class:`PatternTable`.
    """
    covs, beta, _V = model_arrays(model)
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
    refs = np.array([float(factors[f]) for f in names])
    try:
        table = as_pattern_table(census, covs, weight=weight, batch_size=batch_size)
    except TooManyPatterns:
        tids, N, base, cf = _factor_rows(covs, beta, names, refs, census, weight, batch_size)
    else:
        tids, N, base, cf = _factor_patterns(table, covs, beta, names, refs)
    return _long_table(tids, N, base, cf, names, refs, sectors)


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
    """Exact per-territory sums row by row (fallback when patterns are too many)."""
    index: dict[str, int] = {}
    N = np.zeros(0)
    S = np.zeros((0, 1 + len(names)))
    cols = [1 + covs.index(f) for f in names]
    for b in iter_census(census, covs, weight=weight, batch_size=batch_size):
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in b.territory_values),
                           dtype=np.int64, count=len(b.territory_values))
        t = tmap[b.territory_codes]
        m = len(index)
        N = np.pad(N, (0, m - len(N)))
        S = np.pad(S, ((0, m - S.shape[0]), (0, 0)))
        Xd = np.column_stack([np.ones(len(t)), b.X])
        eta = Xd @ beta
        N += np.bincount(t, weights=b.weights, minlength=m)
        S[:, 0] += np.bincount(t, weights=b.weights * expit(eta), minlength=m)
        for j, (col, r) in enumerate(zip(cols, refs, strict=True)):
            p = expit(eta + (r - Xd[:, col]) * beta[col])
            S[:, 1 + j] += np.bincount(t, weights=b.weights * p, minlength=m)
    tids = np.array(list(index), dtype=object).astype(str)
    check_children(tids, N, source_name(census))
    order = np.argsort(tids, kind="stable")
    S = S[order] / N[order][:, None]
    return tids[order], N[order], S[:, 0], S[:, 1:]


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
