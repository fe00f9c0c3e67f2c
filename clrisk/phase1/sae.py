"""Small-area estimates with honest uncertainty (METHODOLOGY instrument 1, item 6 — beyond).

Model: y_ij ~ Bernoulli(Λ(x_ij'β + u_t)), u_t ~ N(0, σ_u²): a unit-level logit mixed model
with a random territory intercept. Why: the official synthetic projection p̄_t = mean of
Λ(x_i'β̂) over the census children of t ignores the territory's own deviation u_t (what the
census covariates do not capture); its delta-method interval carries only the sampling error of
β. The empirical best predictor (EBP, Hobza & Morales 2016) uses the survey children of t to
predict u_t and carries its uncertainty.

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
Π_t ∫ Π_j f(y_j | u)^{w̃_j} φ(u; 0, σ²) du is computed by adaptive Gauss–Hermite quadrature
(nodes centred on each territory's posterior mode, scaled by its curvature; vectorised over
territories with ``np.bincount``) and maximised over (β, log σ) with L-BFGS-B using the exact
Fisher-identity gradient. The covariance of β̂ is a sandwich with territories as clusters.
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
nodes of N(0, σ̂²). One census pass evaluates P_t at the K nodes (O(cells x K)).

**Uncertainty.** ``mse="analytic"``: MSE_t = Var(p_t | data, θ̂) (from the same nodes) +
D_t' V_β D_t, where D_t is the total derivative of p̂_t with respect to β (direct gradient plus
the shift of the posterior of u_t that a change of β causes — for a well-sampled territory the
two largely cancel). ``mse="bootstrap"``: parametric bootstrap (González-Manteiga et al.
2007), see :mod:`clrisk.phase1.sae_mse`. 95% intervals are built on the logit scale:
expit(logit p̂ ± 1.96 RMSE / (p̂(1 − p̂))) — never clipped, never outside (0, 1).

**Predictive draws** (:func:`predictive_draws`): joint draws of β and territory effects
(posterior of u_t for sampled territories, N(0, σ̂²) for the others), exposed as a
:class:`PredictiveDraws` object so P(top level) and factor-weight intervals use the same draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit, log_expit, logit, logsumexp

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase1.census_source import CensusSource, design_matrix
from clrisk.schema import TERRITORY_ID

Z95 = 1.959963984540054
SCALINGS = ("size", "effective", "unweighted")
FIT_NODES = 10  # adaptive Gauss-Hermite nodes in the fit
PREDICT_NODES = 7  # nodes per territory in the census pass
GRID = np.linspace(-7.0, 7.0, 57)  # posterior grid (in Laplace sds around the mode)
SIGMA_FLOOR = 1e-3  # σ̂_u below this is reported as on the boundary (0)
CV_THRESHOLD = 0.3  # maps outline territories whose CV exceeds this
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

    @property
    def sigma(self) -> float:
        return float(np.sqrt(self.sigma2))


# --------------------------------------------------------------------------------------------
# survey data
def _survey_arrays(survey: pd.DataFrame, covariates: Sequence[str], outcome: str, weight: str,
                   territory: str, model: Any) -> dict[str, np.ndarray]:
    need = [territory, outcome, weight, *covariates]
    missing = [c for c in need if c not in survey.columns]
    if missing:
        raise data_error("survey", _("missing column(s) {cols} needed by the small-area "
                                     "model").format(cols=", ".join(missing)),
                         _("add them to the survey or map them in profile.yaml (mapping:)"))
    df = survey[need].dropna()
    if len(df) == 0:
        raise data_error("survey", _("no complete rows for the small-area model"),
                         _("check the outcome, weight and covariate columns"))
    tid = df[territory].astype(str).to_numpy()
    ids, t = np.unique(tid, return_inverse=True)
    y = df[outcome].to_numpy(dtype=np.float64)
    w = df[weight].to_numpy(dtype=np.float64)
    X = design_matrix(model, df[list(covariates)].to_numpy(dtype=np.float64))
    n_t = np.bincount(t, minlength=len(ids)).astype(np.float64)
    return {"ids": ids.astype(object), "t": t.astype(np.intp), "y": y, "w": w, "X": X,
            "n_t": n_t}


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
    """Mode and Laplace sd of the posterior of u_t for every territory (vectorised Newton;
    the log posterior is strictly concave, steps are damped to at most 2 on the logit scale)."""
    u = np.zeros(m) if start is None else start.copy()
    prec = 1.0 / sigma2
    h = np.full(m, prec)
    for _i in range(max_iter):
        p = expit(eta + u[t])
        g = np.bincount(t, weights=w * (y - p), minlength=m) - u * prec
        h = np.bincount(t, weights=w * p * (1.0 - p), minlength=m) + prec
        step = np.clip(g / h, -2.0, 2.0)
        u += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = expit(eta + u[t])
    h = np.bincount(t, weights=w * p * (1.0 - p), minlength=m) + prec
    return u, 1.0 / np.sqrt(h)


def _loglik_nodes(eta: np.ndarray, y: np.ndarray, w: np.ndarray, t: np.ndarray, m: int,
                  nodes: np.ndarray) -> np.ndarray:
    """(territories x nodes) weighted log-likelihood Σ_j w̃_j log f(y_j | v_tk)."""
    K = nodes.shape[1]
    out = np.empty((m, K))
    sign = 2.0 * y - 1.0
    for k in range(K):
        out[:, k] = np.bincount(t, weights=w * log_expit(sign * (eta + nodes[t, k])),
                                minlength=m)
    return out


_GH_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def gh(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes x_k and log weights log(w_k) + x_k² (for adaptive quadrature)."""
    if K not in _GH_CACHE:
        x, wt = np.polynomial.hermite.hermgauss(K)
        _GH_CACHE[K] = (x, np.log(wt) + x * x)
    return _GH_CACHE[K]


