"""Risk levels of territories (METHODOLOGY item 6) and P(top level) from coefficient draws.

Methods (the class boundaries follow mapclassify's convention: a value equal to an upper bound
belongs to the lower class):

* ``quantiles`` (default): k groups of (nearly) equal size; bounds at the 100/k percentiles
  (linear interpolation, as ``mapclassify.Quantiles``).
* ``fisher_jenks``: natural breaks minimising the within-level sum of squares (exact dynamic
  programme; with more than ``FJ_MAX_POINTS`` territories it is solved on that many evenly
  spaced order statistics — deterministic, unlike ``mapclassify.FisherJenksSampled``).
* ``mean_sd``: bounds at mean + m * sd (sample sd) with multiples m = -1, +1 for k = 3
  (below mean - sd / within one sd / above mean + sd); k = 2: 0; k = 4: -1, 0, 1; k = 5:
  -2, -1, 1, 2.
* ``fixed``: the k - 1 inner cut-offs given by the profile (``cutoffs``).

Why P(top level) (beyond the original): a "high" label computed from point estimates hides how
close a territory is to the boundary. We draw B coefficient vectors beta_b ~ N(beta, V),
recompute every territory's mean probability and the classification for each draw, and report
the share of draws in which the territory is in the top level. On the pattern table this is a
(B x patterns) matrix product done in chunks (exact). On a census that does not collapse, one
row pass accumulates each territory's gradient and Hessian and every draw uses the second-order
expansion of the territory mean (error measured and bounded: see
:func:`draw_mean_probabilities`); ``exact=True`` recomputes every draw on every child. Either
way 200 draws over a 10-million-child census take seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase1.census_source import CensusSource, resolve_census
from clrisk.phase1.patterns import PatternTable, iter_census
from clrisk.phase1.rowpass import RowSums, row_sums
from clrisk.phase1.scoring import model_arrays
from clrisk.schema import TERRITORY_ID

METHODS = ("quantiles", "fisher_jenks", "mean_sd", "fixed")
FJ_MAX_POINTS = 1000
FJ_DRAW_POINTS = 250
EXPANSION_TOL = 1e-3  # largest bound on the expansion's expected remainder accepted
_MEAN_SD_MULTIPLES = {2: [0.0], 3: [-1.0, 1.0], 4: [-1.0, 0.0, 1.0], 5: [-2.0, -1.0, 1.0, 2.0]}


def level_labels(k: int) -> list[str]:
    """Translated level names for k levels (1 = lowest)."""
    names = {
        2: [_("Low"), _("High")],
        3: [_("Low"), _("Medium"), _("High")],
        4: [_("Low"), _("Medium-low"), _("Medium-high"), _("High")],
        5: [_("Very low"), _("Low"), _("Medium"), _("High"), _("Very high")],
    }
    if k in names:
        return names[k]
    return [_("Level {n}").format(n=i) for i in range(1, k + 1)]


def _fisher_jenks_bounds(y: np.ndarray, k: int) -> np.ndarray:
    """Exact 1-D Fisher optimal partition of sorted ``y`` into k classes; inner upper bounds."""
    x = np.sort(y)
    n = len(x)
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    cnt = np.where(j >= i, j - i + 1, 1)
    sse = (s2[j + 1] - s2[i]) - (s1[j + 1] - s1[i]) ** 2 / cnt
    sse = np.where(j >= i, sse, np.inf)  # sse[i, j]: class from i to j inclusive
    D = sse[0].copy()
    back = []
    for _c in range(1, k):
        prev = np.concatenate([[np.inf], D[:-1]])  # D[i-1] for class starting at i
        cand = prev[:, None] + sse
        arg = np.argmin(cand, axis=0)
        D = cand[arg, np.arange(n)]
        back.append(arg)
    ends = []
    end = n - 1
    for arg in reversed(back):
        start = arg[end]
        ends.append(start - 1)
        end = start - 1
    return x[np.array(sorted(ends), dtype=np.int64)]


def _thin(y: np.ndarray, points: int) -> np.ndarray:
    if len(y) <= points:
        return y
    return np.quantile(y, np.linspace(0.0, 1.0, points))


def class_bounds(y: np.ndarray, method: str, k: int, cutoffs: Sequence[float] | None = None,
                 fj_points: int = FJ_MAX_POINTS) -> np.ndarray:
    """Inner upper bounds (k - 1 values) of the levels of ``y`` for ``method``."""
    y = np.asarray(y, dtype=np.float64)
    if method == "quantiles":
        return np.percentile(y, 100.0 * np.arange(1, k) / k)
    if method == "mean_sd":
        mult = _MEAN_SD_MULTIPLES.get(k)
        if mult is None:
            raise ValueError(_("mean_sd supports k = 2 to 5"))
        sd = y.std(ddof=1) if len(y) > 1 else 0.0
        return y.mean() + sd * np.array(mult)
    if method == "fisher_jenks":
        return _fisher_jenks_bounds(_thin(y, fj_points), k)
    if method == "fixed":
        if cutoffs is None or len(cutoffs) != k - 1:
            raise ValueError(_("fixed cut-offs need k - 1 values (got {got})").format(
                got=None if cutoffs is None else len(cutoffs)))
        c = np.asarray(cutoffs, dtype=np.float64)
        if np.any(np.diff(c) <= 0):
            raise ValueError(_("fixed cut-offs must be increasing"))
        return c
    raise ValueError(_("unknown classification method {m}; choose one of {all}").format(
        m=method, all=", ".join(METHODS)))


def assign_levels(y: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Levels 1..k (value equal to a bound goes to the lower level, as mapclassify)."""
    return np.searchsorted(np.asarray(bounds), np.asarray(y), side="left") + 1


