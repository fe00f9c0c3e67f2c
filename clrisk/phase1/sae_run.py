"""The territory table of ``clrisk run``: both estimators side by side, one drives levels.

Why one function: the command line, the chapters and the replicate study must build the same
table. ``mean_probability, ci_low, ci_high, p_top, rmse, cv`` are the columns of the estimator
that drives levels and maps (named in ``estimator``); the other estimator's columns carry a
prefix (``synthetic_*`` for the official synthetic projection, ``sae_*`` for the small-area
estimate when the synthetic projection drives). The synthetic projection's delta-method
interval is ``synthetic_low_coef_only`` / ``synthetic_high_coef_only``: sampling error of the
coefficients only, never a confidence interval of the territory's rate.

Choice (profile ``small_area: {estimator: auto|sae|synthetic}``): ``auto`` uses the small-area
estimate when it can be fitted and σ̂_u² > 0, else the synthetic projection (with a warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from clrisk.errors import DataError
from clrisk.i18n import _
from clrisk.phase1.census_error import household_design_effect
from clrisk.phase1.census_source import CensusSource
from clrisk.phase1.classify import assign_levels, class_bounds, level_labels
from clrisk.phase1.sae import (
    CV_THRESHOLD,
    PredictiveDraws,
    SAEWarning,
    SmallAreaResult,
    fit_mixed_logit,
    p_top,
    predictive_draws,
    prepare_posteriors,
    small_area_estimates,
    synthetic_draws,
)
from clrisk.schema import OUTCOME, TERRITORY_ID, WEIGHT

UNCERTAIN_PTOP = (0.1, 0.9)  # a top-level label is uncertain when p_top is inside this range
# bootstrap_B = 200: measured on the Chile sample (benchmarks/bootstrap_stability.py), the Monte
# Carlo error of a territory's bootstrap RMSE is 12% with B = 50, 9% with 100, 6.6% with 200.
DEFAULTS = {"estimator": "auto", "mse": "analytic", "bootstrap_B": 200, "scaling": "size",
            "benchmark": "none"}


@dataclass
class TerritoryEstimates:
    """The territory table plus what produced it (for chapters and factor intervals)."""

    table: pd.DataFrame
    estimator: str
    sae: SmallAreaResult | None = None
    draws: PredictiveDraws | None = None
    synthetic: PredictiveDraws | None = None
    benchmark: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _levels(y: np.ndarray, method: str, k: int, cutoffs: Sequence[float] | None
            ) -> tuple[np.ndarray, list[str]]:
    lev = assign_levels(y, class_bounds(y, method, k, cutoffs))
    labels = level_labels(k)
    return lev.astype(np.int64), [labels[v - 1] for v in lev]


def start_small_area_fit(survey: pd.DataFrame | None, model: Any,
                         options: dict | None = None) -> Future | None:
    """Fit the small-area model in a background thread; pass the result to
    :func:`territory_estimates` (``pending=``). None when no small-area fit is wanted.

    Why: the fit reads only the survey and the census read only the census, so a caller that
    starts the fit before resolving the census overlaps the two on a second core (at 10 M
    census children: a 0.7 s fit beside a 0.6 s read). The result is the same fit, bit for
    bit: the thread changes when it runs, not what it computes. Its messages come back as a
    list (warning filters are process-wide), re-issued by :func:`territory_estimates`."""
    opt = {**DEFAULTS, **(options or {})}
    if opt["estimator"] == "synthetic" or survey is None:
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clrisk-small-area-fit")
    try:
        return pool.submit(_fit_reporting, survey, model, opt["scaling"])
    finally:
        pool.shutdown(wait=False)


def _fit_reporting(survey: pd.DataFrame, model: Any, scaling: str) -> tuple[Any, list[str]]:
    messages: list[str] = []
    fit = fit_mixed_logit(survey, list(model.covariates), scaling=scaling, model=model,
                          report=messages)
    prepare_posteriors(fit)  # survey-only work, while the caller still reads the census
    return fit, messages


def territory_estimates(scores: pd.DataFrame, model: Any, src: CensusSource,
                        survey: pd.DataFrame | None, *, options: dict | None = None,
                        method: str = "quantiles", k: int = 3,
                        cutoffs: Sequence[float] | None = None, draws: int = 200,
                        seed: int = 12345, regions: pd.DataFrame | None = None,
                        pending: Future | None = None) -> TerritoryEstimates:
    """Territory table with both estimators (see the module docstring).

    ``scores``: :func:`~clrisk.phase1.scoring.score_territories` output on ``src``;
    ``regions`` (optional): territory_id -> region_id, for regional benchmarking;
    ``pending``: :func:`start_small_area_fit` of the same survey, model and options (else the
    model is fitted here)."""
    opt = {**DEFAULTS, **(options or {})}
    notes: list[str] = []
    ids = src.territory_ids.astype(str)
    sc = scores.set_index(scores[TERRITORY_ID].astype(str)).loc[ids]
    res: SmallAreaResult | None = None
    if opt["estimator"] != "synthetic" and survey is not None:
        try:
            fit, messages = (pending.result() if pending is not None
                             else _fit_reporting(survey, model, opt["scaling"]))
            for msg in messages:
                notes.append(msg)
                warnings.warn(msg, SAEWarning, stacklevel=2)
            deff = (household_design_effect(survey, list(model.covariates), fit.beta,
                                            fit.model) if src.rows is not None else 1.0)
            res = small_area_estimates(fit, src, mse=opt["mse"], bootstrap_B=opt["bootstrap_B"],
                                       seed=seed, census_deff=deff)
        except DataError as exc:
            if opt["estimator"] == "sae":
                raise
            notes.append(str(exc))
            warnings.warn(_("small-area estimate not available ({why}); the official synthetic "
                            "projection drives levels and maps").format(why=exc), SAEWarning,
                          stacklevel=2)
    use_sae = res is not None and (opt["estimator"] == "sae" or not res.fit.boundary)
    sigma2 = res.fit.sigma2 if res is not None else 0.0
    syn_draws = synthetic_draws(sc.reset_index(drop=True), model, src, sigma2, draws, seed)
    out = pd.DataFrame({TERRITORY_ID: pd.array(ids, dtype=object),
                        "children": sc["children"].to_numpy()})
    syn = {"synthetic_mean_probability": sc["mean_probability"].to_numpy(),
           "synthetic_se_coef_only": sc["se"].to_numpy(),
           "synthetic_low_coef_only": sc["ci_low"].to_numpy(),
           "synthetic_high_coef_only": sc["ci_high"].to_numpy(),
           "synthetic_p_top": p_top(syn_draws, method, k, cutoffs)}
    sae_draws = None
    if res is not None:
        sae_draws = predictive_draws(res, draws, seed)
        sae_cols = {"sae_mean_probability": res.estimate, "sae_rmse": res.rmse,
                    "sae_cv": res.cv, "sae_ci_low": res.ci_low, "sae_ci_high": res.ci_high,
                    "sae_p_top": p_top(sae_draws, method, k, cutoffs)}
    if use_sae:
        out["estimator"] = "sae"
        out["mean_probability"] = res.estimate
        out["ci_low"], out["ci_high"] = res.ci_low, res.ci_high
        out["rmse"], out["cv"] = res.rmse, res.cv
        out["p_top"] = sae_cols["sae_p_top"]
    else:
        # synthetic drives: its honest RMSE adds the territory variance sigma2 (first order
        # on the logit scale) to the coefficient part; without a fit it is unknown (NaN)
        pbar = syn["synthetic_mean_probability"]
        if res is not None:
            var_u = (pbar * (1 - pbar)) ** 2 * sigma2
            rmse = np.sqrt(syn["synthetic_se_coef_only"] ** 2 + var_u)
            se_l = rmse / np.clip(pbar * (1 - pbar), 1e-12, None)
            lo = expit(logit(np.clip(pbar, 1e-12, 1 - 1e-12)) - 1.959963984540054 * se_l)
            hi = expit(logit(np.clip(pbar, 1e-12, 1 - 1e-12)) + 1.959963984540054 * se_l)
        else:
            # without a fit the territory variance is unknown: no honest interval exists, and
            # the coefficients-only band (kept in synthetic_*_coef_only) must not pose as one
            rmse = np.full(len(pbar), np.nan)
            lo, hi = np.full(len(pbar), np.nan), np.full(len(pbar), np.nan)
        out["estimator"] = "synthetic"
        out["mean_probability"] = pbar
        out["ci_low"], out["ci_high"] = lo, hi
        out["rmse"], out["cv"] = rmse, rmse / pbar
        out["p_top"] = syn["synthetic_p_top"]
    out["n_surveyed"] = (res.n_surveyed if res is not None
                         else np.zeros(len(ids))).astype(np.int64)
    bench = None
    if opt["benchmark"] != "none" and survey is not None:
        from clrisk.phase1.benchmarking import ratio_benchmark

        tmp = out if regions is None else out.merge(regions, on=TERRITORY_ID, how="left")
        srv = survey if OUTCOME in survey.columns and WEIGHT in survey.columns else None
        if srv is not None:
            tmp, bench = ratio_benchmark(tmp, srv, opt["benchmark"])
            out = tmp[out.columns]
    out["expected_children"] = out["children"].to_numpy() * out["mean_probability"].to_numpy()
    lev, lab = _levels(out["mean_probability"].to_numpy(), method, k, cutoffs)
    out["risk_level"], out["risk_label"] = lev, lab
    for c, v in syn.items():
        out[c] = v
    if res is not None and not use_sae:
        for c, v in sae_cols.items():
            out[c] = v
    lo_p, hi_p = UNCERTAIN_PTOP
    ptop = out["p_top"].to_numpy()
    out["high_cv"] = out["cv"].to_numpy() > CV_THRESHOLD
    out["uncertain_level"] = (ptop > lo_p) & (ptop < hi_p)
    return TerritoryEstimates(out, "sae" if use_sae else "synthetic", res, sae_draws,
                              syn_draws, bench, notes)
