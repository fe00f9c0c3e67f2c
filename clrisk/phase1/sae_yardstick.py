"""The yardstick of the small-area validation: the empirical best predictor computed with the
TRUE generating parameters of a synthetic population (β, σ_u, σ_v from ``truth.json``).

Why: it is the best any estimator can do with that survey and census — no error from
estimating β or σ — so its coverage and Spearman bound what the fitted estimator can reach
under the generating process. A target above the yardstick's figure is out of reach of every
method, not only of ours. Used by the replicate study (``benchmarks/sae_replicates.py``) and by
the test of the pooled figures on the committed samples.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from clrisk.phase1.census_source import CensusSource
from clrisk.phase1.sae import (
    SmallAreaResult,
    logit_interval,
    p_top,
    predictive_draws,
    small_area_estimates,
)


def oracle_estimates(sae: SmallAreaResult, src: CensusSource, truth: dict[str, Any],
                     draws: int = 200) -> pd.DataFrame:
    """Per territory: the yardstick's estimate, RMSE, 95% interval and P(top level)
    (columns ``oracle_*``). Its RMSE is the posterior sd (g1: nothing is estimated) and, for
    a census sample, the sample's own error (g4)."""
    fit = sae.fit
    dgp = truth["dgp_coefficients"]
    beta = np.array([dgp[n] for n in fit.names], dtype=np.float64)
    sv2 = float(truth["design"].get("sigma_psu", 0.0)) ** 2 if fit.data["nested"] else 0.0
    oracle = replace(fit, beta=beta, cov_beta=np.zeros_like(fit.cov_beta),
                     sigma2=float(truth["sigma_u"]) ** 2, sigma2_psu=sv2, boundary=False)
    res = small_area_estimates(oracle, src, mse="analytic", census_deff=sae.census_deff)
    rmse = np.sqrt(res.g1 + res.g4)  # no estimation error, but a census sample's own error
    lo, hi = logit_interval(res.estimate, rmse)
    res.rmse = rmse
    return pd.DataFrame({"territory_id": res.territory_ids.astype(str),
                         "oracle_mean_probability": res.estimate, "oracle_rmse": rmse,
                         "oracle_ci_low": lo, "oracle_ci_high": hi,
                         "oracle_p_top": p_top(predictive_draws(res, draws, 1))})