def _objective(theta: np.ndarray, d: dict[str, np.ndarray], K: int, state: dict
               ) -> tuple[float, np.ndarray]:
    """Minus the AGQ marginal pseudo-log-likelihood and its (Fisher identity) gradient."""
    p_ = d["X"].shape[1]
    beta, log_s = theta[:p_], theta[p_]
    sigma2 = float(np.exp(2.0 * log_s))
    X, y, w, t, m = d["X"], d["y"], d["wt"], d["t"], len(d["n_t"])
    eta = X @ beta
    mode, sd = posterior_modes(eta, y, w, t, m, sigma2, state.get("mode"))
    state["mode"] = mode
    x, lw = gh(K)
    nodes = mode[:, None] + np.sqrt(2.0) * sd[:, None] * x[None, :]
    ll = _loglik_nodes(eta, y, w, t, m, nodes)
    lprior = -0.5 * nodes ** 2 / sigma2 - 0.5 * np.log(2.0 * np.pi * sigma2)
    a = ll + lprior + lw[None, :]
    lt = logsumexp(a, axis=1) + np.log(np.sqrt(2.0) * sd)
    post = np.exp(a - logsumexp(a, axis=1, keepdims=True))  # m x K
    # gradient wrt beta: sum_j w_j sum_k post_tk (y_j - p_jk) x_j
    r = np.zeros(len(y))
    for k in range(K):
        r += post[t, k] * (y - expit(eta + nodes[t, k]))
    gb = X.T @ (w * r)
    gs = float(np.sum(post * (nodes ** 2 / sigma2 - 1.0)))
    state["post"] = (nodes, post)
    pen = state.get("penalty", 0.0)  # boundary-avoiding Gamma(2) prior on σ: + pen log σ
    return -float(lt.sum()) - pen * log_s, -np.concatenate([gb, [gs + pen]])


