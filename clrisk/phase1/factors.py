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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.errors import DataError, data_error
from clrisk.i18n import _
from clrisk.phase1.factors_shapley import FactorSpec
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


# =============================================================================================
# Instrument 2 (issue 13): modifiable factors, one-directional counterfactuals, exact Shapley
# weights that add up to the joint effect, intervals and P(rank 1) from coefficient draws.
# =============================================================================================
EXACT_LIMIT = 12
PERMUTATIONS = 64
# cells x draws evaluated for the intervals: beyond this (a 10-million-row census that does
# not collapse, with 200 draws) the intervals use the first draws only, with a note.
MAX_DRAW_CELLS = 300_000_000
MIN_DRAWS = 40
METHODS = ("shapley", "one_at_a_time")
WEIGHT_COLUMNS = [TERRITORY_ID, "factor", "kind", "role", "sector", "reference", "method",
                  "territory_children", "mean_probability", "delta_pp", "children", "share",
                  "rank", "tie", "ci_low_pp", "ci_high_pp", "p_rank1", "children_moved"]
NATIONAL_COLUMNS = ["factor", "kind", "role", "sector", "reference", "method", "children",
                    "delta_pp", "share", "rank", "tie", "ci_low_pp", "ci_high_pp", "p_rank1",
                    "children_moved"]
JOINT_COLUMNS = [TERRITORY_ID, "joint_reduction_pp", "joint_ci_low_pp", "joint_ci_high_pp",
                 "joint_children"]


class FactorMethodWarning(UserWarning):
    """The exact decomposition was replaced by an approximation (too many factors)."""


@dataclass
class Instrument2Result:
    """What instrument 2 computes for one country.

    ``factor_weights`` (one row per territory and modifiable factor), ``national_factors``
    (children-weighted national ranking), ``markers`` (who is at risk, nationally and per
    region), ``joint`` (per territory: effect of moving all modifiable factors at once, which
    the Shapley weights add up to), ``national_joint`` (the same nationally, dict) and
    ``notes`` (translated messages, e.g. a fallback)."""

    factor_weights: pd.DataFrame
    national_factors: pd.DataFrame
    markers: pd.DataFrame
    joint: pd.DataFrame
    national_joint: dict[str, float] = field(default_factory=dict)
    method: str = "shapley"
    notes: list[str] = field(default_factory=list)


def factor_specs(model: Any, raw_names: Sequence[str], profile: Any = None,
                 factors: Mapping[str, float] | None = None, *,
                 sectors: Mapping[str, str | None] | None = None,
                 roles: Mapping[str, str] | None = None, source: str = "profile.yaml"
                 ) -> list[FactorSpec]:
    """The modifiable factors to weigh: from ``factors`` (name -> reference) or the profile
    (``Profile.factors``/``factor_sectors``/``factor_roles``), else the catalogue's modifiable
    covariates of the model. A factor that is not a measured covariate is a DataError."""
    if factors is None and profile is not None and getattr(profile, "factors", None) is not None:
        factors = dict(profile.factors)
        sectors = {**dict(getattr(profile, "factor_sectors", {}) or {}), **dict(sectors or {})}
        roles = {**dict(getattr(profile, "factor_roles", {}) or {}), **dict(roles or {})}
    if factors is None:
        factors = {c: float(COVARIATES[c].reference) for c in raw_names
                   if c in COVARIATES and COVARIATES[c].factor_kind == "modifiable"
                   and COVARIATES[c].reference is not None}
    sectors, roles = dict(sectors or {}), dict(roles or {})
    names = list(raw_names)
    specs = []
    for f, ref in factors.items():
        if f not in names:
            raise DataError(_(
                "{src}: factor '{f}' is not a measured covariate of the model ({covs}). Fix: "
                "list as factors only covariates the survey and census hold (profile.yaml "
                "covariates: factor:), or add '{f}' to the covariates").format(
                    src=source, f=f, covs=", ".join(names)))
        cat = COVARIATES.get(f)
        role = roles.get(f) or ("protective" if cat is not None and cat.expected_sign < 0
                                else "risk")
        specs.append(FactorSpec(f, float(ref), role,
                                sectors.get(f) or (cat.sector if cat else None), names.index(f)))
    return specs