def classify_risk(territories: pd.DataFrame, method: str = "quantiles", k: int = 3, *,
                  cutoffs: Sequence[float] | None = None, column: str = "mean_probability",
                  model: Any = None, patterns: PatternTable | None = None,
                  census: CensusSource | PatternTable | pd.DataFrame | str | Path | None = None,
                  weight: str | None = None, draws: int = 200, seed: int = 12345,
                  chunk_elements: int = 20_000_000, exact: bool = False) -> pd.DataFrame:
    """Add ``risk_level`` (1..k), ``risk_label`` and, with a model and the census (or its
    pattern table), ``p_top`` = P(territory in the top level) over ``draws`` coefficient draws.

    ``territories`` is the output of :func:`score_territories` (or any frame with
    ``territory_id`` and ``column``). The input is not modified. ``exact``: see
    :func:`draw_mean_probabilities` (only matters for a census that does not collapse).
    """
    if k < 2:
        raise ValueError(_("k must be at least 2"))
    if column not in territories.columns:
        raise data_error(None, f"no column '{column}' to classify", "score the territories "
                         "first (score_territories)", column)
    y = territories[column].to_numpy(dtype=np.float64)
    if len(y) < k:
        raise data_error(None, f"{len(y)} territories cannot form {k} levels",
                         "use fewer levels (risk_levels: k in profile.yaml)", column)
    bad = ~np.isfinite(y)
    if bad.any():
        raise data_error(None, "missing values", "score every territory", column,
                         territories[TERRITORY_ID].to_numpy()[bad])
    bounds = class_bounds(y, method, k, cutoffs)
    out = territories.copy()
    levels = assign_levels(y, bounds)
    out["risk_level"] = levels.astype(np.int64)
    labels = level_labels(k)
    out["risk_label"] = [labels[v - 1] for v in levels]
    source = patterns if patterns is not None else census
    if model is not None and source is not None:
        pbar = draw_mean_probabilities(model, source, draws=draws, seed=seed, weight=weight,
                                       chunk_elements=chunk_elements, exact=exact)
        tids = pbar.columns.to_numpy().astype(str)
        p_top = pd.Series(top_share(pbar.to_numpy(), method, k, cutoffs), index=tids)
        out["p_top"] = out[TERRITORY_ID].astype(str).map(p_top).to_numpy()
    return out


def top_share(P: np.ndarray, method: str, k: int,
              cutoffs: Sequence[float] | None = None) -> np.ndarray:
    """Per territory, the share of draws (rows of ``P``, draws x territories) in which it is
    in the top level, the levels being recomputed on every draw with ``method``."""
    top = np.zeros(P.shape[1])
    fj_points = FJ_DRAW_POINTS if method == "fisher_jenks" else FJ_MAX_POINTS
    for b in range(P.shape[0]):
        bb = class_bounds(P[b], method, k, cutoffs, fj_points=fj_points)
        top += P[b] > bb[-1]
    return top / P.shape[0]


