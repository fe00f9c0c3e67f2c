"""A census SAMPLE's own error in a territory's rate (the third kind of uncertainty).

Why: many countries give the census as a sample of households per territory with expansion
weights (IPUMS samples; four of the seven sample countries: 30-60 households per territory).
The small-area estimate averages the children's probabilities over the census rows of a
territory; the territory's true rate averages them over ALL its children. The difference is
the census sample's sampling error, which neither the coefficients' error nor the territory
effect's contains. Measured on fresh synthetic populations of Brazil, Colombia and Mexico, the
predictor with the TRUE parameters covered only 80-88% of the true territory rates without it
(95% of the rates its census sample stood for).

Estimate, for households drawn by simple random sampling within a territory (a census
sample's usual design, equal weights within a territory):

    Var_t ≈ (1 − n_t / N_t) · s²_t / n_t · deff_hh

with n_t the census rows (sampled children) of the territory, N_t the children they represent
(sum of weights), s²_t the weighted variance of the children's probabilities F(x_i'β̂ + û_t)
over those rows (:func:`~clrisk.phase1.sae.census_curves` returns their first two moments),
and deff_hh the design effect of sampling children in whole households (1 + (m − 1) ρ for
households of m children with intra-household correlation ρ; see
:func:`household_design_effect`). It comes from the survey, which has household ids (a
census file usually has none); without a household column deff_hh = 1. A full-count census
has no such error (n_t = N_t).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from clrisk.phase1.census_source import CensusSource, design_matrix
from clrisk.schema import HOUSEHOLD_ID, REGION_ID, TERRITORY_ID


def household_design_effect(survey: pd.DataFrame, covariates: list[str], beta: np.ndarray,
                            model: Any = None, household: str = HOUSEHOLD_ID,
                            group: str = REGION_ID) -> float:
    """deff_hh = Σ_h e_h² / Σ_i d_i² on the survey: d_i = Λ(x_i'β) minus the mean of its
    ``group`` (the region; the territory when there is no region column), e_h = Σ_{i in h}
    d_i; 1.0 without a household column.

    Why this form: it is the variance of a territory mean under simple random sampling of
    households (a ratio estimator: household sums of deviations) over that under sampling of
    children. With households of m children and intra-household correlation ρ it is
    1 + (m − 1) ρ; it also carries the variation of household sizes and its correlation with
    the probabilities (bigger households, more child labour), which 1 + (m̄ − 1) ρ misses.
    Why deviations from the REGION's mean: a territory mixes urban and rural, richer and
    poorer households as a region does, while the survey's one or two segments in a territory
    are neighbours and alike. Measured on the synthetic populations (the same formula on the
    whole population, deviations from the territory mean = the truth): Brazil 1.97, Peru 1.91;
    from the survey, region 2.10 / 1.98 (used), stratum 1.72 / 1.74, territory 1.49 / 1.56."""
    if household not in survey.columns or len(survey) < 2:
        return 1.0
    key = group if group in survey.columns else TERRITORY_ID
    if key not in survey.columns:
        return 1.0
    X = survey[list(covariates)].to_numpy(dtype=np.float64)
    p = expit(design_matrix(model, X) @ beta)
    g = pd.factorize(survey[key].astype(str))[0]
    hh = pd.factorize(survey[key].astype(str) + "\x1f" + survey[household].astype(str))[0]
    d = p - (np.bincount(g, weights=p) / np.bincount(g))[g]
    e = np.bincount(hh, weights=d)
    ss = float(np.sum(d * d))
    return max(float(np.sum(e * e)) / ss, 1.0) if ss > 0 else 1.0


def census_sampling_mse(src: CensusSource, spread: np.ndarray, deff: float = 1.0
                        ) -> np.ndarray:
    """Var_t of the module docstring per territory of ``src`` (zeros for a full count).

    ``spread``: T x 2, the census mean of F and of F² per territory (weights normalised)."""
    T = len(src.territory_ids)
    if src.rows is None or not src.weighted:
        return np.zeros(T)
    n = np.asarray(src.rows, dtype=np.float64)
    N = np.asarray(src.children, dtype=np.float64)
    s2 = np.clip(spread[:, 1] - spread[:, 0] ** 2, 0.0, None)
    fpc = np.clip(1.0 - n / np.where(N > 0, N, 1.0), 0.0, 1.0)
    out = np.zeros(T)
    ok = n > 0
    out[ok] = fpc[ok] * s2[ok] / n[ok] * max(deff, 1.0)
    return out
