"""Phase I, instrument 1: the survey-weighted logit of child labour and its design-based errors.

Why this module fits the model itself (Newton–Raphson in numpy) instead of calling statsmodels:
the estimator must honour the survey design (expansion factors, strata, primary sampling units),
report *design-based* standard errors by Taylor linearisation exactly as R ``survey::svyglm``
and Stata ``svy: logit`` do, and fail with a message a national statistics office can act on
(which column, which covariate, what to do) rather than a ``LinAlgError``. statsmodels is used
only as an independent cross-check in the tests.

Estimator (METHODOLOGY.md, Phase I instrument 1, item 3):

* β̂ solves the weighted score equations Σ w_i (y_i − p_i) x_i = 0 (pseudo maximum likelihood);
* V(β̂) = A⁻¹ B A⁻¹ with A = Σ w p(1−p) x x' and
  B = Σ_h n_h/(n_h−1) Σ_j (u_hj − ū_h)(u_hj − ū_h)', u_hj = Σ_{i ∈ PSU j of stratum h} w_i (y_i − p_i) x_i.

PSU labels are nested within strata: the same ``psu`` label in two strata is two different PSUs
(R: ``svydesign(..., nest=TRUE)``).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats
from threadpoolctl import threadpool_limits

from clrisk.errors import DataError, ModelError, data_error, describe_rows
from clrisk.i18n import _
from clrisk.io import atomic_write

LONELY_PSU_POLICIES = ("adjust", "remove", "certainty", "average", "fail")
CONST = "const"
_P_EPS = 1e-12  # a fitted probability this close to 0 or 1 signals (quasi-)separation


class SingletonStrataWarning(UserWarning):
    """A stratum has a single PSU; its variance contribution follows the lonely-PSU policy."""


class DesignDfWarning(UserWarning):
    """No design degrees of freedom are left: p-values and intervals are NaN (as in R)."""


class _NanDist:
    """Stand-in reference distribution whose tail probabilities are undefined (NaN)."""

    def sf(self, x: Any) -> np.ndarray:
        return np.full(np.shape(x), np.nan)


def design_df_message(df_t: int, n_psu: int, n_strata: int, k: int, lang: str | None = None
                      ) -> str:
    """Translated explanation of why p-values and intervals are not defined."""
    return _("Zero or negative design degrees of freedom ({df} = {n_psu} PSUs − {n_strata} "
             "strata + 1 − {k} coefficients): p-values and confidence intervals are not "
             "defined (NaN), as in R survey. Fix: use fewer covariates, or a design with more "
             "PSUs per stratum (collapse strata)", lang).format(
                 df=df_t, n_psu=n_psu, n_strata=n_strata, k=k)


# --------------------------------------------------------------------------------------------
# Design: PSU and stratum structure, and the stratified between-PSU variance of a total
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """Stratified one-stage (ultimate cluster) design in the form the variance needs.

    Why precomputed: the same structure serves the model covariance, the marginal effects and the
    regional direct estimates; the grouping is done once with vectorised pandas/numpy operations
    (no Python loop over PSUs), so 200,000 children in 4,000 PSUs cost milliseconds.
    """

    order: np.ndarray  # row permutation that makes PSUs contiguous
    starts: np.ndarray  # start of each PSU block in ``order`` (for np.add.reduceat)
    psu_stratum: np.ndarray  # stratum code of each PSU (n_psu,)
    n_h: np.ndarray  # number of PSUs in each stratum (n_strata,)
    strata_labels: list[str]
    lonely_psu: str = "adjust"
    # per stratum, the finite population correction (N_h − n_h)/N_h of the PSU sampling
    # (None: with replacement, R's default without ``fpc=``)
    fpc_factor: np.ndarray | None = None

    @property
    def n_psu(self) -> int:
        return int(self.psu_stratum.size)

    @property
    def n_strata(self) -> int:
        return int(self.n_h.size)

    @property
    def singleton_strata(self) -> list[str]:
        return [self.strata_labels[h] for h in np.flatnonzero(self.n_h == 1)]

    @classmethod
    def from_columns(cls, strata: pd.Series, psu: pd.Series, lonely_psu: str = "adjust",
                     fpc: pd.Series | None = None, source: str | None = None) -> Design:
        """Build the structure; PSUs are identified by the (stratum, psu) pair (nested).

        ``fpc`` (optional) follows R ``svydesign(fpc=)`` for a one-stage design: per row, the
        stratum's population number of PSUs, or — when every value is ≤ 1 — the sampling
        fraction of PSUs. It must be constant within a stratum.
        """
        if lonely_psu not in LONELY_PSU_POLICIES:
            raise ValueError(
                f"lonely_psu={lonely_psu!r} is not supported; choose one of "
                f"{', '.join(LONELY_PSU_POLICIES)}"
            )
        # labels compared as text (1 and "1" are the same PSU), factorised once per column;
        # the (stratum, psu) pair becomes one int64 key: no pandas groupby on strings
        s_codes, s_labels = pd.factorize(_as_text(strata), sort=True)
        p_codes, p_labels = pd.factorize(_as_text(psu), sort=True)
        key = s_codes.astype(np.int64) * max(len(p_labels), 1) + p_codes
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        psu_stratum = s_codes[order][starts]
        n_h = np.bincount(psu_stratum, minlength=len(s_labels))
        labels = [str(x) for x in s_labels]
        factor = None
        if fpc is not None:
            factor = _fpc_factor(fpc, s_codes, n_h, labels, source)
        return cls(order, starts, psu_stratum, n_h, labels, lonely_psu, factor)

    @property
    def indicator(self) -> sparse.csr_matrix:
        """PSU × row 0/1 matrix (CSR), built once: ``indicator @ z`` are the PSU totals.

        Why sparse: one compiled pass over the rows, no gathered copy of ``z`` (a permuted
        n × k copy plus ``np.add.reduceat`` cost ~15× more on the 200k benchmark).
        """
        cached = self.__dict__.get("_indicator")
        if cached is None:
            n = self.order.size
            indptr = np.r_[self.starts, n].astype(np.int64)
            cached = sparse.csr_matrix((np.ones(n), self.order, indptr),
                                       shape=(self.n_psu, n))
            object.__setattr__(self, "_indicator", cached)
        return cached

    def psu_totals(self, z: np.ndarray) -> np.ndarray:
        """Totals of the rows of ``z`` (n × k) within each PSU → (n_psu × k)."""
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        return np.asarray(self.indicator @ z)

    def variance_of_total(self, z: np.ndarray) -> np.ndarray:
        """Design-based covariance of Σ_i z_i (k × k), with-replacement PSU approximation.

        B = Σ_h n_h/(n_h−1) Σ_j (u_hj − ū_h)(u_hj − ū_h)'. Singleton strata (n_h = 1) follow
        ``lonely_psu`` as in R's ``options(survey.lonely.psu=)``: "adjust" centres the lone PSU
        total at the grand mean of all PSU totals (scale 1); "remove" and "certainty" give it no
        contribution (identical for a one-stage design); "average" gives it none and inflates the
        sum by n_strata / (n_strata − n_singleton); "fail" raises.
        """
        return self.variance_from_totals(self.psu_totals(z))

    def variance_from_totals(self, u: np.ndarray) -> np.ndarray:
        """:meth:`variance_of_total` from PSU totals ``u`` (n_psu × k) already summed.

        Why separate: PSU totals are linear, so the model and the marginal effects reuse the
        totals of the score once instead of summing n × k influence matrices again.
        """
        k = u.shape[1]
        n_h = self.n_h.astype(float)
        means = np.zeros((self.n_strata, k))
        np.add.at(means, self.psu_stratum, u)
        means /= n_h[:, None]
        dev = u - means[self.psu_stratum]
        single_h = self.n_h == 1
        scale_h = np.where(single_h, 1.0, n_h / np.maximum(n_h - 1.0, 1.0))
        if self.fpc_factor is not None:
            # R survey:::onestrat: scale = f·n/(n−1) (f for a lone PSU); a stratum sampled in
            # full (f < 1e-7, "self-representing") contributes nothing.
            scale_h = np.where(self.fpc_factor < 1e-7, 0.0, scale_h * self.fpc_factor)
        inflate = 1.0
        if single_h.any():
            lone = single_h[self.psu_stratum]
            if self.lonely_psu == "fail":
                raise ModelError(
                    f"strata {', '.join(self.singleton_strata)} have a single PSU, so their "
                    "variance cannot be estimated. Fix: merge each with a similar stratum "
                    "(collapse strata) or choose lonely_psu='adjust'"
                )
            if self.lonely_psu == "adjust":
                dev[lone] = u[lone] - u.mean(axis=0)
            else:
                dev[lone] = 0.0
                if self.lonely_psu == "average":
                    n_ok = self.n_strata - int(single_h.sum())
                    if n_ok == 0:
                        raise ModelError(
                            "every stratum has a single PSU, so lonely_psu='average' has no "
                            "stratum to average over. Fix: collapse strata or choose "
                            "lonely_psu='adjust'")
                    inflate = self.n_strata / n_ok
        scaled = dev * scale_h[self.psu_stratum][:, None]
        return inflate * (scaled.T @ dev)


def _as_text(col: pd.Series) -> pd.Series:
    """Column values as text labels (numbers and strings with the same text are one label)."""
    return col if pd.api.types.is_string_dtype(col.dtype) else col.astype(str)


def _fpc_factor(fpc: pd.Series, s_codes: np.ndarray, n_h: np.ndarray, labels: list[str],
                source: str | None) -> np.ndarray:
    """Per-stratum (N_h − n_h)/N_h from an R-style ``fpc`` column (counts or fractions).

    Why these checks: R stops on an fpc that varies within a stratum, mixes counts and
    fractions, or implies more PSUs sampled than exist; a silent wrong fpc would shrink every
    standard error, so each case names the column, the strata and the fix.
    """
    name = str(fpc.name)
    vals = pd.to_numeric(fpc, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(vals) | (vals <= 0)
    if bad.any():
        raise data_error(source, _("the finite population correction must be a positive "
                                   "number in every row"),
                         _("give the stratum's population number of PSUs, or the sampling "
                           "fraction (0 < f ≤ 1)"), column=name, rows=_rows(bad))
    k = len(labels)
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    np.minimum.at(lo, s_codes, vals)
    np.maximum.at(hi, s_codes, vals)
    varies = np.flatnonzero(hi - lo > 1e-9 * np.maximum(1.0, hi))
    if varies.size:
        raise data_error(source, _("the finite population correction varies within stratum "
                                   "(strata {strata})").format(
                             strata=", ".join(labels[h] for h in varies[:10])),
                         _("use one value per stratum (its population number of PSUs)"),
                         column=name)
    fraction = bool((vals <= 1.0).all())
    if not fraction and (vals < 1.0).any():
        raise data_error(source, _("the finite population correction mixes sampling fractions "
                                   "(≤ 1) and population counts (> 1)"),
                         _("use population counts in every row, or fractions in every row"),
                         column=name, rows=_rows(vals < 1.0))
    pop = n_h / hi if fraction else hi
    over = np.flatnonzero(pop < n_h - 1e-9 * n_h)
    if over.size:
        raise data_error(source, _("the finite population correction implies more than 100% "
                                   "of PSUs sampled in strata {strata}").format(
                             strata=", ".join(labels[h] for h in over[:10])),
                         _("the population count must be at least the number of sampled PSUs "
                           "in the stratum"), column=name)
    return (pop - n_h) / pop


# --------------------------------------------------------------------------------------------
# Input checks (each names the column and the fix)
# --------------------------------------------------------------------------------------------
def _rows(mask: np.ndarray) -> list[int]:
    """1-based data-row numbers of the True entries (header excluded)."""
    return [int(i) + 1 for i in np.flatnonzero(mask)]


def _check_inputs(survey: Any, covariates: Sequence[str], outcome: str, weight: str,
                  strata: str, psu: str, source: str | None) -> pd.DataFrame:
    if not isinstance(survey, pd.DataFrame):
        raise DataError(f"{source or '<data>'}: the survey must be a pandas DataFrame, got "
                        f"{type(survey).__name__}. Fix: load it with clrisk.load_country or "
                        "pandas.read_csv")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if not covariates:
        raise DataError(f"{source or '<data>'}: no covariates were given. Fix: list the "
                        "covariates of the profile (e.g. ['poverty', 'rural'])")
    dupes = sorted({c for c in covariates if covariates.count(c) > 1})
    if dupes:
        raise DataError(f"{source or '<data>'}: covariate(s) {', '.join(dupes)} listed twice. "
                        "Fix: list each covariate once")
    if CONST in covariates:
        raise DataError(f"{source or '<data>'}: a covariate is named '{CONST}', which is "
                        "reserved for the intercept. Fix: rename that column")
    if len(survey) == 0:
        raise data_error(source, "the survey has no rows", "check the file and any filters "
                         "(age range, mapping rules) applied before fitting")
    needed = [outcome, weight, strata, psu, *covariates]
    missing = [c for c in needed if c not in survey.columns]
    if missing:
        raise data_error(source, f"missing column(s) {', '.join(repr(c) for c in missing)} "
                         f"(available: {', '.join(map(str, survey.columns[:20]))})",
                         "map the national variable names onto the canonical ones in "
                         "profile.yaml (mapping) or correct the covariate list",
                         column=missing[0])
    nan_counts = {c: int(survey[c].isna().sum()) for c in needed}
    bad = {c: n for c, n in nan_counts.items() if n}
    if bad:
        first = next(iter(bad))
        detail = "; ".join(
            f"'{c}': {n} rows ({describe_rows(_rows(survey[c].isna().to_numpy()))})"
            for c, n in bad.items())
        raise data_error(source, f"missing values (NaN) — {detail}",
                         "impute or drop these rows explicitly before fitting (the model never "
                         "drops rows silently)", column=first)
    for c in [outcome, weight, *covariates]:
        col = survey[c]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            coerced = pd.to_numeric(col, errors="coerce")
            raise data_error(source, f"non-numeric values (dtype {col.dtype})",
                             "recode the column as numbers (0/1 for yes/no)", column=c,
                             rows=_rows(coerced.isna().to_numpy()))
        arr = col.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            raise data_error(source, "infinite values", "replace them with valid numbers",
                             column=c, rows=_rows(~np.isfinite(arr)))
    y = survey[outcome].to_numpy(dtype=float)
    not01 = (y != 0) & (y != 1)
    if not01.any():
        vals = sorted(set(y[not01].tolist()))[:5]
        raise data_error(source, f"the outcome must be 0/1; found {vals}",
                         "recode child labour as 1 = in child labour, 0 = not", column=outcome,
                         rows=_rows(not01))
    w = survey[weight].to_numpy(dtype=float)
    if (w <= 0).any():
        raise data_error(source, "weights must be strictly positive",
                         "drop out-of-scope records (weight 0) before fitting or correct the "
                         "expansion factors", column=weight, rows=_rows(w <= 0))
    return survey


def _check_estimable(x: np.ndarray, y: np.ndarray, w: np.ndarray, covariates: list[str],
                     outcome: str, source: str | None) -> None:
    """Outcome variation, covariate variance, collinearity and separation by binary covariates."""
    if y.min() == y.max():
        which = "1 (every child in child labour)" if y[0] == 1 else "0 (no child in child labour)"
        raise ModelError(f"{source or '<data>'}, column '{outcome}': the outcome is always "
                         f"{which}, so a logit cannot be estimated. Fix: check the outcome "
                         "definition and the age filter")
    z = x[:, 1:]
    wn = w / w.sum()
    mean = wn @ z
    zc = z - mean
    cov = (zc.T * wn) @ zc  # weighted covariance (k−1 × k−1): one pass, no n × k copies kept
    var = np.diag(cov).copy()
    const_cols = [c for c, v, m in zip(covariates, var, mean, strict=True)
                  if v <= 1e-12 * max(1.0, m * m)]
    if const_cols:
        raise ModelError(f"{source or '<data>'}: covariate(s) {', '.join(const_cols)} take a "
                         "single value in the survey (no variance), so their effect cannot be "
                         "estimated. Fix: drop them from the covariate list")
    # collinearity on standardised columns (scale-free), with the constant: the centred columns
    # are orthogonal to the constant, so the weighted Gram matrix of (1, standardised z) is
    # diag(1, correlation matrix) — its eigen-decomposition is k × k, cheap for any n
    sd = np.sqrt(var)
    gram = np.zeros((len(covariates) + 1,) * 2)
    gram[0, 0] = 1.0
    gram[1:, 1:] = cov / np.outer(sd, sd)
    lam, vecs = np.linalg.eigh(gram)
    null = vecs[:, lam <= lam.max() * 1e-11].T
    if null.size:
        names = [CONST, *covariates]
        involved = sorted({names[j] for v in null for j in np.flatnonzero(np.abs(v) > 1e-6)}
                          - {CONST}, key=names.index)
        raise ModelError(f"{source or '<data>'}: covariates {', '.join(involved)} are collinear "
                         "(one is an exact linear combination of the others), so their effects "
                         "are not identified. Fix: drop one of them")
    # quasi-complete separation by a single binary covariate: a 2×2 cell with no children
    n, y_sum = len(y), float(y.sum())
    for j, c in enumerate(covariates):
        col = z[:, j]
        lo, hi = float(col.min()), float(col.max())
        high = col == hi
        if not (high | (col == lo)).all():
            continue  # more than two values
        n_hi = int(high.sum())
        s_hi = float(y @ high)
        for v, n_v, s_v in ((lo, n - n_hi, y_sum - s_hi), (hi, n_hi, s_hi)):
            if s_v == 0 or s_v == n_v:
                raise ModelError(
                    f"{source or '<data>'}: perfect or quasi-complete separation by "
                    f"covariate '{c}': every child with {c} = {v:g} has {outcome} = "
                    f"{int(s_v > 0)}, so its coefficient diverges to infinity. Fix: drop or "
                    f"regroup '{c}', or check how {outcome} was coded for that group"
                )


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------
def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))  # numerically stable logistic


def _loglik(y: np.ndarray, eta: np.ndarray, w: np.ndarray) -> float:
    # softplus(η) = max(η, 0) + log1p(exp(−|η|)): exact like logaddexp(0, η), ~3× cheaper
    soft = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return float(w @ (y * eta - soft))


def _newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, max_iter: int, tol: float,
            start: np.ndarray | None = None) -> tuple[np.ndarray, bool, int]:
    """Weighted logit by Newton–Raphson with step halving; returns (β, converged, iterations).

    Why a warm start for large surveys: Newton converges quadratically once close, so the
    first (expensive, far-from-solution) passes are done on a systematic 1-in-m subsample of
    ~20,000 rows and only the last two or three passes use every row. The solution is the same
    (the full-data convergence test decides); only the work before it shrinks.
    """
    k = x.shape[1]
    n = x.shape[0]
    if start is None and n > 60_000:
        m = n // 20_000
        sub = slice(0, None, m)
        xs = np.ascontiguousarray(x[sub])
        start, ok, _its = _newton(xs, y[sub], w[sub], max_iter, 1e-8, np.zeros(0))
        # a subsample that separates (implausibly large standardised effects) is no guide
        if not ok or np.max(np.abs(start[1:] * xs[:, 1:].std(axis=0)), initial=0.0) > 10:
            start = None
    if start is None or start.size != k:
        beta = np.zeros(k)
        ybar = float(w @ y / w.sum())
        if not 0.0 < ybar < 1.0:  # a subsample without (or with only) cases: no warm start
            return beta, False, 0
        beta[0] = math.log(ybar / (1.0 - ybar))
    else:
        beta = start.copy()
    eta = x @ beta
    ll = _loglik(y, eta, w)
    for it in range(1, max_iter + 1):
        p = _expit(eta)
        score = (w * (y - p)) @ x
        info = (x.T * (w * p * (1.0 - p))) @ x
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            return beta, False, it
        t = 1.0
        for _half in range(30):
            new = beta + t * step
            eta_new = x @ new
            ll_new = _loglik(y, eta_new, w)
            if ll_new >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        beta, eta, ll_old, ll = new, eta_new, ll, ll_new
        if np.max(np.abs(t * step) / (np.abs(beta) + 1.0)) < tol or (
            abs(ll - ll_old) < 1e-15 * abs(ll) and np.max(np.abs(t * step)) < tol * 1e3
        ):
            return beta, True, it
    return beta, False, max_iter


def _separation_culprits(x: np.ndarray, beta: np.ndarray, covariates: list[str]) -> list[str]:
    """Covariates whose standardised coefficient is implausibly large (|β_j·sd_j| > 5)."""
    sd = x[:, 1:].std(axis=0)
    size = np.abs(beta[1:] * sd)
    order = np.argsort(-size)
    big = [covariates[j] for j in order if size[j] > 5]
    return big or [covariates[order[0]]]


def fit_risk_model(survey: pd.DataFrame, covariates: Sequence[str], outcome: str = "child_labour",
                   weight: str = "weight", strata: str = "stratum", psu: str = "psu", *,
                   lonely_psu: str = "adjust", fpc: str | None = None, max_iter: int = 100,
                   tol: float = 1e-10, source: str | None = None) -> RiskModel:
    """Fit the survey-weighted logit of ``outcome`` on ``covariates`` with design-based errors.

    ``lonely_psu`` is the singleton-stratum policy ("adjust" default, as R's
    ``survey.lonely.psu="adjust"``; also "remove", "certainty", "average", "fail"); singleton
    strata are listed in ``RiskModel.singleton_strata`` and announced with a
    :class:`SingletonStrataWarning`. ``source`` (a file name) only labels error messages.

    ``fpc`` names an optional finite-population-correction column with R's convention
    (``svydesign(ids=~psu, strata=~stratum, fpc=~col)``, one stage): the stratum's population
    number of PSUs, or the sampling fraction when every value is ≤ 1. For a stratified element
    design, let ``psu`` identify each child and give the stratum's number of children.

    Raises :class:`~clrisk.errors.DataError` for malformed input (missing columns, NaN, non-0/1
    outcome, non-positive weights, fewer than 2 PSUs) and :class:`~clrisk.errors.ModelError`
    when the model is not estimable (constant outcome or covariate, collinearity, separation).
    The input frame is never modified.
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    _check_inputs(survey, covariates, outcome, weight, strata, psu, source)
    # One BLAS thread: every product here is n × k by k-vectors or k × k (k ≈ 12), where
    # OpenBLAS threads only add synchronisation — on a shared 2-core machine the threaded fit
    # of the 200k benchmark took 2.6 s, single-threaded 0.95 s.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(survey, covariates, outcome, weight, strata, psu, lonely_psu, fpc,
                    max_iter, tol, source)