def _start_beta(d: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted logit (IRLS, scaled weights) as the starting value of β."""
    X, y, w = d["X"], d["y"], d["wt"]
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


def optimize_theta(d: dict, theta0: np.ndarray, nodes: int = FIT_NODES, prior: bool = True,
                   max_iter: int = 200) -> optimize.OptimizeResult:
    """Maximise the AGQ marginal pseudo-likelihood over θ = (β, log σ) from ``theta0``
    (``d``: survey arrays with scaled weights ``wt``)."""
    p_ = d["X"].shape[1]
    state: dict = {"penalty": BOUNDARY_PRIOR if prior else 0.0}
    return optimize.minimize(_objective, theta0, args=(d, nodes, state), jac=True,
                             method="L-BFGS-B",
                             bounds=[(None, None)] * p_ + [(np.log(SIGMA_FLOOR / 10), 3.0)],
                             options={"maxiter": max_iter, "ftol": 1e-9, "gtol": 1e-5})


def fit_mixed_logit(survey: pd.DataFrame, covariates: Sequence[str], *,
                    outcome: str = "child_labour", weight: str = "weight",
                    territory: str = TERRITORY_ID, scaling: str = "size",
                    model: Any = None, nodes: int = FIT_NODES, start: np.ndarray | None = None,
                    max_iter: int = 200, prior: bool = True) -> MixedLogitFit:
    """Fit the unit-level logit mixed model by adaptive Gauss–Hermite pseudo-likelihood.

    ``model`` (optional): the fixed-effects :class:`~clrisk.phase1.model.RiskModel`, only for
    derived design terms. Raises a translated :class:`~clrisk.errors.DataError` when the
    territory variance cannot be estimated (no territory with two surveyed children). A
    variance estimate on the boundary (σ̂_u < 1e-3) or a fit that does not converge is kept
    and flagged with a :class:`SAEWarning` (the pipeline then falls back to the synthetic
    projection for levels and maps)."""
    covariates = list(covariates)
    d = _survey_arrays(survey, covariates, outcome, weight, territory, model)
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
    b0 = _start_beta(d) if start is None else np.asarray(start[:p_], dtype=np.float64)
    s0 = np.log(0.3) if start is None else float(start[p_])
    res = optimize_theta(d, np.concatenate([b0, [s0]]), nodes, prior, max_iter)
    theta = res.x
    sigma2 = float(np.exp(2.0 * theta[p_]))
    converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-3
    if not converged:
        warnings.warn(_("the small-area model did not converge ({msg}); its estimates are "
                        "reported but should be checked").format(msg=res.message),
                      SAEWarning, stacklevel=2)
    boundary = np.sqrt(sigma2) < SIGMA_FLOOR
    if boundary:
        sigma2 = 0.0
        warnings.warn(_("the estimated variance between territories is 0 (σ̂_u² on the "
                        "boundary): the survey shows no territory deviation beyond the "
                        "covariates; the small-area estimate equals the model's synthetic "
                        "projection"), SAEWarning, stacklevel=2)
    names = ["const", *covariates] if p_ == len(covariates) + 1 else [
        f"x{j}" for j in range(p_)]
    fit = MixedLogitFit(theta[:p_].copy(), np.zeros((p_, p_)), sigma2, names, covariates,
                        scaling, converged, int(res.nit), -float(res.fun), d["ids"],
                        d["n_t"], bool(boundary), prior, model, d)
    fit.cov_beta = _sandwich(fit, nodes)
    return fit


def _territory_scores(beta: np.ndarray, sigma2: float, d: dict, K: int) -> np.ndarray:
    """(territories x p) contributions to the score of β (Fisher identity, AGQ)."""
    X, y, w, t, m = d["X"], d["y"], d["wt"], d["t"], len(d["n_t"])
    eta = X @ beta
    s2 = max(sigma2, SIGMA_FLOOR ** 2)
    mode, sd = posterior_modes(eta, y, w, t, m, s2)
    x, lw = gh(K)
    nodes = mode[:, None] + np.sqrt(2.0) * sd[:, None] * x[None, :]
    a = _loglik_nodes(eta, y, w, t, m, nodes) - 0.5 * nodes ** 2 / s2 + lw[None, :]
    post = np.exp(a - logsumexp(a, axis=1, keepdims=True))
    r = np.zeros(len(y))
    for k in range(K):
        r += post[t, k] * (y - expit(eta + nodes[t, k]))
    S = np.zeros((m, X.shape[1]))
    np.add.at(S, t, X * (w * r)[:, None])
    return S


def _sandwich(fit: MixedLogitFit, K: int) -> np.ndarray:
    """V(β̂) = A⁻¹ B A⁻¹ with territories as clusters: A by central differences of the total
    score, B = m/(m−1) Σ_t (s_t − s̄)(s_t − s̄)'."""
    d = fit.data
    p_ = len(fit.beta)
    S = _territory_scores(fit.beta, fit.sigma2, d, K)
    m = S.shape[0]
    Sc = S - S.mean(axis=0)
    B = m / max(m - 1, 1) * Sc.T @ Sc
    A = np.empty((p_, p_))
    for j in range(p_):
        h = 1e-4 * max(1.0, abs(fit.beta[j]))
        e = np.zeros(p_)
        e[j] = h
        A[:, j] = -(_territory_scores(fit.beta + e, fit.sigma2, d, K).sum(0)
                    - _territory_scores(fit.beta - e, fit.sigma2, d, K).sum(0)) / (2 * h)
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


def posterior(fit: MixedLogitFit, territory_ids: np.ndarray, K: int = PREDICT_NODES,
              d: dict | None = None, beta: np.ndarray | None = None,
              sigma2: float | None = None) -> Posterior:
    """Posterior of u_t for every census territory (see the module docstring)."""
    d = fit.data if d is None else d
    beta = fit.beta if beta is None else beta
    sigma2 = fit.sigma2 if sigma2 is None else sigma2
    T = len(territory_ids)
    x, lw = gh(K)
    s2 = max(sigma2, SIGMA_FLOOR ** 2)
    mean, sd = np.zeros(T), np.full(T, np.sqrt(s2))
    nodes = np.sqrt(2.0 * s2) * np.broadcast_to(x, (T, K)).copy()
    weights = np.broadcast_to(np.exp(lw - x * x) / np.sqrt(np.pi), (T, K)).copy()
    dmu = np.zeros((T, len(beta)))
    n_s = np.zeros(T)
    pos = pd.Index(np.asarray(territory_ids).astype(str)).get_indexer(
        np.asarray(d["ids"]).astype(str))
    sampled = np.zeros(T, dtype=bool)
    keep = pos >= 0
    if keep.any():
        X, y, w, t, m = d["X"], d["y"], d["wt"], d["t"], len(d["n_t"])
        eta = X @ beta
        mode, lsd = posterior_modes(eta, y, w, t, m, s2)
        grid = mode[:, None] + lsd[:, None] * GRID[None, :]
        lp = _loglik_nodes(eta, y, w, t, m, grid) - 0.5 * grid ** 2 / s2
        pg = np.exp(lp - logsumexp(lp, axis=1, keepdims=True))
        mu = (pg * grid).sum(1)
        tau = np.sqrt(np.clip((pg * grid ** 2).sum(1) - mu ** 2, 1e-300, None))
        vn = mu[:, None] + np.sqrt(2.0) * tau[:, None] * x[None, :]
        la = (_loglik_nodes(eta, y, w, t, m, vn) - 0.5 * vn ** 2 / s2 + lw[None, :])
        aw = np.exp(la - logsumexp(la, axis=1, keepdims=True))
        # d mu / d beta at the mode (implicit function): -(sum w p(1-p) x) / h
        p = expit(eta + mode[t])
        v = w * p * (1.0 - p)
        num = np.zeros((m, X.shape[1]))
        np.add.at(num, t, X * v[:, None])
        h = np.bincount(t, weights=v, minlength=m) + 1.0 / s2
        dm = -num / h[:, None]
        tgt = pos[keep]
        mean[tgt], sd[tgt], nodes[tgt], weights[tgt] = mu[keep], tau[keep], vn[keep], aw[keep]
        dmu[tgt] = dm[keep]
        n_s[tgt] = d["n_t"][keep]
        sampled[tgt] = True
    return Posterior(mean, sd, nodes, weights, dmu, sampled, n_s)


def census_curves(src: CensusSource, model: Any, beta: np.ndarray, nodes: np.ndarray,
                  at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the census blocks: P_tk = Σ_i c_i Λ(x_i'β + v_tk) / N_t for the K nodes
    of each territory (T x K), and the gradient G_t = Σ_i c_i Λ'(x_i'β + a_t) x_i / N_t at
    offsets ``at`` (T x p; default the middle node)."""
    T, K = nodes.shape
    at = nodes[:, K // 2] if at is None else at
    S = np.zeros((T, K))
    G = np.zeros((T, len(beta)))
    for b in src.blocks():
        Xd = design_matrix(model, b.X)
        eta = Xd @ beta
        tc = b.territory_codes
        for k in range(K):
            S[:, k] += np.bincount(tc, weights=b.weights * expit(eta + nodes[tc, k]),
                                   minlength=T)
        p = expit(eta + at[tc])
        v = b.weights * p * (1.0 - p)
        G += _scatter(tc, v, Xd, T)
    N = src.children
    return S / N[:, None], G / N[:, None]


def _scatter(t: np.ndarray, v: np.ndarray, X: np.ndarray, T: int) -> np.ndarray:
    import scipy.sparse as sp

    n = len(t)
    return np.asarray(sp.csr_matrix((v, (t, np.arange(n))), shape=(T, n)) @ X)


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
                         bootstrap_B: int = 200, seed: int = 12345, K: int = PREDICT_NODES
                         ) -> SmallAreaResult:
    """EBP, RMSE and logit-scale 95% intervals for every census territory."""
    post = posterior(fit, src.territory_ids, K)
    P, G = census_curves(src, fit.model, fit.beta, post.nodes, at=post.mean)
    est = (post.weights * P).sum(1)
    g1 = np.clip((post.weights * P * P).sum(1) - est ** 2, 0.0, None)
    D = G + G[:, :1] * post.dmean_dbeta
    g2 = np.einsum("ti,ij,tj->t", D, fit.cov_beta, D)
    if mse == "analytic":
        rmse = np.sqrt(g1 + g2)
    elif mse == "bootstrap":
        from clrisk.phase1.sae_mse import bootstrap_mse

        rmse = np.sqrt(bootstrap_mse(fit, src, B=bootstrap_B, seed=seed, K=K))
    else:
        raise ValueError(_("unknown MSE method {m}; choose analytic or bootstrap").format(m=mse))
    lo, hi = logit_interval(est, rmse)
    return SmallAreaResult(src.territory_ids, src.children, est, rmse, lo, hi,
                           post.n_surveyed, post, P, G, fit, mse, g1, g2)


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


def _interp_logit(P: np.ndarray, nodes: np.ndarray, u: np.ndarray) -> np.ndarray:
    """P_t(u) for draws u (D x T) from the K node values per territory (linear on the logit
    scale, extrapolated linearly beyond the outer nodes); vectorised over draws."""
    L = logit(np.clip(P, 1e-12, 1 - 1e-12))  # T x K
    K = nodes.shape[1]
    cols = np.arange(u.shape[1])
    j = np.clip((nodes[None, :, :] <= u[:, :, None]).sum(-1) - 1, 0, K - 2)  # D x T
    x0, x1 = nodes[cols, j], nodes[cols, j + 1]
    y0, y1 = L[cols, j], L[cols, j + 1]
    return expit(y0 + (y1 - y0) / np.maximum(x1 - x0, 1e-12) * (u - x0))


def predictive_draws(result: SmallAreaResult, draws: int = 200, seed: int = 12345
                     ) -> PredictiveDraws:
    """Draws of (β, u_t) from their predictive distribution: β ~ N(β̂, V_β); for a sampled
    territory u_t ~ N(μ_t + dμ_t/dβ'(β − β̂), τ_t²) (its posterior, moving with β), for an
    unsampled one u_t ~ N(0, σ̂²); rate_t = P_t(u_t) + G_t'(β − β̂)."""
    from clrisk.phase1.classify import draw_coefficients

    fit, post = result.fit, result.posterior
    Bd = draw_coefficients(fit.beta, fit.cov_beta, draws, seed)
    dB = Bd - fit.beta
    z = np.random.default_rng([seed, 1]).standard_normal((draws, len(post.mean)))
    u = post.mean[None, :] + dB @ post.dmean_dbeta.T + post.sd[None, :] * z
    rates = _interp_logit(result.curves, post.nodes, u) + dB @ result.gradient.T
    return PredictiveDraws(Bd, u, np.clip(rates, 0.0, 1.0), result.territory_ids, "sae")


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
                           "synthetic")


def p_top(draws: PredictiveDraws, method: str = "quantiles", k: int = 3,
          cutoffs: Sequence[float] | None = None) -> np.ndarray:
    """Share of draws in which each territory is in the top level (levels recomputed per
    draw with the same method)."""
    from clrisk.phase1.classify import top_share

    return top_share(draws.rates, method, k, cutoffs)
