"""The territory variance is itself uncertain: integrate the EBP's posterior over σ̂_u.

Why: with one to three surveyed PSUs per territory and PSU effects larger than territory
effects, σ_u is weakly identified — over fresh replicates of the Guatemala sample σ̂_u ranges
from 0.12 to 0.45 for a true 0.25. The plug-in posterior of u_t at σ̂_u then makes every
interval too narrow together in the replicates where σ̂_u is low (coverage 0.85 in a
replicate study where the same estimator with the true σ's covers 0.94), and the first-order
term g3 = (∂p̂/∂ log σ)² Var(log σ̂) cannot repair it: the posterior *width* itself depends on
σ, not only its centre.

What it does: log σ_u is given its approximate sampling distribution
N(log σ̂_u, 1 / I), where I is the curvature of the marginal pseudo-log-likelihood in
log σ_u (the same curvature g3 used), and the territory's predictive distribution is the
mixture over Q Gauss–Hermite values σ_q of the posteriors computed at σ_q (an empirical-Bayes
version of what a hierarchical Bayes model does with its hyperparameter; cf. Kass & Steffey
1989, "approximate Bayesian inference in conditionally independent hierarchical models").
The point estimate stays the EBP at σ̂_u; its MSE replaces g1 + g3 by

    Σ_q a_q [ Var(p_t | data, σ_q) + (E[p_t | data, σ_q] − p̂_t)² ]

(plus g2, the coefficients' part). Census curves are not recomputed: P_t(v) is interpolated
on the logit scale from the K nodes the EBP already evaluated, and extrapolated linearly
beyond them (logit P_t is close to linear in v, being a mean of logistic curves).
"""

from __future__ import annotations

import numpy as np

SIGMA_NODES = 5  # Gauss–Hermite nodes over log σ_u
MAX_LOG_SD = 1.0  # sd of log σ̂ is capped: beyond e^{±2} the quadrature would extrapolate far


def log_sigma_curvature(fit, h: float = 0.05) -> float:
    """Curvature of minus the marginal pseudo-log-likelihood in log σ_u at θ̂ (central
    differences of its gradient), or NaN when it is not positive (σ̂ on the boundary)."""
    from clrisk.phase1.sae import BOUNDARY_PRIOR, FIT_NODES, GRID_POINTS, _nested, _theta

    if fit.boundary or fit.sigma2 <= 0:
        return float("nan")
    d, p_ = fit.data, len(fit.beta)
    theta = _theta(fit)
    pen = {"penalty": BOUNDARY_PRIOR if fit.prior else 0.0}
    e = np.zeros(len(theta))
    e[p_] = h
    gp = _nested(theta + e, d, GRID_POINTS, FIT_NODES, dict(pen))[1][p_]
    gm = _nested(theta - e, d, GRID_POINTS, FIT_NODES, dict(pen))[1][p_]
    curv = (gp - gm) / (2.0 * h)
    return float(curv) if curv > 0 else float("nan")


def sigma_mixture_mse(fit, territory_ids: np.ndarray, post, P: np.ndarray, estimate: np.ndarray,
                      K: int, curvature: float | None = None, Q: int = SIGMA_NODES
                      ) -> np.ndarray | None:
    """Σ_q a_q [Var(p_t | σ_q) + (E[p_t | σ_q] − p̂_t)²] per territory, or None when σ̂_u is
    on the boundary or its curvature is not positive (the caller then keeps g1 + g3)."""
    from clrisk.phase1.sae import _interp_logit, posterior

    curv = log_sigma_curvature(fit) if curvature is None else curvature
    if not np.isfinite(curv):
        return None
    sd = min(1.0 / np.sqrt(curv), MAX_LOG_SD)
    x, w = np.polynomial.hermite.hermgauss(Q)
    a = w / np.sqrt(np.pi)
    out = np.zeros(len(territory_ids))
    for xq, aq in zip(x, a, strict=True):
        s2 = fit.sigma2 * np.exp(2.0 * np.sqrt(2.0) * sd * xq)
        q = posterior(fit, territory_ids, K, sigma2=s2, derivative=False)
        vals = _interp_logit(P, post.nodes, q.nodes.T).T  # T x K
        m = (q.weights * vals).sum(1)
        v = np.clip((q.weights * vals * vals).sum(1) - m * m, 0.0, None)
        out += aq * (v + (m - estimate) ** 2)
    return out