def _fit(survey: pd.DataFrame, covariates: list[str], outcome: str, weight: str, strata: str,
         psu: str, lonely_psu: str, fpc: str | None, max_iter: int, tol: float,
         source: str | None) -> RiskModel:
    """The body of :func:`fit_risk_model` once the inputs are checked."""
    if fpc is not None and fpc not in survey.columns:
        raise data_error(source, _("missing finite population correction column '{c}'").format(
            c=fpc), _("name the column in the profile's design section (design: {{fpc: ...}}) "
                      "or remove the setting"), column=fpc)
    y = survey[outcome].to_numpy(dtype=float)
    w_raw = survey[weight].to_numpy(dtype=float)
    w = w_raw / w_raw.mean()  # like svyglm(rescale=TRUE): estimates and V are unchanged
    # column-major: each covariate is contiguous (per-column passes of the AMEs and checks)
    x = np.empty((len(y), len(covariates) + 1), order="F")
    x[:, 0] = 1.0
    x[:, 1:] = survey[covariates].to_numpy(dtype=float)
    design = Design.from_columns(survey[strata], survey[psu], lonely_psu,
                                 fpc=None if fpc is None else survey[fpc], source=source)
    if design.n_psu < 2:
        raise data_error(source, f"only {design.n_psu} primary sampling unit (PSU) in the "
                         "survey; design-based standard errors need at least 2",
                         "check that the PSU column holds the sampling clusters, not a constant",
                         column=psu)
    _check_estimable(x, y, w, covariates, outcome, source)
    beta, converged, iterations = _newton(x, y, w, max_iter, tol)
    p = _expit(x @ beta)
    if not converged or (np.minimum(p, 1.0 - p) < _P_EPS).any():
        culprits = _separation_culprits(x, beta, covariates)
        raise ModelError(
            f"{source or '<data>'}: the logit did not converge (fitted probabilities numerically "
            f"0 or 1 after {iterations} iterations): perfect or quasi-complete separation, most "
            f"likely by {', '.join(culprits)}. Fix: drop or regroup these covariate(s), or check "
            f"how '{outcome}' was coded"
        )
    info = (x.T * (w * p * (1.0 - p))) @ x
    try:
        a_inv = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - guarded by _check_estimable
        raise ModelError(f"{source or '<data>'}: the information matrix is singular. Fix: "
                         "drop collinear covariates") from exc
    u_scores = design.psu_totals(x * (w * (y - p))[:, None])  # PSU totals of the scores
    b = design.variance_from_totals(u_scores)
    cov = a_inv @ b @ a_inv
    cov = (cov + cov.T) / 2.0
    if design.singleton_strata:
        warnings.warn(
            f"{len(design.singleton_strata)} stratum/strata with a single PSU "
            f"({', '.join(design.singleton_strata[:10])}); variance handled with "
            f"lonely_psu='{lonely_psu}'", SingletonStrataWarning, stacklevel=2)
    names = [CONST, *covariates]
    ame, ame_se = _average_marginal_effects(x, w, p, beta, a_inv, design, u_scores)
    return RiskModel(
        params=pd.Series(beta, index=names, name="coef"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        covariates=covariates, outcome=outcome, n_obs=len(y), n_psu=design.n_psu,
        n_strata=design.n_strata, singleton_strata=design.singleton_strata,
        df_resid=design.n_psu - design.n_strata, converged=converged, iterations=iterations,
        lonely_psu=lonely_psu, weight=weight, strata=strata, psu=psu, fpc=fpc,
        ame=pd.Series(ame, index=covariates, name="ame"),
        ame_se=pd.Series(ame_se, index=covariates, name="se"),
    )


def _is_binary(col: np.ndarray) -> bool:
    return bool(((col == 0.0) | (col == 1.0)).all())


def _average_marginal_effects(x: np.ndarray, w: np.ndarray, p: np.ndarray, beta: np.ndarray,
                              a_inv: np.ndarray, design: Design, u_scores: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted AMEs and their design-based (unconditional) linearised standard errors.

    Binary 0/1 covariates: mean discrete change Λ(x_i|x_j=1) − Λ(x_i|x_j=0); others: mean
    derivative β_j p(1−p). The influence of each child on the AME combines (a) the sampling of
    the children over which the effect is averaged, w_i (m_i − AME)/W, and (b) the estimation of
    β, g' A⁻¹ w_i (y_i − p_i) x_i (delta method, g = ∂AME/∂β); its design variance is taken with
    the same strata/PSU formula as V(β̂). This is Stata's ``svy: margins`` (vce unconditional).
    PSU totals are linear, so part (b) is summed as (PSU totals of the scores) · A⁻¹ g — the
    scores' totals ``u_scores`` come from the fit; no n × k influence matrix is formed.
    """
    wsum = w.sum()
    n, k = x.shape
    eta = x @ beta
    d = p * (1.0 - p)
    wd = w * d
    cont_grad = None
    ame = np.empty(k - 1)
    grads = np.empty((k, k - 1))
    sample_part = np.empty((n, k - 1), order="F")
    for j in range(1, k):
        xj = x[:, j]
        if _is_binary(xj):
            # x with column j set to 1 and to 0, without copying x
            p1 = _expit(eta + beta[j] * (1.0 - xj))
            p0 = _expit(eta - beta[j] * xj)
            m = p1 - p0
            a1, a0 = w * p1 * (1.0 - p1), w * p0 * (1.0 - p0)
            grad = (a1 - a0) @ x
            grad[j] = a1.sum()
        else:
            if cont_grad is None:
                cont_grad = (wd * (1.0 - 2.0 * p)) @ x
            m = beta[j] * d
            grad = beta[j] * cont_grad
            grad[j] += wd.sum()
        ame[j - 1] = w @ m / wsum
        grads[:, j - 1] = grad / wsum
        sample_part[:, j - 1] = w * (m - ame[j - 1]) / wsum
    u = design.psu_totals(sample_part) + u_scores @ (a_inv @ grads)
    v = design.variance_from_totals(u)
    return ame, np.sqrt(np.clip(np.diag(v), 0.0, None))


# --------------------------------------------------------------------------------------------
# The fitted model
# --------------------------------------------------------------------------------------------
@dataclass
class RiskModel:
    """A fitted survey-weighted logit: coefficients, design-based covariance and design facts.

    Inference convention (same as R ``survey`` 4.x ``summary.svyglm`` and ``confint.svyglm``):
    p-values and Wald confidence intervals use Student's t with ``df_t = df_resid − k + 1``
    degrees of freedom (design df = #PSU − #strata, minus the other k − 1 estimated
    coefficients), which is conservative when there are few PSUs. Pass ``dist="normal"`` to
    ``odds_ratios`` for normal-theory intervals (Stata's and ``confint.default``'s choice).
    With ``df_t ≤ 0`` the t-based p-values and intervals are NaN and a :class:`DesignDfWarning`
    is issued (R: "Zero or negative residual df; p-values not defined").
    """

    params: pd.Series
    cov: pd.DataFrame
    covariates: list[str]
    outcome: str
    n_obs: int
    n_psu: int
    n_strata: int
    singleton_strata: list[str]
    df_resid: int
    converged: bool
    iterations: int
    lonely_psu: str
    weight: str = "weight"
    strata: str = "stratum"
    psu: str = "psu"
    fpc: str | None = None
    ame: pd.Series | None = None
    ame_se: pd.Series | None = None
    bse: pd.Series = field(init=False)

    def __post_init__(self) -> None:
        self.bse = pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0.0, None)),
                             index=self.params.index, name="se")

    # -- inference helpers --------------------------------------------------------------
    @property
    def df_t(self) -> int:
        """Denominator df for t tests/intervals: design df + 1 − number of coefficients (R)."""
        return int(self.df_resid + 1 - len(self.params))

    def _crit(self, alpha: float, dist: str) -> tuple[float, Any]:
        """Critical value and reference distribution; NaN when the design df are used up.

        Why NaN and not the normal: with ``df_t ≤ 0`` the design has no degrees of freedom
        left for the t reference, so R ``summary.svyglm`` reports NaN p-values ("Zero or
        negative residual df; p-values not defined") and ``confint.svyglm`` NaN intervals.
        Switching silently to the normal would print confident intervals the design cannot
        support; we do what R does and say so (:class:`DesignDfWarning`).
        """
        if dist == "normal":
            ref = stats.norm
        elif dist == "t":
            if self.df_t <= 0:
                warnings.warn(design_df_message(self.df_t, self.n_psu, self.n_strata,
                                                len(self.params)), DesignDfWarning, stacklevel=3)
                return math.nan, _NanDist()
            ref = stats.t(self.df_t)
        else:
            raise ValueError(f"dist must be 't' or 'normal', got {dist!r}")
        return float(ref.ppf(1.0 - alpha / 2.0)), ref

    # -- prediction -----------------------------------------------------------------------
    def _design_matrix(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        k = len(self.covariates)
        if isinstance(data, pd.DataFrame):
            missing = [c for c in self.covariates if c not in data.columns]
            if missing:
                raise data_error(None, f"missing covariate column(s) {', '.join(missing)}",
                                 "the census must carry the same covariates as the survey",
                                 column=missing[0])
            z = data[self.covariates].to_numpy(dtype=float)
        else:
            z = np.asarray(data, dtype=float)
            if z.ndim == 1:
                z = z[None, :]
            if z.shape[1] == k + 1:
                return z
            if z.shape[1] != k:
                raise DataError(f"<data>: the matrix has {z.shape[1]} columns; expected {k} "
                                f"covariates ({', '.join(self.covariates)}) or {k + 1} with the "
                                "constant first. Fix: pass a DataFrame with named columns")
        return np.column_stack([np.ones(z.shape[0]), z])

    def linear_predictor(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        """x'β̂ for each row. A matrix may have k covariate columns or k + 1 with the constant."""
        return self._design_matrix(data) @ self.params.to_numpy()

    def predict(self, data: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Fitted probabilities Λ(x'β̂) (the census projection of METHODOLOGY item 4)."""
        return _expit(self.linear_predictor(data))

    def draw_coefficients(self, n: int, seed: int | np.random.Generator) -> np.ndarray:
        """``n`` draws (n × k, columns in ``params`` order) from N(β̂, V) for simulation-based
        uncertainty (the classifier's P(top level)). Uses an eigen-decomposition so a nearly
        singular V still yields valid draws."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        vals, vecs = np.linalg.eigh(self.cov.to_numpy())
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        z = rng.standard_normal((int(n), len(self.params)))
        return self.params.to_numpy() + z @ root.T

    # -- tables -----------------------------------------------------------------------
    def odds_ratios(self, alpha: float = 0.05, dist: str = "t") -> pd.DataFrame:
        """exp(β) with Wald CIs and two-sided p-values.

        Default ``dist="t"``: Student's t with ``df_t`` = #PSU − #strata + 1 − k for both the
        p-values and the intervals. This is exactly R ``survey`` 4.1.1: ``summary.svyglm`` uses t
        on ``df.residual`` and ``confint.svyglm`` (Wald) converts the level through the same t
        (older survey versions and ``confint.default`` used the normal; pass ``dist="normal"``
        for that, or for Stata-like normal intervals). With ``df_t ≤ 0`` p-values and
        intervals are NaN with a :class:`DesignDfWarning`, exactly as in R.
        """
        crit, ref = self._crit(alpha, dist)
        b, se = self.params, self.bse
        with np.errstate(divide="ignore", invalid="ignore"):
            pval = 2.0 * ref.sf(np.abs(b / se))
        return pd.DataFrame({"odds_ratio": np.exp(b), "ci_low": np.exp(b - crit * se),
                             "ci_high": np.exp(b + crit * se), "p_value": pval},
                            index=self.params.index)

    def marginal_effects(self, alpha: float = 0.05, dist: str = "t") -> pd.DataFrame:
        """Weighted average marginal effects (probability scale) with design-based SEs.

        Computed at fit time (they need the survey rows) and stored, so they survive JSON.
        Binary covariates: discrete change 0 → 1; continuous ones: derivative.
        """
        if self.ame is None or self.ame_se is None:
            raise ModelError("this model carries no marginal effects. Fix: refit it with "
                             "fit_risk_model")
        crit, _ref = self._crit(alpha, dist)
        return pd.DataFrame({"ame": self.ame, "se": self.ame_se,
                             "ci_low": self.ame - crit * self.ame_se,
                             "ci_high": self.ame + crit * self.ame_se},
                            index=pd.Index(self.covariates))

    def summary(self, lang: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Readable coefficient table with translated headers (numbers unchanged)."""
        ors = self.odds_ratios(alpha)
        tab = pd.DataFrame({
            _("Coefficient", lang): self.params.to_numpy(),
            _("Std. error", lang): self.bse.to_numpy(),
            _("Odds ratio", lang): ors["odds_ratio"].to_numpy(),
            _("CI low", lang): ors["ci_low"].to_numpy(),
            _("CI high", lang): ors["ci_high"].to_numpy(),
            _("p-value", lang): ors["p_value"].to_numpy(),
        }, index=pd.Index([_("Intercept", lang) if n == CONST else n for n in self.params.index],
                          name=_("Variable", lang)))
        return tab

    # -- serialisation ------------------------------------------------------------------
    def to_json(self) -> str:
        """JSON text; floats are written with ``repr`` so ``from_json`` restores them exactly."""
        names = list(self.params.index)
        doc = {
            "format": "clrisk.RiskModel/1",
            "names": names,
            "params": [float(v) for v in self.params],
            "cov": [[float(v) for v in row] for row in self.cov.loc[names, names].to_numpy()],
            "covariates": list(self.covariates), "outcome": self.outcome,
            "n_obs": int(self.n_obs), "n_psu": int(self.n_psu), "n_strata": int(self.n_strata),
            "singleton_strata": list(self.singleton_strata), "df_resid": int(self.df_resid),
            "converged": bool(self.converged), "iterations": int(self.iterations),
            "lonely_psu": self.lonely_psu, "weight": self.weight, "strata": self.strata,
            "psu": self.psu, "fpc": self.fpc,
            "ame": None if self.ame is None else [float(v) for v in self.ame],
            "ame_se": None if self.ame_se is None else [float(v) for v in self.ame_se],
        }
        return json.dumps(doc, indent=1)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path`` atomically (never a half-written model file)."""
        with atomic_write(path) as fh:
            fh.write(self.to_json())
            fh.write("\n")
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> RiskModel:
        """Read a model written by :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_json(cls, text: str) -> RiskModel:
        """Rebuild a model written by :meth:`to_json`."""
        try:
            doc = json.loads(text)
            names = doc["names"]
            covs = doc["covariates"]
            return cls(
                params=pd.Series(doc["params"], index=names, name="coef", dtype=float),
                cov=pd.DataFrame(doc["cov"], index=names, columns=names, dtype=float),
                covariates=covs, outcome=doc["outcome"], n_obs=doc["n_obs"],
                n_psu=doc["n_psu"], n_strata=doc["n_strata"],
                singleton_strata=doc["singleton_strata"], df_resid=doc["df_resid"],
                converged=doc["converged"], iterations=doc["iterations"],
                lonely_psu=doc["lonely_psu"], weight=doc["weight"], strata=doc["strata"],
                psu=doc["psu"], fpc=doc.get("fpc"),
                ame=None if doc["ame"] is None else pd.Series(doc["ame"], index=covs,
                                                              name="ame", dtype=float),
                ame_se=None if doc["ame_se"] is None else pd.Series(doc["ame_se"], index=covs,
                                                                    name="se", dtype=float),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"<model json>: not a clrisk risk model ({exc}). Fix: write it "
                            "with RiskModel.to_json") from exc
