"""Small-area estimates with honest uncertainty (METHODOLOGY instrument 1, item 6 — beyond).

Model: y_ij ~ Bernoulli(Λ(x_ij'β + u_t)), u_t ~ N(0, σ_u²): a unit-level logit mixed model
with a random territory intercept. Why: the official synthetic projection p̄_t = mean of
Λ(x_i'β̂) over the census children of t ignores the territory's own deviation u_t (what the
census covariates do not capture); its delta-method interval carries only the sampling error of
β. The empirical best predictor (EBP, Hobza & Morales 2016) uses the survey children of t to
predict u_t and carries its uncertainty.

**PSU effect.** Children of one primary sampling unit (a segment of neighbouring households)
share conditions the covariates miss; surveys show it as a design effect of 1.5–3. When the
survey has a PSU column and some territory has two or more PSUs, the model adds
v_c ~ N(0, σ_v²) nested in the territory: y ~ Bernoulli(Λ(x'β + u_t + v_c)). Without it the
one or two sampled PSUs of a territory are taken for the territory (σ̂_u 0.6 for a true 0.25 on
the clustered synthetic samples) and the EBP trusts them too much. A census child's
probability then integrates its own (unobserved) PSU effect: F(s) = E[Λ(s + v)], tabulated
once (:func:`logistic_normal`).

**Fit** (:func:`fit_mixed_logit`). Survey weights enter by pseudo-likelihood with the weights
scaled within each territory (Pfeffermann et al. 1998; Rabe-Hesketh & Skrondal 2006):

* ``"size"`` (default): w̃_j = w_j n_t / Σ_t w — scaled weights add up to the territory's
  sample size n_t;
* ``"effective"``: w̃_j = w_j Σ_t w / Σ_t w² — they add up to the effective sample size
  (Kish), smaller than n_t when weights vary within t: the posterior of u_t is wider;
* ``"unweighted"``: w̃ = 1 (for comparison: ignores the design).

Raw (unscaled) expansion factors would act as if each territory had thousands of children
observed and make every posterior of u_t collapse; the replicate study
(``benchmarks/sae_replicates.py``) shows coverage by scaling. The marginal pseudo-likelihood
Π_t ∫ φ(u; 0, σ_u²) Π_c ∫ φ(v; 0, σ_v²) Π_{j∈c} f(y_j | u + v)^{w̃_j} dv du is computed
with u on an adaptive grid per territory (centred on its posterior mode, ±6 posterior sds,
trapezoid rule; 7 adaptive Gauss–Hermite nodes when there is no PSU level, see
``FIT_U_NODES``) and v by Gauss–Hermite (rows in cache-sized chunks, summed per PSU with
``np.add.reduceat``) and maximised over (β, log σ) by Newton's method: the gradient by the
Fisher identity, the Hessian by Louis' identity (posterior mean of the complete-data Hessian
plus the posterior variance of the complete-data score, per territory), so the fit is the
root of the score equations after 3–10 evaluations (L-BFGS-B, kept as ``method="lbfgs"``,
needed 30–100 and stopped 0.1–7% away from the root in σ̂_u on the samples). The covariance
of β̂ is a sandwich with territories as clusters, its bread the same Louis Hessian.
By default the objective adds log σ — the boundary-avoiding Gamma(2) prior of Chung et al.
(2013, Psychometrika; R ``blme``): with ~20 surveyed children per territory and a rare outcome
the pseudo-ML σ̂_u often lands at 0 (measured on the Brazil sample: σ̂ = 0.005 against a true
0.25, interval coverage 46%); with the prior σ̂ = 0.21 and coverage 90%. ``prior=False`` gives
the plain pseudo-likelihood; a σ̂_u below 1e-3 is then reported as 0 with a warning.

**Prediction** (:func:`small_area_estimates`). For a sampled territory the posterior of u_t
(given its survey children and θ̂) is evaluated on a fine grid (moments μ_t, τ_t) and the EBP is
p̂_t = Σ_k a_tk P_t(v_tk), where P_t(v) = Σ_i c_i Λ(x_i'β̂ + v) / N_t over its census children
and (v_tk, a_tk) are adaptive Gauss–Hermite nodes and weights for that posterior (importance
corrected, so a skewed posterior is integrated correctly). Unsampled territories use the
nodes of N(0, σ̂²). One census pass evaluates P_t at the K nodes: without a PSU effect with
one expit per row and a Taylor series in the node offset (:func:`census_curves`, exact for
territories whose nodes lie beyond ``TAYLOR_RADIUS``; ``exact=True`` for K expit per row).

**Uncertainty.** ``mse="analytic"``: MSE_t = Var(p_t | data, θ̂) (from the same nodes) +
D_t' V_β D_t + g3_t (the estimation error of σ̂_u: the posterior averaged over the sampling
distribution of log σ̂_u, :mod:`clrisk.phase1.sae_sigma`), where D_t is the total derivative of
p̂_t with respect to β (direct gradient plus the shift of the posterior of u_t that a change
of β causes — for a well-sampled territory the two largely cancel). ``mse="bootstrap"``: parametric bootstrap (González-Manteiga et al.
2007), see :mod:`clrisk.phase1.sae_mse`. 95% intervals are built on the logit scale:
expit(logit p̂ ± 1.96 RMSE / (p̂(1 − p̂))) — never clipped, never outside (0, 1).

**Predictive draws** (:func:`predictive_draws`): joint draws of β and territory effects
(posterior of u_t for sampled territories, N(0, σ̂²) for the others), exposed as a
:class:`PredictiveDraws` object so P(top level) and factor-weight intervals use the same draws.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit, logit, logsumexp
from threadpoolctl import threadpool_limits

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase1.census_source import CensusSource, design_matrix
from clrisk.phase1.kernels import logit_segments, psu_curve_sums, psu_scores, taylor_sums
from clrisk.schema import TERRITORY_ID

Z95 = 1.959963984540054
SCALINGS = ("size", "effective", "unweighted")
FIT_NODES = 7  # Gauss-Hermite nodes for the PSU effect in the fit
PREDICT_NODES = 7  # nodes per territory in the census pass
# Newton fit, u_t by adaptive Gauss-Hermite with FIT_U_NODES nodes when there is no PSU level
# (centre and scale are then the exact mode and Laplace sd: θ̂ within 3e-6 relative of the
# 15-point grid on the 200k benchmark survey, at half the cost); with PSU effects the grid
# is centred on an approximation and 7 nodes were measured up to 6e-3 off in σ̂ on the
# samples, so the fit keeps the 15-point grid of the marginal likelihood there
FIT_U_NODES = 7
GRID_POINTS = 15  # grid points for u_t in the fit (±6 posterior sds, trapezoid rule)
SIGMA_FLOOR = 1e-3  # σ̂_u below this is reported as on the boundary (0)
TAYLOR_ORDER = 14  # terms of the census pass's Taylor series in the node offset
TAYLOR_RADIUS = 1.2  # |offset| beyond which a territory's curve is computed exactly
TAYLOR_TOL = 2.0 * (TAYLOR_RADIUS / np.pi) ** (TAYLOR_ORDER + 1)  # remainder bound (1e-6)
CV_THRESHOLD = 0.3  # maps outline territories whose CV exceeds this
ROW_CHUNK = 8192  # survey rows per chunk of a pass over quadrature points (cache-sized)
NEWTON_FULL_STEP = 1e-2  # Newton decrement below which full steps are taken (no line search)
NEWTON_HALVINGS = 20  # step halvings before the line search gives up (then L-BFGS-B)
NEWTON_MAX_ITER = 50  # Newton iterations before falling back to L-BFGS-B
NEWTON_POLISH_ITER = 20  # Newton iterations from the L-BFGS-B end point
BOUNDARY_PRIOR = 1.0  # weight of log σ added to the objective (Chung et al. 2013, Gamma(2))


class SAEWarning(UserWarning):
    """σ̂_u² on the boundary, non-convergence or another documented fallback."""


@dataclass
class MixedLogitFit:
    """A fitted unit-level logit mixed model (pseudo-likelihood with scaled weights)."""

    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float
    names: list[str]
    covariates: list[str]
    scaling: str
    converged: bool
    iterations: int
    loglik: float
    territory_ids: np.ndarray  # surveyed territories (sorted str)
    n_surveyed: np.ndarray  # children surveyed per territory
    boundary: bool = False
    prior: bool = True
    model: Any = None  # the fixed-effects model (for derived design terms), if any
    data: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    sigma2_psu: float = 0.0  # variance of the PSU effect (0: no PSU column)
    hessian: np.ndarray | None = field(default=None, repr=False)  # of -loglik at θ̂ (Newton)

    @property
    def sigma(self) -> float:
        return float(np.sqrt(self.sigma2))


# --------------------------------------------------------------------------------------------
# survey data
def _survey_arrays(survey: pd.DataFrame, covariates: Sequence[str], outcome: str, weight: str,
                   territory: str, model: Any, psu: str | None = None
                   ) -> dict[str, np.ndarray]:
    nested = psu is not None and psu in survey.columns
    need = [territory, outcome, weight, *covariates] + ([psu] if nested else [])
    missing = [c for c in need if c not in survey.columns]
    if missing:
        raise data_error("survey", _("missing column(s) {cols} needed by the small-area "
                                     "model").format(cols=", ".join(missing)),
                         _("add them to the survey or map them in profile.yaml (mapping:)"))
    # Rows in a canonical order (sorted by every column used): the same children give the same
    # fit bit for bit whatever order the survey file lists them in (national vs canonical
    # files), because floating sums and the optimiser's path then never depend on file order.
    df = survey[need].dropna()
    df = df.sort_values(need, kind="mergesort", ignore_index=True)
    if len(df) == 0:
        raise data_error("survey", _("no complete rows for the small-area model"),
                         _("check the outcome, weight and covariate columns"))
    tid = df[territory].astype(str).to_numpy()
    t, ids = pd.factorize(tid, sort=True)  # sorted ids (as np.unique), hashing is faster
    y = df[outcome].to_numpy(dtype=np.float64)
    w = df[weight].to_numpy(dtype=np.float64)
    X = design_matrix(model, df[list(covariates)].to_numpy(dtype=np.float64))
    n_t = np.bincount(t, minlength=len(ids)).astype(np.float64)
    if nested:  # PSU codes within territory (a PSU label reused in two territories is split)
        pc = pd.factorize(df[psu].astype(str).to_numpy())[0].astype(np.int64)
        width = int(pc.max()) + 1
        c, uniq = pd.factorize(t.astype(np.int64) * width + pc)  # (territory, PSU) pairs
        tc = np.asarray(uniq // width, dtype=np.intp)
        # a PSU effect is identified apart from the territory effect only when some
        # territories have two or more PSUs; otherwise the two-level model is fitted
        nested = len(tc) > len(ids)
    if not nested:
        c, tc = t.copy(), np.arange(len(ids))
    return {"ids": ids.astype(object), "t": t.astype(np.intp), "y": y, "w": w, "X": X,
            "n_t": n_t, "c": np.asarray(c, dtype=np.intp), "tc": tc, "nested": nested}


def scale_weights(w: np.ndarray, t: np.ndarray, scaling: str) -> np.ndarray:
    """Survey weights scaled within territory (see the module docstring)."""
    if scaling not in SCALINGS:
        raise ValueError(_("unknown weight scaling {s}; choose one of {all}").format(
            s=scaling, all=", ".join(SCALINGS)))
    if scaling == "unweighted":
        return np.ones_like(w)
    m = int(t.max()) + 1
    s1 = np.bincount(t, weights=w, minlength=m)
    if scaling == "size":
        n = np.bincount(t, minlength=m)
        return w * (n / s1)[t]
    s2 = np.bincount(t, weights=w * w, minlength=m)
    return w * (s1 / s2)[t]


# --------------------------------------------------------------------------------------------
# posterior of u_t and the marginal pseudo-likelihood
def posterior_modes(eta: np.ndarray, y: np.ndarray, w: np.ndarray, t: np.ndarray, m: int,
                    sigma2: float, start: np.ndarray | None = None, max_iter: int = 50
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mode and Laplace sd of the posterior of u_t ignoring PSU effects (vectorised Newton;
    strictly concave, steps damped to at most 2 on the logit scale). Used to centre grids."""
    u = np.zeros(m) if start is None else start.copy()
    prec = 1.0 / sigma2
    for _i in range(max_iter):
        p = expit(eta + u[t])
        g = np.bincount(t, weights=w * (y - p), minlength=m) - u * prec
        h = np.bincount(t, weights=w * p * (1.0 - p), minlength=m) + prec
        step = np.clip(g / h, -2.0, 2.0)
        u += step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = expit(eta + u[t])
    h = np.bincount(t, weights=w * p * (1.0 - p), minlength=m) + prec
    return u, 1.0 / np.sqrt(h)


