"""Parametric bootstrap MSE of the small-area estimate (González-Manteiga et al. 2007).

For b = 1..B (seeded): draw territory effects u*_t ~ N(0, σ̂²) for every census territory; the
bootstrap truth is p*_t = P_t(u*_t) (census curve at β̂); draw the survey outcomes
y*_j ~ Bernoulli(Λ(x_j'β̂ + u*_t)); refit (β*, σ*) (warm start at θ̂); compute the EBP* of every
territory from the refitted model; MSE_t = mean_b (EBP*_t − p*_t)².

Why it is affordable: the census enters only through per-territory curves P_t(v) computed in
ONE pass at K nodes spanning N(0, σ̂²) (interpolated on the logit scale) and the gradient G_t
(for the change β* − β̂, first order); each replicate then costs a refit on the survey and a
posterior on the survey, never a census pass.
"""

from __future__ import annotations

import numpy as np

from clrisk.phase1.census_source import CensusSource
from clrisk.phase1.sae import (
    FIT_NODES,
    PREDICT_NODES,
    SIGMA_FLOOR,
    MixedLogitFit,
    _interp_logit,
    _theta,
    census_curves,
    gh,
    newton_theta,
    posterior,
)

CURVE_NODES = 11
BOOT_ITER = 3  # Newton steps per bootstrap refit (from θ̂)


def bootstrap_mse(fit: MixedLogitFit, src: CensusSource, *, B: int = 200, seed: int = 12345,
                  K: int = PREDICT_NODES, fit_nodes: int = FIT_NODES) -> np.ndarray:
    """Bootstrap MSE of the EBP for every territory of ``src`` (aligned with its ids)."""
    d = fit.data
    T = len(src.territory_ids)
    s2 = max(fit.sigma2, SIGMA_FLOOR ** 2)
    sv2 = fit.sigma2_psu
    x, _lw = gh(CURVE_NODES)
    nodes = np.sqrt(2.0 * s2) * np.broadcast_to(x, (T, CURVE_NODES)).copy()
    P, G = census_curves(src, fit.model, fit.beta, nodes, at=np.zeros(T), sigma2_psu=sv2)
    pos = src.positions(np.asarray(d["ids"]).astype(str))
    rng = np.random.default_rng([seed, 3])
    p_ = len(fit.beta)
    theta0 = _theta(fit)
    eta0 = d["X"] @ fit.beta
    C = len(d["tc"])
    acc = np.zeros(T)
    for _b in range(B):
        u = rng.normal(0.0, np.sqrt(s2), T)
        truth = _interp_logit(P, nodes, u[None, :])[0]
        us = np.where(pos >= 0, u[np.clip(pos, 0, None)],
                      rng.normal(0.0, np.sqrt(s2), len(pos)))
        vc = rng.normal(0.0, np.sqrt(sv2), C) if d["nested"] else np.zeros(C)
        lin = eta0 + us[d["t"]] + vc[d["c"]]
        y = (rng.random(len(eta0)) < 1.0 / (1.0 + np.exp(-lin))).astype(float)
        db = dict(d, y=y)
        # refit from θ̂ by Newton (Louis Hessian), at most BOOT_ITER steps: from θ̂ the
        # third step leaves |θ* − root| ~1e-4, far below the Monte Carlo error of MSE
        res = newton_theta(db, theta0, fit_nodes, fit.prior, BOOT_ITER, tol=1e-6)
        beta_b = res.x[:p_]
        sig2_b = float(np.exp(2.0 * res.x[p_]))
        sv2_b = float(np.exp(2.0 * res.x[p_ + 1])) if d["nested"] else 0.0
        post = posterior(fit, src.territory_ids, K, d=db, beta=beta_b, sigma2=sig2_b,
                         sigma2_psu=sv2_b)
        vals = _interp_logit(P, nodes, post.nodes.T)  # K x T
        est = (post.weights * vals.T).sum(1) + G @ (beta_b - fit.beta)
        acc += (est - truth) ** 2
    return acc / B