def _coefficients(model: Any, draws: Any, n_draws: int, seed: int, tids: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """(coefs (D+1, p) with row 0 = β̂, effects (T, D+1) or None) in design order.

    ``draws``: None (β drawn from N(β̂, V) with ``seed``), an array (D, p) of β draws in
    design order, or an object/dict with ``beta`` and optional ``u`` (D, T) territory effects
    and ``u_hat`` (T,) (the draws P(top) uses; with ``territory_ids`` the effects are aligned
    to the census's territories). Without ``u_hat`` the point estimate uses the mean of the
    effect draws, so the intervals are centred on it."""
    n_territories = len(tids)
    covs, beta, _V = model_arrays(model)
    names = ["const", *covs]
    u = u_hat = None
    if draws is None:
        B = np.asarray(model.draw_coefficients(n_draws, seed), dtype=np.float64)
        params = list(pd.Series(model.params).index)
        B = B[:, [params.index(n) for n in names]]
    else:
        if isinstance(draws, Mapping):
            B, u, u_hat = draws.get("beta"), draws.get("u"), draws.get("u_hat")
        elif hasattr(draws, "beta"):
            B, u, u_hat = draws.beta, getattr(draws, "u", None), getattr(draws, "u_hat", None)
            order = getattr(draws, "territory_ids", None)
            if u is not None and order is not None:
                pos = {str(t): i for i, t in enumerate(order)}
                idx = np.array([pos.get(str(t), -1) for t in tids])
                u = np.where(idx >= 0, np.asarray(u)[:, np.clip(idx, 0, None)], 0.0)
        else:
            B = draws
        if isinstance(B, pd.DataFrame):
            B = B[names].to_numpy()
        B = np.asarray(B, dtype=np.float64)
        if B.ndim != 2 or B.shape[1] != len(names):
            raise ValueError(f"coefficient draws must be (D, {len(names)}), got {B.shape}")
    coefs = np.vstack([beta[None, :], B])
    effects = None
    if u is not None:
        u = np.asarray(u, dtype=np.float64)
        if u.shape != (B.shape[0], n_territories):
            raise ValueError(f"territory effects must be (D, T) = ({B.shape[0]}, "
                             f"{n_territories}), got {u.shape}")
        u0 = u.mean(axis=0) if u_hat is None else np.asarray(u_hat, dtype=np.float64)
        effects = np.column_stack([u0, u.T])
    return coefs, effects


def _ranks(point: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks (1 = largest reduction) with ties, tie flags and P(rank 1).

    ``point`` (T, k), ``draws`` (T, k, D). Factors are ordered by their point estimate; a
    factor shares the rank of the first factor of its group when the 95% interval of their
    paired difference over the draws includes 0 (they cannot be told apart), else it starts
    a new group; ties are reported as ties and never broken by name. P(rank 1) is the share
    of draws in which the factor has the largest reduction (a draw's exact ties split
    equally): it sums to 1."""
    T, k = point.shape
    order = np.argsort(-point, axis=1, kind="stable")
    rank = np.empty((T, k), dtype=np.int64)
    tie = np.zeros((T, k), dtype=bool)
    rows = np.arange(T)
    rank[rows, order[:, 0]] = 1
    head = order[:, 0].copy()  # first factor of the current group of indistinguishable ones
    for pos in range(1, k):
        here = order[:, pos]
        if draws.shape[2]:
            diff = draws[rows, head, :] - draws[rows, here, :]
            same = np.quantile(diff, 0.025, axis=1) <= 0
        else:
            same = np.zeros(T, dtype=bool)
        same |= point[rows, head] == point[rows, here]
        rank[rows, here] = np.where(same, rank[rows, head], pos + 1)
        tie[rows, here] |= same
        tie[rows, head] |= same
        head = np.where(same, head, here)
    if draws.shape[2] == 0 or k == 0:
        return rank, tie, np.full((T, k), 1.0 / max(k, 1))
    top = draws.max(axis=1, keepdims=True)
    is_top = draws == top
    p1 = (is_top / is_top.sum(axis=1, keepdims=True)).mean(axis=2)
    return rank, tie, p1


def instrument2(model: Any, source: Any, profile: Any = None, *, draws: Any = None,
                n_draws: int = 200, seed: int = 12345, method: str = "shapley",
                factors: Mapping[str, float] | None = None,
                sectors: Mapping[str, str | None] | None = None,
                roles: Mapping[str, str] | None = None,
                markers: Sequence[str] | None = None,
                regions: Mapping[str, str] | None = None, weight: str | None = None,
                exact_limit: int = EXACT_LIMIT) -> Instrument2Result:
    """Factor weights of the modifiable factors, markers and the joint effect, in one pass.

    ``source``: a :class:`~clrisk.phase1.census_source.CensusSource` (or anything
    :func:`~clrisk.phase1.census_source.resolve_census` accepts). ``method``: ``"shapley"``
    (default; additive) or ``"one_at_a_time"`` (not additive; each factor moved alone).
    ``draws``: see :func:`_coefficients`; intervals and P(rank 1) come from them.
    ``regions`` maps territory_id -> region_id for the markers table. More than
    ``exact_limit`` factors: Shapley values are estimated from random factor orders (seeded),
    with a message."""
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.factors_shapley import accumulate, permutation_shapley
    from clrisk.phase1.markers import MarkerSums
    from clrisk.phase1.terms import raw_covariates

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    raw = raw_covariates(model)
    src = resolve_census(source, raw, weight=weight)
    raw_names = list(src.covariates)
    missing = [c for c in raw if c not in raw_names]
    if missing:
        raise DataError(_("{src}: the census lacks covariate(s) {cols} of the model. Fix: add "
                          "them to the census or map them in profile.yaml").format(
                              src=src.name, cols=", ".join(missing)))
    where = profile.where() if profile is not None and hasattr(profile, "where") else \
        "profile.yaml"
    specs = factor_specs(model, raw_names, profile, factors, sectors=sectors, roles=roles,
                         source=where)
    if not specs:
        raise DataError(_("{src}: no modifiable factor is declared. Fix: give at least one "
                          "covariate 'kind: modifiable' with 'factor: {{reference, sector}}'"
                          ).format(src=where))
    if markers is None:
        markers = list(getattr(profile, "markers", None) or [
            c for c in raw_names if c in COVARIATES and COVARIATES[c].factor_kind == "marker"])
    markers = [m for m in markers if m not in {f.name for f in specs}]
    tids = np.asarray(src.territory_ids).astype(str)
    T, k = len(tids), len(specs)
    coefs, effects = _coefficients(model, draws, n_draws, seed, tids)
    msum = MarkerSums(markers, raw_names, T)
    notes: list[str] = []
    n_d = coefs.shape[0] - 1
    keep = max(MIN_DRAWS, MAX_DRAW_CELLS // max(1, int(getattr(src, "n_cells", 1))))
    if n_d > keep:
        notes.append(_("The intervals of the factor weights use {d} of the {n} draws: the "
                       "census has {c:,} cells, and each draw costs one pass over them."
                       ).format(d=keep, n=n_d, c=int(src.n_cells)))
        coefs = coefs[:keep + 1]
        effects = effects[:, :keep + 1] if effects is not None else None
    if k > exact_limit and method == "shapley":
        note = _("{k} modifiable factors: exact Shapley values need 2^{k} = {n:,} "
                 "counterfactuals per group of children (doubling with every factor); above "
                 "{lim} they are estimated from {p} random orders of the factors (seed {seed}), "
                 "which still add up to the joint effect. Fewer factors give exact values."
                 ).format(k=k, n=2 ** k, lim=exact_limit, p=PERMUTATIONS, seed=seed)
        warnings.warn(note, FactorMethodWarning, stacklevel=2)
        notes.append(note)
        sums = permutation_shapley(model, src.blocks, T, raw_names, specs, coefs, effects,
                                   PERMUTATIONS, seed)
        _marker_pass(model, src, raw_names, coefs, effects, msum)
    else:
        sums = accumulate(model, src, T, raw_names, specs, coefs, effects,
                          exact=method == "shapley", on_block=msum if msum.markers else None)
    _check_references(specs, sums, where)
    N = np.asarray(src.children, dtype=np.float64)
    red = sums.shapley if method == "shapley" else sums.one_at_a_time
    fw, nat, joint, njoint = _tables(tids, N, sums, red, specs, method)
    return Instrument2Result(fw, nat, msum.table(tids, regions), joint, njoint, method, notes)


def _marker_pass(model, src, raw_names, coefs, effects, msum) -> None:
    """Marker sums when the factor pass did not produce them (permutation fallback)."""
    if not msum.markers:
        return
    from clrisk.phase1.terms import design_rows

    for b in src.blocks():
        eta = design_rows(model, b.X, raw_names) @ coefs[0]
        if effects is not None:
            eta = eta + effects[b.territory_codes, 0]
        msum(np.asarray(b.territory_codes), b.X, b.weights, expit(eta))


def _check_references(specs, sums, where: str) -> None:
    for j, f in enumerate(specs):
        lo, hi = sums.lo[j], sums.hi[j]
        if f.reference < lo or f.reference > hi:
            raise DataError(_(
                "{src}: the reference of factor '{f}' ({r:g}) is outside the values observed "
                "in the census ({lo:g} to {hi:g}); the counterfactual would extrapolate. Fix: "
                "choose a protective value children actually have, between {lo:g} and {hi:g}"
            ).format(src=where, f=f.name, r=f.reference, lo=lo, hi=hi))


def _tables(tids, N, sums, red, specs, method):
    """Long per-territory table, national ranking and the joint effect."""
    T, k, Dp = red.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        share_of = (lambda d, j: d / j) if method == "shapley" else None
        pp = 100.0 * red / N[:, None, None]
        point, dr = pp[:, :, 0], pp[:, :, 1:]
        joint = 100.0 * (sums.base - sums.all) / N[:, None]
        rank, tie, p1 = _ranks(point, dr)
        lo = np.quantile(dr, 0.025, axis=2) if Dp > 1 else point
        hi = np.quantile(dr, 0.975, axis=2) if Dp > 1 else point
        if share_of is not None:
            share = np.where(joint[:, :1] != 0, point / joint[:, :1], 0.0)
        else:
            pos = np.clip(point, 0, None)
            tot = pos.sum(axis=1, keepdims=True)
            share = np.where(tot > 0, pos / np.where(tot > 0, tot, 1), 0.0)
    names = np.array([f.name for f in specs], dtype=object)
    fw = pd.DataFrame({
        TERRITORY_ID: np.repeat(tids, k).astype(object),
        "factor": np.tile(names, T),
        "kind": "modifiable",
        "role": np.tile(np.array([f.role for f in specs], dtype=object), T),
        "sector": np.tile(np.array([f.sector for f in specs], dtype=object), T),
        "reference": np.tile(np.array([f.reference for f in specs]), T),
        "method": method,
        "territory_children": np.repeat(N, k),
        "mean_probability": np.repeat(sums.base[:, 0] / N, k),
        "delta_pp": point.ravel(),
        "children": red[:, :, 0].ravel(),
        "share": share.ravel(),
        "rank": rank.ravel(),
        "tie": tie.ravel(),
        "ci_low_pp": lo.ravel(),
        "ci_high_pp": hi.ravel(),
        "p_rank1": p1.ravel(),
        "children_moved": sums.moved.ravel(),
    }, columns=WEIGHT_COLUMNS)
    fw["_pos"] = np.tile(np.arange(k), T)
    fw = fw.sort_values([TERRITORY_ID, "rank", "delta_pp", "_pos"],
                        ascending=[True, True, False, True], kind="stable")
    fw = fw.drop(columns="_pos").reset_index(drop=True)
    jt = pd.DataFrame({TERRITORY_ID: tids.astype(object),
                       "joint_reduction_pp": joint[:, 0],
                       "joint_ci_low_pp": np.quantile(joint[:, 1:], 0.025, axis=1)
                       if Dp > 1 else joint[:, 0],
                       "joint_ci_high_pp": np.quantile(joint[:, 1:], 0.975, axis=1)
                       if Dp > 1 else joint[:, 0],
                       "joint_children": (sums.base - sums.all)[:, 0]}, columns=JOINT_COLUMNS)
    # national: children-weighted, i.e. sums over territories (draw by draw)
    Ntot = float(N.sum())
    nred = red.sum(axis=0)  # (k, D+1)
    npp = 100.0 * nred / Ntot
    njoint = 100.0 * (sums.base - sums.all).sum(axis=0) / Ntot
    nrank, ntie, np1 = _ranks(npp[None, :, 0], npp[None, :, 1:])
    if method == "shapley":
        nshare = npp[:, 0] / njoint[0] if njoint[0] != 0 else np.zeros(k)
    else:
        pos = np.clip(npp[:, 0], 0, None)
        nshare = pos / pos.sum() if pos.sum() > 0 else np.zeros(k)
    nat = pd.DataFrame({
        "factor": names, "kind": "modifiable", "role": [f.role for f in specs],
        "sector": [f.sector for f in specs], "reference": [f.reference for f in specs],
        "method": method, "children": nred[:, 0], "delta_pp": npp[:, 0], "share": nshare,
        "rank": nrank[0], "tie": ntie[0],
        "ci_low_pp": np.quantile(npp[:, 1:], 0.025, axis=1) if Dp > 1 else npp[:, 0],
        "ci_high_pp": np.quantile(npp[:, 1:], 0.975, axis=1) if Dp > 1 else npp[:, 0],
        "p_rank1": np1[0], "children_moved": sums.moved.sum(axis=0)}, columns=NATIONAL_COLUMNS)
    nat = nat.sort_values(["rank", "delta_pp"], ascending=[True, False], kind="stable")
    nat = nat.reset_index(drop=True)
    nj = {"joint_reduction_pp": float(njoint[0]),
          "joint_ci_low_pp": float(np.quantile(njoint[1:], 0.025)) if Dp > 1 else
          float(njoint[0]),
          "joint_ci_high_pp": float(np.quantile(njoint[1:], 0.975)) if Dp > 1 else
          float(njoint[0]),
          "joint_children": float((sums.base - sums.all)[:, 0].sum()),
          "children": Ntot, "mean_probability": float(sums.base[:, 0].sum() / Ntot)}
    return fw, nat, jt, nj


def pipeline_draws(estimates: Any) -> Any:
    """The coefficient (and territory-effect) draws P(top) used, from the small-area step's
    result (``TerritoryEstimates``): its small-area draws when they drive the levels, else its
    synthetic-projection draws; None when there are none (instrument 2 then draws β itself)."""
    if estimates is None:
        return None
    for name in ("draws", "synthetic"):
        d = getattr(estimates, name, None)
        if d is not None and getattr(d, "beta", None) is not None:
            return d
    return None


def apply_instrument2(result: Any, data: Any, source: Any, *, estimates: Any = None,
                      draws: int = 200, seed: int = 12345) -> Any:
    """Run instrument 2 inside ``run_country`` and store it on the run's result.

    Sets ``factor_weights``, ``national_factors`` (modifiable factors only), ``markers`` (who
    is at risk), ``factor_joint`` (national joint effect) and ``factor_notes``, and adds
    ``joint_reduction_pp`` to ``territories``. Uses the same draws as P(top) when the
    small-area step exposes them (``estimates``), else ``draws`` coefficient draws with
    ``seed``. Returns the :class:`Instrument2Result`."""
    profile = data.profile
    regions = dict(zip(data.territories[TERRITORY_ID].astype(str),
                       data.territories["region_id"].astype(str), strict=False))
    res = instrument2(result.model, source, profile, draws=pipeline_draws(estimates),
                      n_draws=draws, seed=seed, regions=regions)
    result.factor_weights = res.factor_weights
    result.national_factors = res.national_factors
    result.markers = res.markers
    result.factor_joint = res.national_joint
    result.factor_notes = res.notes
    if result.territories is not None:
        terr = result.territories.drop(columns=["joint_reduction_pp"], errors="ignore")
        result.territories = terr.merge(res.joint[[TERRITORY_ID, "joint_reduction_pp"]],
                                        on=TERRITORY_ID, how="left")
    return res