_GH_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def gh(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes x_k and log weights log(w_k) + x_k² (for adaptive quadrature)."""
    if K not in _GH_CACHE:
        x, wt = np.polynomial.hermite.hermgauss(K)
        _GH_CACHE[K] = (x, np.log(wt) + x * x)
    return _GH_CACHE[K]


def _centre(eta: np.ndarray, d: dict, su2: float, sv2: float, state: dict | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid centre m_t, scale s_t of the posterior of u_t (PSU effects integrated: PSU c adds
    information I_c / (1 + σ_v² I_c) about u_t) and the PSU discount κ_c = 1/(1 + σ_v² I_c)."""
    y, w, t, c, tc = d["y"], d["wt"], d["t"], d["c"], d["tc"]
    m, C = len(d["n_t"]), len(tc)
    start = None if state is None else state.get("mode")
    if start is None:  # warm start from the last fit on these data (fewer Newton passes)
        start = d.get("_mode")
    mode, _sd = posterior_modes(eta, y, w, t, m, su2, start)
    if state is not None:
        state["mode"] = mode
    p = expit(eta + mode[t])
    Ic = np.bincount(c, weights=w * p * (1.0 - p), minlength=C)
    kappa = 1.0 / (1.0 + sv2 * Ic)
    prec = 1.0 / su2 + np.bincount(tc, weights=Ic * kappa, minlength=m)
    return mode, 1.0 / np.sqrt(prec), kappa


def _psu_nodes(sv: float, K: int, nested: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and log weights of the PSU effect v ~ N(0, sv²); one node at 0
    with weight 1 when the model has no PSU level."""
    if not nested:
        return np.zeros(1), np.zeros(1)
    xk, wk = np.polynomial.hermite.hermgauss(K)
    return np.sqrt(2.0) * sv * xk, np.log(wk / np.sqrt(np.pi))


def _nested(theta: np.ndarray, d: dict, G: int, K: int, state: dict, scores: bool = False,
            gradient: bool = True) -> tuple[float, np.ndarray | None] | np.ndarray:
    """Minus the marginal pseudo-log-likelihood of the nested model (territory effect u_t,
    PSU effect v_c) and its Fisher-identity gradient; with ``scores`` the (territories x p)
    contributions to the score of β instead.

    u_t is integrated on a grid of G points spanning ±6 posterior sds around its centre
    (trapezoid rule), v_c by K-point Gauss–Hermite under N(0, σ_v²) for each grid value."""
    X, y, w, t, c, tc = d["X"], d["y"], d["wt"], d["t"], d["c"], d["tc"]
    p_ = X.shape[1]
    m, C = len(d["n_t"]), len(tc)
    beta = theta[:p_]
    su2 = float(np.exp(2.0 * theta[p_]))
    nested = d["nested"]
    sv = float(np.exp(theta[p_ + 1])) if nested else 0.0
    eta = X @ beta
    centre, scale, _k = _centre(eta, d, su2, sv * sv, state)
    Z = np.linspace(-6.0, 6.0, G)
    U = centre[:, None] + scale[:, None] * Z[None, :]  # m x G
    vk, lwk = _psu_nodes(sv, K, nested)
    Kn = len(vk)
    sign = 2.0 * y - 1.0
    # one (rows x points) array in PSU order, summed per PSU by reduceat; log Λ(±η) as the
    # log of expit (a third of log_expit's cost, the same value to an ulp)
    perm, _starts = _psu_segments(d)
    A = _point_loglik(d, eta if perm is None else eta[perm],
                      sign if perm is None else sign[perm],
                      (U[:, :, None] + vk[None, None, :]).reshape(m, G * Kn), False)[0]
    A = A.reshape(C, G, Kn)
    B = A + lwk[None, None, :]
    logI = logsumexp(B, axis=2)  # C x G
    rho = np.exp(B - logI[:, :, None])
    H = np.empty((m, G))
    for g in range(G):
        H[:, g] = np.bincount(tc, weights=logI[:, g], minlength=m)
    H += -0.5 * U ** 2 / su2 - 0.5 * np.log(2.0 * np.pi * su2)
    lt = logsumexp(H, axis=1) + np.log(scale * (Z[1] - Z[0]))
    pi = np.exp(H - logsumexp(H, axis=1, keepdims=True))
    state["grid"] = (U, pi)
    if not gradient and not scores:
        return -float(lt.sum()), None
    r = np.zeros(len(y))
    for g in range(G):
        eg = eta + U[t, g]
        for k in range(Kn):
            r += (pi[t, g] * rho[c, g, k]) * (y - expit(eg + vk[k]))
    if scores:
        S = np.zeros((m, p_))
        np.add.at(S, t, X * (w * r)[:, None])
        return S
    gb = X.T @ (w * r)
    gu = float(np.sum(pi * (U ** 2 / su2 - 1.0)))
    pen = state.get("penalty", 0.0)  # boundary-avoiding Gamma(2) prior: + pen log σ
    grad = [gb, [gu + pen]]
    f = -float(lt.sum()) - pen * theta[p_]
    if nested:
        Ev2 = np.einsum("cg,cgk,k->c", pi[tc], rho, vk ** 2)
        grad.append([float(np.sum(Ev2 / (sv * sv) - 1.0)) + pen])
        f -= pen * theta[p_ + 1]
    return f, -np.concatenate(grad)


def _start_beta(d: dict[str, np.ndarray], model: Any = None) -> np.ndarray:
    """Weighted logit (IRLS, scaled weights) as the starting value of β — itself started at
    the survey model's coefficients when their columns are the design's (measured on the
    200 k survey: 3 IRLS steps instead of 7; the same fixed point to 1e-9)."""
    X, y, w = d["X"], d["y"], d["wt"]
    beta = np.zeros(X.shape[1])
    params = getattr(model, "params", None)
    if params is not None:
        names = ["const", *model.covariates]
        if len(names) == X.shape[1] and all(n in params.index for n in names):
            beta = np.asarray(params.loc[names], dtype=np.float64).copy()
            if not np.all(np.isfinite(beta)):
                beta = np.zeros(X.shape[1])
    for _i in range(30):
        p = expit(X @ beta)
        W = w * p * (1.0 - p)
        H = X.T @ (X * W[:, None]) + 1e-8 * np.eye(X.shape[1])
        step = np.linalg.solve(H, X.T @ (w * (y - p)))
        beta += np.clip(step, -5.0, 5.0)
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


# --------------------------------------------------------------------------------------------
# Newton fit: value, Fisher-identity gradient and Louis Hessian in one pass
def u_rule(kind: str = "grid", G: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Standardised nodes z_g and log weights for ∫ f(u) du ≈ s Σ_g e^{lz_g} f(m + s z_g):
    ``"grid"`` the trapezoid rule on ±6 (G points, as :func:`_nested`), ``"gh"`` adaptive
    Gauss–Hermite (G nodes; see ``FIT_U_NODES`` for where each is used)."""
    if kind == "grid":
        Z = np.linspace(-6.0, 6.0, G)
        return Z, np.full(G, np.log(Z[1] - Z[0]))
    x, lw = gh(G)
    return np.sqrt(2.0) * x, lw + 0.5 * np.log(2.0)


def _psu_segments(d: dict) -> tuple[np.ndarray | None, np.ndarray]:
    """Rows ordered by PSU (stable; None when they already are) and the start of each PSU's
    segment, cached in ``d``: per-PSU sums become ``np.add.reduceat`` over contiguous rows."""
    if "_perm" not in d:
        c = d["c"]
        perm = None if bool(np.all(c[1:] >= c[:-1])) else np.argsort(c, kind="stable")
        cs = c if perm is None else c[perm]
        d["_perm"], d["_starts"] = perm, np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    return d["_perm"], d["_starts"]


def _psu_rows(d: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Design rows, scaled weights, territory and PSU of each row in PSU order (cached in
    ``d``; they do not depend on θ or on y, so bootstrap replicates share them)."""
    if "_rows" not in d:
        perm, starts = _psu_segments(d)
        n = len(d["c"])
        cp = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
        if perm is None:
            d["_rows"] = (d["X"], d["wt"], d["t"], cp)
        else:
            d["_rows"] = (d["X"][perm], d["wt"][perm], d["t"][perm], cp)
    return d["_rows"]


def _psu_chunks(d: dict) -> list[tuple[int, int, np.ndarray, int, int]]:
    """Row chunks of about ``ROW_CHUNK`` rows that end on PSU boundaries (cached): (first row,
    end row, PSU starts within the chunk, first PSU, end PSU). Why: a pass over (rows x
    quadrature points) in chunks keeps its temporaries in the CPU cache — measured 1.8x
    faster than whole-array passes on the 200k survey."""
    if "_chunks" not in d:
        _perm, starts = _psu_segments(d)
        n = len(d["c"])
        bounds = np.unique(np.r_[starts[np.searchsorted(starts, np.arange(0, n, ROW_CHUNK))],
                                 n])
        out, s0 = [], 0
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            loc = starts[(starts >= a) & (starts < b)] - a
            out.append((int(a), int(b), loc, s0, s0 + len(loc)))
            s0 += len(loc)
        d["_chunks"] = out
    return d["_chunks"]


def _point_loglik(d: dict, base: np.ndarray, sign: np.ndarray, off: np.ndarray,
                  keep: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per PSU and quadrature point x: Σ_j w_j log Λ(±(η_j + off_{t_j x})) (C x X), rows in
    PSU order, in cache-sized chunks; with ``keep`` also Λ(±·) itself (rows x X)."""
    _Xp, wp, tp, _cp = _psu_rows(d)
    X_ = off.shape[1]
    A = np.empty((len(d["tc"]), X_))
    Q = np.empty((len(base), X_)) if keep else None
    for a, b, loc, s0, s1 in _psu_chunks(d):
        q = base[a:b, None] + off[tp[a:b]]
        q *= sign[a:b, None]
        expit(q, out=q)
        if keep:
            Q[a:b] = q
        np.log(q, out=q)
        q *= wp[a:b, None]
        A[s0:s1] = np.add.reduceat(q, loc, axis=0)
    return A, Q


def _louis(theta: np.ndarray, d: dict, K: int, state: dict,
           rule: tuple[np.ndarray, np.ndarray] | None = None, hessian: bool = True
           ) -> tuple[float, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Minus the marginal pseudo-log-likelihood (as :func:`_nested`), its gradient (Fisher
    identity), its Hessian (Louis 1982: minus the posterior mean of the complete-data Hessian
    minus the posterior variance of the complete-data score, per territory) and the
    per-territory scores of β (m x p, for the sandwich).

    Why: with the exact Hessian a Newton iteration converges in 3–6 evaluations where
    L-BFGS-B needed ~40–100, and the sandwich needs no finite differences. Every row pass
    computes one expit per quadrature point; log Λ(±η) and y − p follow from it."""
    X, y, tc = d["X"], d["y"], d["tc"]
    Z, lz = u_rule() if rule is None else rule
    n, p_ = X.shape
    m, C = len(d["n_t"]), len(tc)
    beta = theta[:p_]
    su2 = float(np.exp(2.0 * theta[p_]))
    nested = d["nested"]
    sv = float(np.exp(theta[p_ + 1])) if nested else 0.0
    nv = 2 if nested else 1
    q_ = p_ + nv
    eta = X @ beta
    centre, scale, _k = _centre(eta, d, su2, sv * sv, state)
    G = len(Z)
    U = centre[:, None] + scale[:, None] * Z[None, :]  # m x G
    vk, lwk = _psu_nodes(sv, K, nested)
    Kn = len(vk)
    GK = G * Kn
    perm, starts = _psu_segments(d)
    # rows in PSU order from here on (sums over PSUs are contiguous); θ-free arrays cached
    Xp, wp, tp, cp = _psu_rows(d)
    ident = perm is None
    sign = 2.0 * (y if ident else y[perm]) - 1.0
    base = eta if ident else eta[perm]
    off = (U[:, :, None] + vk[None, None, :]).reshape(m, GK)  # u + v at each point
    A, Q = _point_loglik(d, base, sign, off, True)  # Q: Λ of the observed outcome
    B = A.reshape(C, G, Kn) + lwk[None, None, :]
    logI = logsumexp(B, axis=2)  # C x G
    rho = np.exp(B - logI[:, :, None])  # C x G x Kn
    H = np.empty((m, G))
    for g in range(G):
        H[:, g] = np.bincount(tc, weights=logI[:, g], minlength=m)
    H += -0.5 * U ** 2 / su2 - 0.5 * np.log(2.0 * np.pi * su2) + lz[None, :]
    lse = logsumexp(H, axis=1, keepdims=True)
    lt = lse[:, 0] + np.log(scale)
    pi = np.exp(H - lse)  # m x G
    state["grid"] = (U, pi)
    om = (pi[tc][:, :, None] * rho).reshape(C, GK)  # posterior weight of (g, k) per PSU
    pen = state.get("penalty", 0.0)
    f = -float(lt.sum()) - pen * float(np.sum(theta[p_:p_ + nv]))
    if not hessian:  # value and gradient only (no per-PSU score products)
        r = np.empty(n)  # y − p, posterior mean
        for a, b, _loc, _s0, _s1 in _psu_chunks(d):
            r[a:b] = ((1.0 - Q[a:b]) * om[cp[a:b]]).sum(1) * sign[a:b]
        grad = np.empty(q_)
        grad[:p_] = -(Xp.T @ (wp * r))
        grad[p_] = -float(np.sum(pi * (U ** 2 / su2 - 1.0))) - pen
        # the variance block of the Hessian is cheap (territory- and PSU-level terms only):
        # exact, for chord steps that keep the β blocks of an earlier Hessian
        au = U ** 2 / su2 - 1.0
        Ea = (pi * au).sum(1)
        Hs = np.zeros((nv, nv))
        Hs[0, 0] = float(np.sum(pi * U ** 2)) * 2.0 / su2 - float(
            np.sum(pi * au ** 2) - Ea @ Ea)
        if nested:
            bk = np.tile(vk ** 2 / (sv * sv) - 1.0, G)
            Ev2 = float(np.sum(om * np.tile(vk ** 2, G)[None, :]))
            grad[p_ + 1] = -(Ev2 / (sv * sv) - C) - pen
            mcb = (rho * (vk ** 2 / (sv * sv) - 1.0)[None, None, :]).sum(2)  # C x G
            Etb = np.zeros((m, G))
            for g in range(G):
                Etb[:, g] = np.bincount(tc, weights=mcb[:, g], minlength=m)
            Eb = (pi * Etb).sum(1)
            vbb = (float(np.sum(om * bk[None, :] ** 2)) - float(np.sum(pi[tc] * mcb ** 2))
                   + float(np.sum(pi * Etb ** 2)) - Eb @ Eb)
            Hs[1, 1] = 2.0 * Ev2 / (sv * sv) - vbb
            Hs[0, 1] = Hs[1, 0] = -(float(np.sum(pi * au * Etb)) - Ea @ Eb)
        return f, grad, Hs, None
    # complete-data scores per PSU and quadrature point: β part, then log σ_v part
    if "_Xw" not in d:
        d["_Xw"] = Xp * wp[:, None]
    Xw = d["_Xw"]
    # β scores: the products (y − p) x w for every quadrature point summed per PSU, and
    # the posterior weight of p(1 − p) per row, in one compiled pass over the rows
    Sc = np.zeros((C, GK, q_))  # the kernel fills the β columns [:p]
    vw = np.empty(n)
    psu_scores(Q, np.ascontiguousarray(om), cp.astype(np.intp, copy=False),
               np.ascontiguousarray(sign, dtype=np.float64), np.ascontiguousarray(Xw), vw, Sc)
    au = U ** 2 / su2 - 1.0  # m x G: score of log σ_u given u
    if nested:
        Sc[:, :, p_ + 1] = np.tile(vk ** 2 / (sv * sv) - 1.0, G)[None, :]
    # posterior moments: per PSU given g, then per territory
    S4 = Sc.reshape(C, G, Kn, q_)
    mean_cg = (rho[:, :, :, None] * S4).sum(2)  # C x G x q
    Etg = _sum_rows(tc, np.ones(C), mean_cg.reshape(C, G * q_), m).reshape(m, G, q_)
    Etg[:, :, p_] += au
    Et = np.einsum("tg,tgq->tq", pi, Etg)  # per-territory scores
    flat = Sc.reshape(C * GK, q_)
    second = (flat * om.reshape(-1, 1)).T @ flat  # Σ_c Σ_gk πρ s s'
    mf = mean_cg.reshape(C * G, q_)
    second -= (mf * pi[tc].reshape(-1, 1)).T @ mf  # minus Σ_c Σ_g π mean mean'
    ef = Etg.reshape(m * G, q_)
    second += (ef * pi.reshape(-1, 1)).T @ ef
    second -= Et.T @ Et
    # posterior mean of the complete-data Hessian
    Ecd = np.zeros((q_, q_))
    Ecd[:p_, :p_] = -(Xp.T @ (Xw * vw[:, None]))
    Ecd[p_, p_] = -2.0 * float(np.sum(pi * U ** 2)) / su2
    if nested:
        Ecd[p_ + 1, p_ + 1] = -2.0 * float(np.sum(om * np.tile(vk ** 2, G)[None, :])) / (sv * sv)
    hess = -(Ecd + second)
    grad = -Et.sum(0)
    grad[p_:] -= pen
    return f, grad, (hess + hess.T) / 2.0, Et[:, :p_]


def newton_theta(d: dict, theta0: np.ndarray, nodes: int = FIT_NODES, prior: bool = True,
                 max_iter: int = 100, rule: tuple[np.ndarray, np.ndarray] | None = None,
                 tol: float = 1e-10, hessian: np.ndarray | None = None,
                 chord_iter: int = 4) -> optimize.OptimizeResult:
    """Maximise the marginal pseudo-likelihood by Newton's method with the Louis Hessian,
    backtracking line search and the bounds of log σ (a bound that the gradient pushes
    against is held fixed). Stops when the Newton decrement g'H⁻¹g/2 falls below ``tol``:
    the estimate is the root of the score equations (deterministic: same data, same bytes).

    ``hessian``: a fixed Hessian (the chord method: each iteration then costs a value and a
    gradient only) — for bootstrap refits of similar data sets; after ``chord_iter`` chord
    steps without convergence the Louis Hessian is computed again at every step."""
    p_ = d["X"].shape[1]
    lo_b, hi_b = np.log(SIGMA_FLOOR / 10), 3.0
    state: dict = {"penalty": BOUNDARY_PRIOR if prior else 0.0}
    theta = np.asarray(theta0, dtype=np.float64).copy()
    theta[p_:] = np.clip(theta[p_:], lo_b, hi_b)
    if rule is None:  # see FIT_U_NODES
        rule = u_rule("grid", GRID_POINTS) if d["nested"] else u_rule("gh", FIT_U_NODES)
    full = hessian is None

    def chord(Hs: np.ndarray) -> np.ndarray:  # fixed β blocks, exact variance block
        out = np.array(hessian, dtype=np.float64)
        out[p_:, p_:] = Hs
        return out

    f, g, H, S = _louis(theta, d, nodes, state, rule, full)
    H = H if full else chord(H)
    nfev, success, msg, nit = 1, False, "maximum number of iterations reached", 0
    for _it in range(max_iter + 1):
        free = np.ones(len(theta), dtype=bool)
        sig = theta[p_:]
        free[p_:] = ~(((sig <= lo_b) & (g[p_:] > 0)) | ((sig >= hi_b) & (g[p_:] < 0)))
        Hf, gf = H[np.ix_(free, free)], g[free]
        lam, Qv = np.linalg.eigh(Hf)  # |eigenvalues|: a descent direction far from θ̂
        lam = np.maximum(np.abs(lam), 1e-8 * max(float(np.max(np.abs(lam))), 1.0))
        step = np.zeros(len(theta))
        step[free] = -(Qv @ ((Qv.T @ gf) / lam))
        dec = -float(g @ step) / 2.0
        if dec < tol:
            success, msg = True, "Newton decrement below tolerance"
            break
        if nit == max_iter:
            break
        nit += 1
        if not full and nit > chord_iter:  # the chord is slow here: exact Hessians from now
            full = True
            f, g, H, S = _louis(theta, d, nodes, state, rule, True)
            nfev += 1
            continue
        step[p_:] = np.clip(step[p_:], -2.0, 2.0)
        a, accepted = 1.0, False
        for _ls in range(NEWTON_HALVINGS):
            trial = theta + a * step
            trial[p_:] = np.clip(trial[p_:], lo_b, hi_b)
            st = dict(state)
            ft, gt, Ht, St = _louis(trial, d, nodes, st, rule, full)
            Ht = Ht if full else chord(Ht)
            nfev += 1
            # near the root of the score equations the quadrature's value is less exact
            # than its gradient (error ~1e-5 of a unit); there the full step is taken
            if ft <= f - 1e-4 * a * dec or dec < NEWTON_FULL_STEP:
                accepted = True
                break
            a /= 2.0
        if not accepted:  # no descent along the Newton direction: the caller falls back
            msg = "Newton line search found no decrease"
            break
        theta, f, g, H, S, state = trial, ft, gt, Ht, St, st
    d["_mode"] = state.get("mode")  # posterior modes at θ̂: warm start of later passes
    return optimize.OptimizeResult(x=theta, fun=f, jac=g, hess=H, scores=S, nit=nit,
                                   nfev=nfev, success=success, message=msg)


def optimize_theta(d: dict, theta0: np.ndarray, nodes: int = FIT_NODES, prior: bool = True,
                   max_iter: int = 200, method: str = "newton",
                   hessian: np.ndarray | None = None) -> optimize.OptimizeResult:
    """Maximise the marginal pseudo-likelihood over θ = (β, log σ_u[, log σ_v]) from
    ``theta0`` (``d``: survey arrays with scaled weights ``wt``).

    ``method="newton"`` (default): :func:`newton_theta` (Louis Hessian; quadrature of u as
    in ``FIT_U_NODES``), converged to the root of the score equations;
    ``"lbfgs"``: the previous L-BFGS-B on the trapezoid grid, kept for comparison (it stops
    on a relative change of 1e-9 in the objective, which on the samples leaves σ̂_u up to
    ~1% from the root)."""
    if method == "newton":
        res = newton_theta(d, theta0, nodes, prior, min(max_iter, NEWTON_MAX_ITER),
                           hessian=hessian)
        if res.success:
            return res
        # Newton can stall far from θ̂ (measured: a Chile replicate whose Newton iterates
        # locked σ_u = σ_v and took 116 s without converging): L-BFGS-B from the same start,
        # then a short Newton polish from its end point (quadratic convergence there).
        first = optimize_theta(d, theta0, nodes, prior, max_iter, "lbfgs")
        polish = newton_theta(d, first.x, nodes, prior, min(NEWTON_POLISH_ITER, max_iter))
        return polish if polish.success or polish.fun <= first.fun else first
    p_ = d["X"].shape[1]
    state: dict = {"penalty": BOUNDARY_PRIOR if prior else 0.0}
    nv = 2 if d["nested"] else 1
    return optimize.minimize(_nested, theta0, args=(d, GRID_POINTS, nodes, state), jac=True,
                             method="L-BFGS-B",
                             bounds=[(None, None)] * p_ + [(np.log(SIGMA_FLOOR / 10), 3.0)] * nv,
                             options={"maxiter": max_iter, "ftol": 1e-9, "gtol": 1e-5})


def fit_mixed_logit(survey: pd.DataFrame, covariates: Sequence[str], *,
                    outcome: str = "child_labour", weight: str = "weight",
                    territory: str = TERRITORY_ID, psu: str | None = "psu",
                    scaling: str = "size", model: Any = None, nodes: int = FIT_NODES,
                    start: np.ndarray | None = None, max_iter: int = 200, prior: bool = True,
                    method: str = "newton", report: list[str] | None = None
                    ) -> MixedLogitFit:
    """Fit the unit-level logit mixed model by marginal pseudo-likelihood.

    ``psu``: the survey's PSU column; when present the model has a PSU effect v_c ~ N(0, σ_v²)
    nested in the territory (children of one PSU share neighbourhood conditions; ignoring it
    inflates σ̂_u — measured on the clustered samples: σ̂_u 0.6 for a true 0.25 — and makes
    the EBP trust the one or two sampled PSUs of a territory too much). ``model`` (optional):
    the fixed-effects :class:`~clrisk.phase1.model.RiskModel`, only for derived design terms.
    Raises a translated :class:`~clrisk.errors.DataError` when the territory variance cannot
    be estimated (no territory with two surveyed children). A variance estimate on the
    boundary (σ̂_u < 1e-3) or a fit that does not converge is kept and flagged with a
    :class:`SAEWarning` (the pipeline then falls back to the synthetic projection); with
    ``report`` (a list) the messages are appended to it instead, for a caller that fits in a
    background thread (warning filters are process-wide: a thread must not touch them).

    One BLAS thread (as :func:`~clrisk.phase1.model.fit_risk_model`): every product is
    n x p by p or p x p with p ≈ 12, where OpenBLAS threads only add synchronisation — and
    their spinning slows the other work of a shared machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_mixed_logit(survey, covariates, outcome, weight, territory, psu, scaling,
                                model, nodes, start, max_iter, prior, method, report)


def _fit_mixed_logit(survey: pd.DataFrame, covariates: Sequence[str], outcome: str,
                     weight: str, territory: str, psu: str | None, scaling: str, model: Any,
                     nodes: int, start: np.ndarray | None, max_iter: int, prior: bool,
                     method: str, report: list[str] | None = None) -> MixedLogitFit:
    covariates = list(covariates)
    d = _survey_arrays(survey, covariates, outcome, weight, territory, model, psu)
    if not np.any(d["n_t"] > 1):
        raise data_error("survey", _("no territory has more than one surveyed child, so the "
                                     "variance between territories cannot be estimated"),
                         _("use the official synthetic projection (profile.yaml small_area: "
                           "{estimator: synthetic}) or a survey with several children per "
                           "territory"), territory)
    if np.any(d["w"] <= 0) or not np.all(np.isfinite(d["w"])):
        bad = np.flatnonzero(~(d["w"] > 0)) + 1
        raise data_error("survey", _("survey weights must be positive"),
                         _("fix or drop these rows"), weight, bad)
    d["wt"] = scale_weights(d["w"], d["t"], scaling)
    p_ = d["X"].shape[1]
    nv = 2 if d["nested"] else 1
    if start is None:
        theta0 = np.concatenate([_start_beta(d, model), [np.log(0.3)] * nv])
    else:
        theta0 = np.asarray(start, dtype=np.float64)[:p_ + nv]
    res = optimize_theta(d, theta0, nodes, prior, max_iter, method)
    theta = res.x
    sigma2 = float(np.exp(2.0 * theta[p_]))
    sigma2_psu = float(np.exp(2.0 * theta[p_ + 1])) if d["nested"] else 0.0
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-3

    def say(msg: str) -> None:
        if report is not None:
            report.append(msg)
        else:
            warnings.warn(msg, SAEWarning, stacklevel=3)

    if not converged:
        say(_("the small-area model did not converge ({msg}); its estimates are "
              "reported but should be checked").format(msg=res.message))
    boundary = np.sqrt(sigma2) < SIGMA_FLOOR
    if boundary:
        sigma2 = 0.0
        say(_("the estimated variance between territories is 0 (σ̂_u² on the "
              "boundary): the survey shows no territory deviation beyond the "
              "covariates; the small-area estimate equals the model's synthetic "
              "projection"))
    names = ["const", *covariates] if p_ == len(covariates) + 1 else [
        f"x{j}" for j in range(p_)]
    fit = MixedLogitFit(theta[:p_].copy(), np.zeros((p_, p_)), sigma2, names, covariates,
                        scaling, converged, int(res.nit), -float(res.fun), d["ids"],
                        d["n_t"], bool(boundary), prior, model, d, sigma2_psu)
    if "hess" in res:
        fit.hessian = res.hess
        fit.cov_beta = _sandwich_from(res.hess[:p_, :p_], res.scores)
    else:
        fit.cov_beta = _sandwich(fit, nodes)
    return fit


def _theta(fit: MixedLogitFit, beta: np.ndarray | None = None) -> np.ndarray:
    b = fit.beta if beta is None else beta
    s = [0.5 * np.log(max(fit.sigma2, SIGMA_FLOOR ** 2))]
    if fit.data["nested"]:
        s.append(0.5 * np.log(max(fit.sigma2_psu, SIGMA_FLOOR ** 2)))
    return np.concatenate([b, s])


def _sandwich_from(A: np.ndarray, S0: np.ndarray) -> np.ndarray:
    """V(β̂) = A⁻¹ B A⁻¹: A the (Louis) Hessian block of β, B = m/(m−1) Σ_t (s_t − s̄)(s_t − s̄)'
    from the per-territory scores at θ̂ (territories as clusters)."""
    m = S0.shape[0]
    Sc = S0 - S0.mean(axis=0)
    B = m / max(m - 1, 1) * Sc.T @ Sc
    Ai = np.linalg.pinv((A + A.T) / 2.0)
    return Ai @ B @ Ai


def _sandwich(fit: MixedLogitFit, K: int) -> np.ndarray:
    """V(β̂) = A⁻¹ B A⁻¹ with territories as clusters: A by central differences of the total
    score, B = m/(m−1) Σ_t (s_t − s̄)(s_t − s̄)'."""
    d = fit.data
    p_ = len(fit.beta)

    def S(beta: np.ndarray) -> np.ndarray:
        return _nested(_theta(fit, beta), d, GRID_POINTS, K, {}, scores=True)

    S0 = S(fit.beta)
    m = S0.shape[0]
    Sc = S0 - S0.mean(axis=0)
    B = m / max(m - 1, 1) * Sc.T @ Sc
    A = np.empty((p_, p_))
    s0 = S0.sum(0)
    for j in range(p_):  # forward differences: p score evaluations
        h = 1e-5 * max(1.0, abs(fit.beta[j]))
        e = np.zeros(p_)
        e[j] = h
        A[:, j] = -(S(fit.beta + e).sum(0) - s0) / h
    A = (A + A.T) / 2.0
    Ai = np.linalg.pinv(A)
    return Ai @ B @ Ai


# --------------------------------------------------------------------------------------------
# posterior of u_t for prediction
@dataclass
class Posterior:
    """Per census territory: posterior mean/sd of u_t, adaptive nodes/weights for integrals,
    the derivative of the posterior mean with respect to β (zero for unsampled ones)."""

    mean: np.ndarray
    sd: np.ndarray
    nodes: np.ndarray  # T x K
    weights: np.ndarray  # T x K (sum to 1)
    dmean_dbeta: np.ndarray  # T x p
    sampled: np.ndarray  # bool T
    n_surveyed: np.ndarray  # T
    survey_side: _SurveyPosterior | None = None  # the survey territories' values (if any)


@dataclass(frozen=True)
class _SurveyPosterior:
    """The posterior of u_t for the survey's territories (``fit.data["ids"]`` order): mean,
    sd, adaptive nodes and weights, and dμ/dβ (None when not asked for)."""

    mean: np.ndarray
    sd: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    dmean_dbeta: np.ndarray | None


def _survey_posterior(fit: MixedLogitFit, d: dict, beta: np.ndarray, s2: float, sv2: float,
                      K: int, derivative: bool) -> _SurveyPosterior:
    x, lw = gh(K)
    theta = np.concatenate([beta, [0.5 * np.log(s2)]]
                           + ([[0.5 * np.log(max(sv2, SIGMA_FLOOR ** 2))]]
                              if d["nested"] else []))
    state: dict = {}
    _nested(theta, d, GRID_POINTS, FIT_NODES, state, gradient=False)
    U, pg = state["grid"]
    mu = (pg * U).sum(1)
    tau = np.sqrt(np.clip((pg * U ** 2).sum(1) - mu ** 2, 1e-300, None))
    vn = mu[:, None] + np.sqrt(2.0) * tau[:, None] * x[None, :]
    # posterior density at the new nodes: log density interpolated on the grid
    logpg = np.log(np.clip(pg, 1e-300, None))
    la = _interp_rows(vn, U, logpg, -700.0)
    la += 0.5 * ((vn - mu[:, None]) / tau[:, None]) ** 2 + np.log(
        np.exp(lw - x * x))[None, :]
    aw = np.exp(la - logsumexp(la, axis=1, keepdims=True))
    dmu = None
    if derivative:
        # d mu / d beta (implicit function at the centre, PSU information discounted)
        X, w, t, c = d["X"], d["wt"], d["t"], d["c"]
        eta = X @ beta
        centre, scale, kappa = _centre(eta, d, s2, sv2 if d["nested"] else 0.0)
        p = expit(eta + centre[t])
        v = w * p * (1.0 - p) * kappa[c]
        num = _sum_rows(t, v, X, len(d["n_t"]))
        dmu = -num * (scale ** 2)[:, None]
    return _SurveyPosterior(mu, tau, vn, aw, dmu)


def prepare_posteriors(fit: MixedLogitFit, K: int = PREDICT_NODES) -> None:
    """Compute, on the calling thread, the survey side of the posterior at σ̂_u (with dμ/dβ);
    :func:`posterior` then only places it among the census territories. Same function, same
    inputs: the same bytes as computing it when asked.

    Why: it needs the survey only. Run in the fit's thread right after the fit
    (:func:`clrisk.phase1.sae_run.start_small_area_fit`), it overlaps the census read, which
    takes longer than the fit, instead of delaying the census pass that needs it. The
    σ-mixture's other posteriors stay beside the census pass (:func:`start_posteriors`):
    computed here too they made the fit's thread, not the read, the longer one (measured at
    10 M children: 0.28 s more, the run 0.1 s slower)."""
    s2 = max(float(fit.sigma2), SIGMA_FLOOR ** 2)
    with threadpool_limits(limits=1, user_api="blas"):  # the other core reads the census
        remember_posterior(fit, K, _survey_posterior(fit, fit.data, fit.beta, s2,
                                                     fit.sigma2_psu, K, True))


def start_posteriors(fit: MixedLogitFit, K: int = PREDICT_NODES) -> None:
    """Start computing, in one background thread, the survey side of the posteriors at the
    σ_u values of the σ-mixture (:func:`~clrisk.phase1.sae_sigma.sigma_mixture_mse`, same
    formula and constants) other than σ̂_u itself; :func:`posterior` then only places them
    among the census territories (waiting for one still being computed). Idempotent.

    Why: they need the survey only, so they run beside the census pass (whose two lanes
    release the interpreter lock, :mod:`clrisk.phase1.kernels`). Same function, same inputs:
    the same bytes as computing them when asked. The middle node of the odd rule asks for σ̂_u
    exactly: its nodes and weights are those of the posterior at σ̂_u
    (:func:`remember_posterior`, :func:`prepare_posteriors`)."""
    from concurrent.futures import Future

    from clrisk.phase1 import sae_sigma

    memo = fit.data.setdefault("_post_memo", {})
    wanted = []
    p_ = len(fit.beta)
    curv = None if fit.hessian is None or not fit.hessian[p_, p_] > 0 else float(
        fit.hessian[p_, p_])
    if curv is not None and not fit.boundary and fit.sigma2 > 0:
        sd = min(1.0 / np.sqrt(curv), sae_sigma.MAX_LOG_SD)
        x, _w = np.polynomial.hermite.hermgauss(sae_sigma.SIGMA_NODES)
        for xq in x:
            s2 = float(fit.sigma2 * np.exp(2.0 * np.sqrt(2.0) * sd * xq))
            if s2 != float(fit.sigma2):  # the middle node: σ̂_u itself
                wanted.append((s2, K, False))
    todo = [(key, Future()) for key in wanted if key not in memo]
    if not todo:
        return
    for key, fut in todo:
        memo[key] = fut

    def work() -> None:
        for (s2, k, derivative), fut in todo:
            try:
                fut.set_result(_survey_posterior(
                    fit, fit.data, fit.beta, max(s2, SIGMA_FLOOR ** 2), fit.sigma2_psu, k,
                    derivative))
            except BaseException as exc:  # noqa: BLE001 - raised where it is asked for
                fut.set_exception(exc)

    threading.Thread(target=work, name="sae-posteriors", daemon=True).start()


def remember_posterior(fit: MixedLogitFit, K: int, survey_side: _SurveyPosterior | None
                       ) -> None:
    """Keep the survey side of the posterior at σ̂_u (with dμ/dβ) for the σ-mixture's
    middle node (see :func:`start_posteriors`)."""
    from concurrent.futures import Future

    if survey_side is None or survey_side.dmean_dbeta is None:
        return

    fut: Future = Future()
    fut.set_result(survey_side)
    fit.data.setdefault("_post_memo", {})[(float(fit.sigma2), K, True)] = fut


def posterior(fit: MixedLogitFit, territory_ids: np.ndarray, K: int = PREDICT_NODES,
              d: dict | None = None, beta: np.ndarray | None = None,
              sigma2: float | None = None, sigma2_psu: float | None = None,
              derivative: bool = True) -> Posterior:
    """Posterior of u_t for every census territory (PSU effects integrated out);
    ``derivative=False`` skips dμ/dβ (zeros). For the fit's own data and coefficients, a
    survey side started by :func:`start_posteriors` is used (same values)."""
    key_s2 = float(fit.sigma2 if sigma2 is None else sigma2)
    d_ = fit.data if d is None else d
    beta = fit.beta if beta is None else beta
    s2 = max(key_s2, SIGMA_FLOOR ** 2)
    sv2 = fit.sigma2_psu if sigma2_psu is None else sigma2_psu
    T = len(territory_ids)
    x, lw = gh(K)
    mean, sd = np.zeros(T), np.full(T, np.sqrt(s2))
    nodes = np.sqrt(2.0 * s2) * np.broadcast_to(x, (T, K)).copy()
    weights = np.broadcast_to(np.exp(lw - x * x) / np.sqrt(np.pi), (T, K)).copy()
    dmu = np.zeros((T, len(beta)))
    n_s = np.zeros(T)
    pos = pd.Index(np.asarray(territory_ids).astype(str)).get_indexer(
        np.asarray(d_["ids"]).astype(str))
    sampled = np.zeros(T, dtype=bool)
    keep = pos >= 0
    if keep.any():
        surv = None
        memo = fit.data.get("_post_memo") if (d is None and sigma2_psu is None
                                               and beta is fit.beta) else None
        if memo is not None:
            fut = memo.get((key_s2, K, derivative)) or (
                None if derivative else memo.get((key_s2, K, True)))
            surv = None if fut is None else fut.result()
        if surv is None:
            surv = _survey_posterior(fit, d_, beta, s2, sv2, K, derivative)
        tgt = pos[keep]
        if derivative:
            dmu[tgt] = surv.dmean_dbeta[keep]
        mean[tgt], sd[tgt] = surv.mean[keep], surv.sd[keep]
        nodes[tgt], weights[tgt] = surv.nodes[keep], surv.weights[keep]
        n_s[tgt] = d_["n_t"][keep]
        sampled[tgt] = True
        return Posterior(mean, sd, nodes, weights, dmu, sampled, n_s, surv)
    return Posterior(mean, sd, nodes, weights, dmu, sampled, n_s)


def _interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, outside: float
                 ) -> np.ndarray:
    """Row-wise ``np.interp(x[i], xp[i], fp[i], left=outside, right=outside)`` for ascending
    rows, vectorised (one call instead of one per territory) with np.interp's arithmetic:
    segment j with xp[j] <= x < xp[j+1], value slope·(x − xp[j]) + fp[j], fp[-1] at
    x == xp[-1]."""
    R, G = xp.shape
    j = np.zeros(x.shape, dtype=np.intp)
    for g in range(1, G - 1):  # count grid points <= x (ascending rows)
        j += x >= xp[:, g:g + 1]
    rows = np.arange(R)[:, None]
    x0, x1 = xp[rows, j], xp[rows, j + 1]
    y0, y1 = fp[rows, j], fp[rows, j + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (y1 - y0) / (x1 - x0) * (x - x0) + y0
    out = np.where(x == xp[:, -1:], fp[:, -1:], out)
    return np.where((x < xp[:, :1]) | (x > xp[:, -1:]), outside, out)


_F_CACHE: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
F_GRID = np.linspace(-40.0, 40.0, 16001)


def logistic_normal(sigma2_psu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Table of F(s) = E[Λ(s + v)], v ~ N(0, σ_v²), and F'(s) on ``F_GRID`` (40-point
    Gauss–Hermite): a census child's probability with its PSU effect integrated out."""
    key = round(float(sigma2_psu), 12)
    if key not in _F_CACHE:
        x, wt = np.polynomial.hermite.hermgauss(40)
        v = np.sqrt(2.0 * sigma2_psu) * x
        P = expit(F_GRID[:, None] + v[None, :])
        _F_CACHE.clear()
        _F_CACHE[key] = (F_GRID, P @ wt / np.sqrt(np.pi), (P * (1 - P)) @ wt / np.sqrt(np.pi))
    return _F_CACHE[key]


def _on_grid(s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of a table on the uniform ``F_GRID`` (clamped at its ends, as
    ``np.interp``; within 1e-11 of it). Why not ``np.interp``: its binary search cost
    ~7 ms per 16 k × 7 values here; on a uniform grid the cell is one multiplication."""
    x = s * _F_INV_STEP
    x += _F_OFFSET
    np.clip(x, 0.0, len(F_GRID) - 1.0, out=x)
    j = x.astype(np.intp)
    x -= j
    lo = np.take(values, j)
    out = np.take(values[1:], np.minimum(j, len(F_GRID) - 2))
    out -= lo
    out *= x
    out += lo
    return out


_F_INV_STEP = 1.0 / (F_GRID[1] - F_GRID[0])
_F_OFFSET = -F_GRID[0] * _F_INV_STEP


def _prob(s: np.ndarray, sigma2_psu: float) -> np.ndarray:
    if sigma2_psu <= 0:
        return expit(s)
    return _on_grid(s, logistic_normal(sigma2_psu)[1])


def _dprob(s: np.ndarray, sigma2_psu: float) -> np.ndarray:
    if sigma2_psu <= 0:
        p = expit(s)
        return p * (1.0 - p)
    return _on_grid(s, logistic_normal(sigma2_psu)[2])


def _logistic_derivatives(N: int) -> np.ndarray:
    """Coefficients (in powers p^0..p^{N+1}) of the derivatives Λ^{(n)}, n = 0..N, as
    polynomials in p = Λ: Λ^{(n+1)} = dΛ^{(n)}/dp · p(1 − p). Integers, exact in float64."""
    from numpy.polynomial import polynomial as npp

    out = np.zeros((N + 1, N + 2))
    c = np.array([0.0, 1.0])
    for n in range(N + 1):
        out[n, :len(c)] = c
        c = npp.polymul(npp.polyder(c), [0.0, 1.0, -1.0])
    return out


def _by_territory(tc: np.ndarray, v: np.ndarray, T: int) -> Any:
    """Sparse (territories x rows) matrix with v in each row's territory: ``M @ A`` sums
    the rows of A per territory in one sparse product (CSC built without sorting)."""
    import scipy.sparse as sp

    n = len(tc)
    global _INDPTR
    if len(_INDPTR) < n + 1:  # one column pointer array for every block (no new pages)
        _INDPTR = np.arange(max(n + 1, 2 * len(_INDPTR)), dtype=np.int64)
    return sp.csc_matrix((v, tc, _INDPTR[:n + 1]), shape=(T, n))


_INDPTR = np.arange(1, dtype=np.int64)


def _segments(tc: np.ndarray) -> np.ndarray | None:
    """Start of each run of equal territory codes when the rows are grouped by territory
    (codes non-decreasing: a census sorted by territory, the usual case), else None."""
    if len(tc) == 0:
        return None
    step = np.diff(tc)
    if len(step) and int(step.min()) < 0:
        return None
    starts = np.flatnonzero(step)
    starts += 1
    return np.concatenate([[0], starts])


def _sum_rows(tc: np.ndarray, v: np.ndarray, X: np.ndarray, T: int,
              starts: np.ndarray | None = None) -> np.ndarray:
    """Σ_i v_i x_i per territory (T x p). Rows grouped by territory (``starts`` from
    :func:`_segments`): one ``reduceat`` over X in whatever memory order it has; otherwise a
    sparse product (needs X in C order)."""
    if starts is None:
        starts = _segments(tc)
    if starts is not None:
        out = np.zeros((T, X.shape[1]))
        out[tc[starts]] = np.add.reduceat(X * v[:, None], starts, axis=0)
        return out
    return _by_territory(tc, v, T) @ np.ascontiguousarray(X)


def _column_selection(model: Any, k: int) -> np.ndarray | None:
    """Column j of the raw census rows that design column j + 1 copies, when the model's
    design rows are ``[1, X[:, sel]]`` (no derived terms), else None. Found by probing
    :func:`design_matrix` with 0, unit and doubled unit rows. Why: the census pass then
    works on the raw block (η = β₀ + X β_sel) without building an n x p design copy
    (0.25 s of the 10 M pass)."""
    probe = np.vstack([np.zeros((1, k)), np.eye(k), 2.0 * np.eye(k)])
    try:
        D = design_matrix(model, probe)
    except Exception:  # noqa: BLE001 - any failure: use the general path
        return None
    if D.ndim != 2 or D.shape[0] != 2 * k + 1 or not np.all(D[:, 0] == 1.0):
        return None
    sel = np.zeros(D.shape[1] - 1, dtype=np.intp)
    for j in range(1, D.shape[1]):
        col = D[1:k + 1, j]
        hit = np.flatnonzero(col)
        if (len(hit) != 1 or col[hit[0]] != 1.0 or D[0, j] != 0.0
                or not np.array_equal(D[k + 1:, j], 2.0 * col)):
            return None
        sel[j - 1] = hit[0]
    return sel


def _prefetch(blocks: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """The census blocks read ahead by one thread (Parquet decoding releases the GIL, as do
    the NumPy passes over a block): reading block b+1 overlaps computing block b, in order,
    so results are unchanged."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for b in blocks:
                while not stop.is_set():
                    try:
                        q.put(b, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    th = threading.Thread(target=work, name="census-prefetch", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        th.join(timeout=5.0)


# rows per chunk of the census pass's Taylor path: measured at 10 M children, 16 k rows (their
# 27 sums ≈ 3.5 MB) took 0.29 s against 0.55 s for whole 64 k-row Parquet batches
CURVE_CHUNK = 16_384
# accumulators of a census pass, one per thread when the census is in memory. Fixed, not the
# machine's core count: the lanes decide the order of the sums, so the same census gives the
# same bytes on every machine (two: the cores this project's runs are sized for)
CURVE_LANES = 2


def census_curves(src: CensusSource, model: Any, beta: np.ndarray, nodes: np.ndarray,
                  at: np.ndarray | None = None, sigma2_psu: float = 0.0, exact: bool = False,
                  spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the census blocks: P_tk = Σ_i c_i F(x_i'β + v_tk) / N_t for the K nodes
    of each territory (T x K; F integrates the PSU effect, F = Λ without one), and the
    gradient G_t = Σ_i c_i F'(x_i'β + a_t) x_i / N_t at offsets ``at`` (T x p; default the
    middle node).

    Without a PSU effect (F = Λ) and unless ``exact``, one expit per row: P_tk is the Taylor
    series Σ_n Λ^{(n)}(x_i'β + a_t) δ_tk^n / n! in δ_tk = v_tk − a_t, whose derivatives are
    polynomials in p = Λ(x_i'β + a_t), so the pass sums the powers p^1..p^{N+1} per
    territory (N = ``TAYLOR_ORDER``). Λ's poles at ±iπ bound the remainder by
    2 (|δ|/π)^{N+1}: territories with max_k |δ_tk| > ``TAYLOR_RADIUS`` (the bound then
    exceeds ``TAYLOR_TOL``) are computed exactly (K expit per row) in the same pass.

    ``spread`` (optional, T x 2, filled in place): the census mean of F(x_i'β + a_t) and of
    its square per territory — the spread of the children's probabilities, from which
    :mod:`clrisk.phase1.census_error` gets a census sample's own error (free on the Taylor
    path, where they are the first two power sums; one more F per row otherwise)."""
    T, K = nodes.shape
    nodes = np.ascontiguousarray(nodes, dtype=np.float64)  # the kernels' layout
    at = np.ascontiguousarray(nodes[:, K // 2] if at is None else at, dtype=np.float64)
    S = np.zeros((T, K))
    G = np.zeros((T, len(beta)))
    taylor = not exact and sigma2_psu <= 0
    N = TAYLOR_ORDER
    delta = far = None
    if taylor:
        delta = nodes - at[:, None]
        far = np.max(np.abs(delta), axis=1) > TAYLOR_RADIUS
    M = np.zeros((T, N + 1))  # Σ c p^j, j = 1..N+1 (Taylor path)
    spread_ = np.zeros((T, 2)) if spread is not None and not taylor else None
    sums = {"S": S, "G": G, "M": M}
    sel = _column_selection(model, len(src.covariates))
    whole = sel is not None and np.array_equal(sel, np.arange(len(src.covariates)))

    def zeros() -> dict[str, np.ndarray | None]:
        return {"S": np.zeros_like(S), "G": np.zeros_like(G), "M": np.zeros_like(M),
                "spread": None if spread_ is None else np.zeros_like(spread_)}

    # block j adds to lane j % CURVE_LANES, and the lanes are added at the end in order:
    # the same bytes whether one thread walks the blocks or one thread per lane does
    lanes = [zeros() for _ in range(CURVE_LANES)]
    local = threading.local()  # each thread's buffers, reused from chunk to chunk

    def design_chunks(b: Any) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray,
                                                np.ndarray]]:
        """A block grouped by territory with design rows [1, X[:, sel]], in chunks of
        ``CURVE_CHUNK`` rows (the ~3 MB a chunk's sums occupy stay in cache): territory
        codes, weights, the columns cast once into float64 rows (k x n) and η by one BLAS
        product. Streamed (float64) and in-memory (stored int8) blocks go through the same
        arithmetic, so they give the same bytes."""
        if getattr(local, "X", None) is None:
            local.X = np.empty((len(sel), CURVE_CHUNK))
        cols = [b.columns[j] for j in sel]
        tcb = b.territory_codes
        for s0 in range(0, len(tcb), CURVE_CHUNK):
            s1 = min(len(tcb), s0 + CURVE_CHUNK)
            X = local.X[:, :s1 - s0]
            for j, col in enumerate(cols):
                X[j] = col[s0:s1]
            eta = beta[1:] @ X
            eta += beta[0]
            yield tcb[s0:s1], b.weights[s0:s1], X, eta

    def fused_sums(b: Any, acc: dict) -> None:
        """The Taylor path, chunk by chunk (:func:`design_chunks`): the powers c p^j and
        the gradient rows c p(1-p) x_j added per territory by one compiled pass over the
        rows (:func:`~clrisk.phase1.kernels.taylor_sums`; rows in any order)."""
        for tc, c, _X, eta in design_chunks(b):
            taylor_sums(local.X, eta, tc, c, at, acc["M"], acc["G"])
            rows = far[tc]
            if rows.any():
                tf = tc[rows]
                acc["S"] += _by_territory(tf, c[rows], T) @ expit(eta[rows, None] + nodes[tf])

    def psu_sums(b: Any, acc: dict) -> None:
        """The path with a PSU effect (F tabulated on ``F_GRID``), chunk by chunk
        (:func:`design_chunks`): F at the K nodes, the gradient rows and (for a census sample)
        the spread rows added per territory by one compiled pass over the rows
        (:func:`~clrisk.phase1.kernels.psu_curve_sums`)."""
        if sigma2_psu > 0:
            _grid, Ftab, dFtab = logistic_normal(sigma2_psu)
        else:  # F = Λ, exact (``exact=True``)
            Ftab = dFtab = np.zeros(0)
        spread_acc = acc["spread"] if acc["spread"] is not None else np.zeros((0, 2))
        for tc, c, _X, eta in design_chunks(b):
            psu_curve_sums(local.X, eta, tc, c, nodes, at, Ftab, dFtab, _F_INV_STEP,
                           _F_OFFSET, acc["S"], acc["G"], spread_acc)

    def block_sums(b: Any, acc: dict) -> None:
        """Add this block to the sums of one lane."""
        if sel is not None:
            (fused_sums if taylor else psu_sums)(b, acc)
            return
        for name, idx, values in other_sums(b):
            if idx is None:
                acc[name] += values
            else:  # territory rows of one chunk are distinct (runs of a sorted chunk)
                acc[name][idx] += values

    def other_sums(b: Any) -> list[tuple[str, np.ndarray | None, np.ndarray]]:
        """This block's additions to the sums off the compiled Taylor path: (name,
        territory rows or None for all, values)."""
        tc = b.territory_codes
        seg = _segments(tc)
        out: list[tuple[str, np.ndarray | None, np.ndarray]] = []
        if sel is None:
            Xd = design_matrix(model, b.X)
            eta = Xd @ beta
        else:  # design rows [1, X[:, sel]]: no design copy
            Xd = b.X if whole else b.X[:, sel]
            eta = Xd @ beta[1:] + beta[0]
        if taylor:
            p = expit(eta + at[tc])
            n = len(p)
            buf = getattr(local, "buf", None)
            if buf is None or buf.size < n * (N + 1):
                buf = local.buf = np.empty(n * (N + 1))
            A = buf[:n * (N + 1)].reshape(N + 1, n)  # row j: c p^(j+1)
            np.multiply(p, b.weights, out=A[0])
            for j in range(1, N + 1):
                np.multiply(A[j - 1], p, out=A[j])
            if seg is not None:  # runs of one territory: contiguous sums along each row
                out.append(("M", tc[seg], np.add.reduceat(A, seg, axis=1).T))
            else:  # rows in any order: sparse sums (weights are already in A)
                out.append(("M", None, _by_territory(tc, np.ones(n), T)
                            @ np.ascontiguousarray(A.T)))
            rows = far[tc]
            if rows.any():
                tf = tc[rows]
                out.append(("S", None, _by_territory(tf, b.weights[rows], T) @ expit(
                    eta[rows, None] + nodes[tf])))
            v = p * (1.0 - p)
        else:
            out.append(("S", None, _by_territory(tc, b.weights, T)
                        @ _prob(eta[:, None] + nodes[tc], sigma2_psu)))
            v = _dprob(eta + at[tc], sigma2_psu)
            if spread_ is not None:
                f = _prob(eta + at[tc], sigma2_psu)
                out.append(("spread", None, np.column_stack([
                    np.bincount(tc, weights=b.weights * f, minlength=T),
                    np.bincount(tc, weights=b.weights * f * f, minlength=T)])))
        wv = b.weights * v
        if sel is None:
            out.append(("G", None, _sum_rows(tc, wv, Xd, T, seg)))
        else:
            g = np.zeros((T, len(beta)))
            g[:, 0] = np.bincount(tc, weights=wv, minlength=T)
            g[:, 1:] = _sum_rows(tc, wv, Xd, T, seg)
            out.append(("G", None, g))
        return out

    if src.in_memory and sel is not None:
        # the compiled pass releases the interpreter lock: one thread per lane
        def run_lane(i: int) -> None:
            for b in src.blocks(part=(i, CURVE_LANES)):
                block_sums(b, lanes[i])

        with ThreadPoolExecutor(CURVE_LANES - 1, thread_name_prefix="census-lane") as pool:
            others = [pool.submit(run_lane, i) for i in range(1, CURVE_LANES)]
            run_lane(0)
            for fut in others:
                fut.result()
    else:
        # a census in memory needs no reader thread ahead of the pass (it already has one)
        blocks = src.blocks()
        for j, b in enumerate(blocks if src.in_memory else _prefetch(blocks)):
            block_sums(b, lanes[j % CURVE_LANES])
    for name in ("S", "G", "M"):
        for lane in lanes:
            sums[name] += lane[name]
    if spread_ is not None:
        for lane in lanes:
            spread_ += lane["spread"]
    if taylor:
        D = M @ _logistic_derivatives(N)[:, 1:].T  # T x (N+1): Σ c Λ^{(n)}
        fact = np.cumprod(np.r_[1.0, np.arange(1, N + 1)])
        powers = delta[:, :, None] ** np.arange(N + 1)[None, None, :]  # T x K x (N+1)
        St = np.einsum("tn,tkn->tk", D / fact[None, :], powers)
        S = np.where(far[:, None], S, St)
        if spread is not None:
            spread[:, :2] += M[:, :2]
    elif spread is not None:
        spread[:, :2] += spread_
    N_ = src.children
    if spread is not None:
        spread /= N_[:, None]
    return S / N_[:, None], G / N_[:, None]


@dataclass
class SmallAreaResult:
    """Per census territory (aligned with ``territory_ids``)."""

    territory_ids: np.ndarray
    children: np.ndarray
    estimate: np.ndarray
    rmse: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_surveyed: np.ndarray
    posterior: Posterior
    curves: np.ndarray  # T x K census curves at the posterior nodes
    gradient: np.ndarray  # T x p at the posterior mean
    fit: MixedLogitFit
    mse_method: str
    g1: np.ndarray | None = None
    g2: np.ndarray | None = None
    g3: np.ndarray | None = None
    g4: np.ndarray | None = None  # a census sample's own error (clrisk.phase1.census_error)
    census_deff: float = 1.0  # the household design effect g4 used

    @property
    def cv(self) -> np.ndarray:
        return self.rmse / self.estimate

    def frame(self) -> pd.DataFrame:
        """Territory table of the small-area estimator."""
        return pd.DataFrame({
            TERRITORY_ID: self.territory_ids.astype(str).astype(object),
            "sae_mean_probability": self.estimate, "sae_rmse": self.rmse,
            "sae_cv": self.cv, "sae_ci_low": self.ci_low, "sae_ci_high": self.ci_high,
            "n_surveyed": self.n_surveyed.astype(np.int64)})


def logit_interval(p: np.ndarray, rmse: np.ndarray, z: float = Z95
                   ) -> tuple[np.ndarray, np.ndarray]:
    """95% interval built on the logit scale: expit(logit p ± z RMSE / (p (1 − p)))."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    se = rmse / (p * (1.0 - p))
    lo = logit(p)
    return expit(lo - z * se), expit(lo + z * se)


def small_area_estimates(fit: MixedLogitFit, src: CensusSource, *, mse: str = "analytic",
                         bootstrap_B: int = 200, seed: int = 12345, K: int = PREDICT_NODES,
                         census_deff: float = 1.0) -> SmallAreaResult:
    """EBP, RMSE and logit-scale 95% intervals for every census territory (one BLAS
    thread, see :func:`fit_mixed_logit`).

    ``census_deff``: the household design effect of a census sample
    (:func:`~clrisk.phase1.census_error.household_design_effect`); the census sample's own
    error (g4) enters the MSE whenever ``src`` is a weighted census with row counts."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _small_area_estimates(fit, src, mse, bootstrap_B, seed, K, census_deff)


def _small_area_estimates(fit: MixedLogitFit, src: CensusSource, mse: str, bootstrap_B: int,
                          seed: int, K: int, census_deff: float = 1.0) -> SmallAreaResult:
    p_ = len(fit.beta)  # curvature in log σ_u: the Newton fit's Louis Hessian (no passes)
    curv = None if fit.hessian is None or not fit.hessian[p_, p_] > 0 else float(
        fit.hessian[p_, p_])
    start_posteriors(fit, K)  # the σ-mixture's posteriors, in a thread
    post = posterior(fit, src.territory_ids, K)
    remember_posterior(fit, K, post.survey_side)
    spread = np.zeros((len(src.territory_ids), 2)) if src.rows is not None else None
    P, G = census_curves(src, fit.model, fit.beta, post.nodes, at=post.mean,
                         sigma2_psu=fit.sigma2_psu, spread=spread)
    est = (post.weights * P).sum(1)
    g1 = np.clip((post.weights * P * P).sum(1) - est ** 2, 0.0, None)
    D = G + G[:, :1] * post.dmean_dbeta
    g2 = np.einsum("ti,ij,tj->t", D, fit.cov_beta, D)
    # g3: the error of estimating σ_u — the posterior is averaged over the sampling
    # distribution of log σ̂_u (clrisk.phase1.sae_sigma), never narrower than at σ̂_u
    from clrisk.phase1.sae_sigma import sigma_mixture_mse

    mix = sigma_mixture_mse(fit, src.territory_ids, post, P, est, K, curvature=curv)
    fit.data.pop("_post_memo", None)
    g3 = np.zeros_like(g1) if mix is None else np.clip(mix - g1, 0.0, None)
    # g4: a census sample's own error (zero for a full count), in both MSEs: the bootstrap's
    # truth is the census curve, so it does not contain it either
    from clrisk.phase1.census_error import census_sampling_mse

    g4 = (census_sampling_mse(src, spread, census_deff) if spread is not None
          else np.zeros_like(g1))
    if mse == "analytic":
        rmse = np.sqrt(g1 + g2 + g3 + g4)
    elif mse == "bootstrap":
        from clrisk.phase1.sae_mse import bootstrap_mse

        rmse = np.sqrt(bootstrap_mse(fit, src, B=bootstrap_B, seed=seed, K=K) + g4)
    else:
        raise ValueError(_("unknown MSE method {m}; choose analytic or bootstrap").format(m=mse))
    lo, hi = logit_interval(est, rmse)
    return SmallAreaResult(src.territory_ids, src.children, est, rmse, lo, hi,
                           post.n_surveyed, post, P, G, fit, mse, g1, g2, g3, g4, census_deff)


# --------------------------------------------------------------------------------------------
# predictive draws and P(top level)
@dataclass(frozen=True)
class PredictiveDraws:
    """Joint draws of the coefficients and territory effects, and the territory rates they
    imply: ``beta`` (D x p), ``u`` (D x T), ``rates`` (D x T), ``territory_ids`` (T)."""

    beta: np.ndarray
    u: np.ndarray
    rates: np.ndarray
    territory_ids: np.ndarray
    estimator: str
    u_hat: np.ndarray | None = None  # point value of u_t (posterior mean; 0 for synthetic)


def _interp_logit(P: np.ndarray, nodes: np.ndarray, u: np.ndarray) -> np.ndarray:
    """P_t(u) for draws u (D x T) from the K node values per territory (linear on the logit
    scale, extrapolated linearly beyond the outer nodes; nodes ascending per territory)."""
    L = logit(np.clip(P, 1e-12, 1 - 1e-12))  # T x K
    slope = (L[:, 1:] - L[:, :-1]) / np.maximum(nodes[:, 1:] - nodes[:, :-1], 1e-12)
    out = np.empty(u.shape)
    # segment: clip(#(nodes <= u) − 1, 0, K − 2), one compiled pass over the draws
    logit_segments(L, np.ascontiguousarray(slope), np.ascontiguousarray(nodes),
                   np.ascontiguousarray(u), out)
    return expit(out, out=out)


def predictive_draws(result: SmallAreaResult, draws: int = 200, seed: int = 12345
                     ) -> PredictiveDraws:
    """Draws of (β, u_t) from their predictive distribution: β ~ N(β̂, V_β); for a sampled
    territory u_t ~ N(μ_t + dμ_t/dβ'(β − β̂), τ_t²) (its posterior, moving with β), for an
    unsampled one u_t ~ N(0, σ̂²); rate_t = P_t(u_t) + G_t'(β − β̂), plus N(0, g4_t) for a
    census sample's own error (:mod:`clrisk.phase1.census_error`)."""
    from clrisk.phase1.classify import draw_coefficients

    fit, post = result.fit, result.posterior
    Bd = draw_coefficients(fit.beta, fit.cov_beta, draws, seed)
    dB = Bd - fit.beta
    z = np.random.default_rng([seed, 1]).standard_normal((draws, len(post.mean)))
    u = post.mean[None, :] + dB @ post.dmean_dbeta.T + post.sd[None, :] * z
    rates = _interp_logit(result.curves, post.nodes, u) + dB @ result.gradient.T
    if result.g4 is not None and np.any(result.g4 > 0):  # a census sample's own error
        e = np.random.default_rng([seed, 2]).standard_normal((draws, len(post.mean)))
        rates = rates + np.sqrt(result.g4)[None, :] * e
    return PredictiveDraws(Bd, u, np.clip(rates, 0.0, 1.0), result.territory_ids, "sae",
                           post.mean.copy())


def synthetic_draws(scores: pd.DataFrame, model: Any, src: CensusSource, sigma2: float,
                    draws: int = 200, seed: int = 12345) -> PredictiveDraws:
    """Predictive draws for the official synthetic projection: coefficient draws of the
    survey-weighted logit (exact on the census) plus a territory effect u_t ~ N(0, σ̂²) added
    on the logit scale — the synthetic estimator uses no local survey data, so the truth can
    deviate from it by the whole territory variance."""
    from clrisk.phase1.classify import draw_coefficients, draw_mean_probabilities
    from clrisk.phase1.scoring import model_arrays

    _c, beta, V = model_arrays(model)
    pbar = draw_mean_probabilities(model, src, draws=draws, seed=seed)
    ids = src.territory_ids.astype(str)
    P = pbar[ids].to_numpy()
    u = np.sqrt(sigma2) * np.random.default_rng([seed, 2]).standard_normal(P.shape)
    rates = expit(logit(np.clip(P, 1e-12, 1 - 1e-12)) + u)
    return PredictiveDraws(draw_coefficients(beta, V, draws, seed), u, rates, src.territory_ids,
                           "synthetic", np.zeros(P.shape[1]))


def p_top(draws: PredictiveDraws, method: str = "quantiles", k: int = 3,
          cutoffs: Sequence[float] | None = None) -> np.ndarray:
    """Share of draws in which each territory is in the top level (levels recomputed per
    draw with the same method)."""
    from clrisk.phase1.classify import top_share

    return top_share(draws.rates, method, k, cutoffs)