def draw_coefficients(beta: np.ndarray, V: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """(draws x p) coefficient vectors from N(beta, V); symmetric square root of V so a
    singular V (e.g. a constant covariate) still works."""
    w, Q = np.linalg.eigh((V + V.T) / 2.0)
    root = Q * np.sqrt(np.clip(w, 0.0, None))
    z = np.random.default_rng(seed).standard_normal((draws, len(beta)))
    return beta + z @ root.T


def draw_mean_probabilities(model: Any,
                            census: CensusSource | PatternTable | pd.DataFrame | str | Path, *,
                            draws: int = 200, seed: int = 12345, weight: str | None = None,
                            chunk_elements: int = 20_000_000, exact: bool = False
                            ) -> pd.DataFrame:
    """(draws x territories) mean probabilities under coefficient draws beta_b ~ N(beta, V).

    Pattern table (given, or the census collapses well — see
    :func:`~clrisk.phase1.patterns.choose_method`): exact, vectorised over draws — for each
    chunk of draws, P = expit(B X') over the patterns and the territory means are the sparse
    product counts @ P' (single precision: P(top) is a share of draws).

    Census that does not collapse: an exact recomputation costs draws x children sigmoids
    (2e9 for 200 draws over 10 million children), so by default one pass over the rows
    accumulates, per territory, the sums S_t, the gradient G_t = sum w p(1-p) x and the
    Hessian H_t = sum w p(1-p)(1-2p) x x', and each draw uses the second-order expansion
    p_t(beta + d) ~ (S_t + G_t'd + d'H_t d / 2) / N_t. Its error is third order in the
    spread of the linear predictor x'd under the draws; the same pass accumulates
    sum w (x'Vx)^(3/2), which bounds its expected size per territory
    (:meth:`~clrisk.phase1.rowpass.RowSums.expansion_error`). If that bound exceeds
    :data:`EXPANSION_TOL` (1e-3: a small survey, large standard errors) every draw is
    recomputed exactly instead, with a warning. Measured against the exact recomputation
    (200 draws): on the benchmark census (1 million children, 5,570 territories, survey of
    200,000 children) the maximum absolute difference is 5.5e-6 in p_t (first order alone:
    1.6e-4) and 0 in P(top level) for quantiles, Fisher-Jenks and mean +/- sd; on the seven
    sample countries (surveys of a few thousand children, so larger standard errors) at most
    1.2e-3 in p_t and 0.005 — one draw in 200 — in P(top level) (``benchmarks/README.md``,
    ``benchmarks/ptop_accuracy.py``). ``exact=True`` always recomputes every draw on every
    row (slow: for checking).
    """
    covs, beta, V = model_arrays(model)
    B = draw_coefficients(beta, V, draws, seed)
    src = resolve_census(census, covs, weight=weight)
    table, census, weight = src.table, src.raw, src.weight
    if table is None:
        if not exact:
            sums = row_sums(beta, covs, census, weight=weight, hessian=True, cov=V)
            bound = float(sums.expansion_error().max())
            if bound <= EXPANSION_TOL:
                return draw_expansion(sums, beta, B)
            warnings.warn(_("coefficient draws too spread for the second-order expansion "
                            "(expected remainder up to {bound} > {tol}): recomputing every "
                            "draw on every child (slow on a large census)").format(
                                bound=f"{bound:.1e}", tol=f"{EXPANSION_TOL:g}"),
                          stacklevel=2)
        return _draw_rows(covs, B, census, weight, chunk_elements)
    Xd = table.design(covs)
    N = table.children
    counts = table.counts.astype(np.float32)
    out = np.empty((draws, len(N)))
    step = max(1, chunk_elements // max(1, table.n_patterns))
    for s in range(0, draws, step):
        # (patterns x draws), C-ordered so the sparse product reads it without a copy;
        # single precision halves memory traffic (P(top) is a share of draws: 1e-7 is moot)
        Pt = expit((Xd @ B[s:s + step].T).astype(np.float32))
        out[s:s + step] = (counts @ Pt).T / N
    return pd.DataFrame(out, columns=table.territory_ids.astype(str))


def draw_expansion(sums: RowSums, beta: np.ndarray, B: np.ndarray) -> pd.DataFrame:
    """(draws x territories) second-order expansion of the mean probabilities around beta
    (see :func:`draw_mean_probabilities`), from the sums of one row pass with Hessian."""
    if sums.H is None:
        raise ValueError("row sums without the Hessian (row_sums(..., hessian=True))")
    D = B - beta  # draws x k
    lin = sums.G @ D.T  # territories x draws
    m, k, _k = sums.H.shape
    HD = (sums.H.reshape(m * k, k) @ D.T).reshape(m, k, -1)
    quad = np.einsum("tkb,bk->tb", HD, D)
    P = (sums.S[:, None] + lin + 0.5 * quad) / sums.N[:, None]
    return pd.DataFrame(np.clip(P, 0.0, 1.0).T, columns=sums.territory_ids.astype(str))


def _draw_rows(covs: list[str], B: np.ndarray, census: Any, weight: str | None,
               chunk_elements: int) -> pd.DataFrame:
    index: dict[str, int] = {}
    N = np.zeros(0)
    S = np.zeros((B.shape[0], 0))
    for b in iter_census(census, covs, weight=weight):
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in b.territory_values),
                           dtype=np.int64, count=len(b.territory_values))
        t = tmap[b.territory_codes]
        m = len(index)
        N = np.pad(N, (0, m - len(N)))
        S = np.pad(S, ((0, 0), (0, m - S.shape[1])))
        N += np.bincount(t, weights=b.weights, minlength=m)
        rows = max(1, chunk_elements // B.shape[0])
        for s in range(0, len(t), rows):
            Xd = np.column_stack([np.ones(len(t[s:s + rows])), b.X[s:s + rows]])
            P = expit(B @ Xd.T) * b.weights[s:s + rows]
            tt = t[s:s + rows]
            for d in range(B.shape[0]):
                S[d] += np.bincount(tt, weights=P[d], minlength=m)
    tids = np.array(list(index), dtype=object).astype(str)
    order = np.argsort(tids, kind="stable")
    return pd.DataFrame((S / N)[:, order], columns=tids[order])


def compare_methods(territories: pd.DataFrame, methods: Sequence[str] = ("quantiles",
                    "fisher_jenks", "mean_sd"), k: int = 3, *,
                    cutoffs: Sequence[float] | None = None,
                    column: str = "mean_probability") -> pd.DataFrame:
    """The same territories classified by several methods side by side (level per method)."""
    out = territories[[TERRITORY_ID, column]].copy()
    for m in methods:
        if m == "fixed" and cutoffs is None:
            continue
        out[m] = classify_risk(territories, m, k, cutoffs=cutoffs, column=column)[
            "risk_level"].to_numpy()
    return out.sort_values(TERRITORY_ID, kind="stable").reset_index(drop=True)


def level_agreement(levels: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of territories given the same level by each pair of methods (square table)."""
    methods = [m for m in (methods or METHODS) if m in levels.columns]
    mat = np.array([[float(np.mean(levels[a].to_numpy() == levels[b].to_numpy()))
                     for b in methods] for a in methods])
    return pd.DataFrame(mat, index=methods, columns=methods)


def level_stability(classified: pd.DataFrame, threshold: float = 0.8) -> pd.DataFrame:
    """Counts of top-level territories that are solid (p_top >= threshold) or borderline."""
    if "p_top" not in classified.columns:
        raise data_error(None, "no p_top column", "call classify_risk with model= and "
                         "patterns= (or census=)", "p_top")
    k = int(classified["risk_level"].max())
    top = classified["risk_level"] == k
    solid = top & (classified["p_top"] >= threshold)
    return pd.DataFrame({
        _("Territories in the top level"): [int(top.sum())],
        _("Solid (P(top) at least {t:.0%})").format(t=threshold): [int(solid.sum())],
        _("Borderline"): [int((top & ~solid).sum())],
        _("Outside the top level with P(top) above 50%"): [
            int(((~top) & (classified["p_top"] > 0.5)).sum())],
    })
