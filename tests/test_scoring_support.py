"""Shared helpers for the phase-1 scoring/classify/factor tests (no tests here).

Why a stand-in model: these tests check the projection arithmetic, which only needs a
coefficient vector and its covariance; they must not depend on the estimator's module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

COVS = ["age", "female", "poverty", "head_schooling", "rural"]
BETA = {"const": -3.0, "age": 0.15, "female": -0.4, "poverty": 0.8, "head_schooling": -0.08,
        "rural": 0.9}


@dataclass
class StandInModel:
    """The slice of RiskModel that projection needs."""

    params: pd.Series
    cov: pd.DataFrame
    covariates: list[str]

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        X = np.column_stack([np.ones(len(df)), df[self.covariates].to_numpy(float)])
        return expit(X @ self.params[["const", *self.covariates]].to_numpy())


def stand_in_model(seed: int = 1, scale: float = 0.02) -> StandInModel:
    names = ["const", *COVS]
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(len(names), len(names))) * scale
    V = A @ A.T + np.eye(len(names)) * scale**2
    return StandInModel(pd.Series(BETA)[names], pd.DataFrame(V, index=names, columns=names),
                        list(COVS))


def make_census(n: int = 3000, n_territories: int = 25, seed: int = 0) -> pd.DataFrame:
    """Small census with territory-level differences in poverty and rurality."""
    rng = np.random.default_rng(seed)
    tid = rng.integers(0, n_territories, n)
    pov_rate = np.linspace(0.1, 0.8, n_territories)[tid]
    rural_rate = np.linspace(0.05, 0.9, n_territories)[::-1][tid]
    return pd.DataFrame({
        "territory_id": pd.Series([f"T{t:03d}" for t in tid], dtype=object),
        "age": rng.integers(5, 18, n).astype(float),
        "female": rng.integers(0, 2, n),
        "poverty": (rng.random(n) < pov_rate).astype(int),
        "head_schooling": rng.integers(0, 17, n).astype(float),
        "rural": (rng.random(n) < rural_rate).astype(int),
    })
