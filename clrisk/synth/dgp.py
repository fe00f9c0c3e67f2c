"""The population and outcome model (see the package docstring for the formulas).

Why households first: children of one household share the household's covariates (head's
schooling, poverty, programme receipt, ...) and its area, which is what makes survey clusters
informative and census covariate patterns repeat. Every draw is vectorised numpy over all
households of a block of territories, so a 10-million-child census streams in seconds per
batch with constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clrisk.io import atomic_path
from clrisk.synth.countries import BASE_BETA, CORE_COVARIATES, CountryParams

SIGMA_U = 0.25  # sd of the territory random effect u_t
PARQUET_ROW_GROUP = 65_536
INT8 = {"age", "female", "indigenous", "head_schooling", "female_head", "household_size",
        "n_children", "poverty", "social_programme", "adult_unemployed", "rural",
        "school_attendance", "health_insurance"}


def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def solve_intercept(lp: np.ndarray, target: float, weights: np.ndarray | None = None) -> float:
    """Intercept a with mean(expit(a + lp)) == target (bisection; the mean is monotone in a).

    With ``weights`` the mean is weighted (e.g. by territory child counts).
    """
    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if np.average(expit(mid + lp), weights=weights) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def solve_intercept_territory_mean(lp: np.ndarray, territory: np.ndarray, target: float) -> float:
    """Intercept a with the unweighted mean over territories of the territory mean of
    expit(a + lp) equal to ``target`` (how national reports quote "mean territory risk")."""
    counts = np.bincount(territory)
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        means = np.bincount(territory, weights=expit(mid + lp)) / np.maximum(counts, 1)
        if means[counts > 0].mean() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def population_logit(pop: pd.DataFrame, covariates: Sequence[str], prob: str = "p",
                     iters: int = 25) -> dict[str, float]:
    """Census parameter: logistic regression of the true probability on the covariates over
    the whole population (IRLS on collapsed covariate patterns).

    Why this is the truth for the survey fit: with territory and PSU effects in the outcome,
    the conditional coefficients of the data-generating process are not what a design-based
    logistic regression estimates; it estimates this finite-population parameter.
    """
    covariates = list(covariates)
    g = pop.groupby(covariates, sort=True)[prob].agg(["sum", "size"]).reset_index()
    X = np.column_stack([np.ones(len(g)), g[covariates].to_numpy(float)])
    n = g["size"].to_numpy(float)
    ybar = g["sum"].to_numpy(float) / n
    b = np.zeros(X.shape[1])
    b[0] = logit(float(np.sum(g["sum"]) / n.sum()))
    for _ in range(iters):
        mu = expit(X @ b)
        wts = n * mu * (1 - mu)
        step = np.linalg.solve(X.T @ (X * wts[:, None]), X.T @ (n * (ybar - mu)))
        b = b + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return dict(zip(["const", *covariates], (float(v) for v in b), strict=True))


@dataclass
class TerritoryLatents:
    """Territory-level parameters of the population process (arrays indexed by territory)."""

    rural_share: np.ndarray
    deprivation: np.ndarray  # z_t, standardised
    indigenous_share: np.ndarray
    effect: np.ndarray  # u_t ~ N(0, SIGMA_U)


def territory_latents(rng: np.random.Generator, urbanity: np.ndarray, region_index: np.ndarray,
                      rural_share: float, indigenous_share: float,
                      weights: np.ndarray | None = None) -> TerritoryLatents:
    """Rural share falls with urbanity; deprivation rises with rurality and has a regional
    component; indigenous population concentrates in deprived regions; u_t is independent."""
    n = len(urbanity)
    n_reg = int(region_index.max()) + 1
    noise = rng.normal(0.0, 0.6, n)
    score = -1.6 * urbanity + noise
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    rural = expit(solve_intercept(score, rural_share, w) + score)
    reg_dep = rng.normal(0.0, 0.6, n_reg)[region_index]
    z = 0.8 * (score - score.mean()) / (score.std() + 1e-12) + reg_dep + rng.normal(0, 0.6, n)
    z = (z - z.mean()) / (z.std() + 1e-12)
    reg_ind = rng.normal(0.0, 1.0, n_reg)[region_index]
    ind_lp = 0.8 * z + reg_ind
    ind = expit(solve_intercept(ind_lp, max(indigenous_share, 1e-3), w) + ind_lp)
    u = rng.normal(0.0, SIGMA_U, n)
    return TerritoryLatents(rural, z, ind, u)


def draw_households(rng: np.random.Generator, terr: np.ndarray, lat: TerritoryLatents,
                    poverty_share: float | None = None,
                    poverty_intercept: float | None = None) -> tuple[dict[str, np.ndarray], float]:
    """Household covariates for households located in territories ``terr`` (indices).

    Poverty's intercept is solved so that the household poverty rate hits ``poverty_share``
    (or taken as given). Returns the columns and the intercept used.
    """
    n = len(terr)
    z = lat.deprivation[terr]
    rural = (rng.random(n) < lat.rural_share[terr]).astype(np.int8)
    ind = (rng.random(n) < expit(np.log(lat.indigenous_share[terr] /
                                        (1 - lat.indigenous_share[terr])) + 0.5 * rural))
    ind = ind.astype(np.int8)
    hs = np.rint(rng.normal(10.5 - 3.0 * rural - 2.0 * ind - 1.2 * z, 3.2))
    hs = np.clip(hs, 0, 17).astype(np.int8)
    female_head = (rng.random(n) < expit(-0.95 - 0.2 * rural)).astype(np.int8)
    lam = np.clip(0.8 + 0.35 * rural + 0.25 * ind + 0.05 * (9 - hs), 0.05, None)
    n_children = np.minimum(1 + rng.poisson(lam), 8).astype(np.int8)
    under5 = rng.poisson(0.3 + 0.2 * rural)
    adults = 1 + (rng.random(n) < 0.8 * (1 - 0.6 * female_head)) + rng.poisson(0.35, n)
    household_size = np.minimum(n_children + under5 + adults, 20).astype(np.int8)
    lp = 0.8 * rural + 0.6 * ind - 0.22 * (hs - 9.0) + 0.35 * (n_children - 2.0) + 0.8 * z
    if poverty_intercept is None:
        poverty_intercept = solve_intercept(lp, float(poverty_share or 0.3))
    poverty = (rng.random(n) < expit(poverty_intercept + lp)).astype(np.int8)
    social = (rng.random(n) < expit(-2.6 + 2.6 * poverty + 0.5 * rural + 0.3 * ind))
    social = social.astype(np.int8)
    unemployed = (rng.random(n) < expit(-2.4 + 0.7 * poverty - 0.2 * rural + 0.3 * female_head))
    insurance = (rng.random(n) < expit(0.9 - 0.7 * poverty - 0.4 * rural + 0.12 * (hs - 9.0)
                                       + 0.4 * social))
    cols = {
        "rural": rural, "indigenous": ind, "head_schooling": hs, "female_head": female_head,
        "household_size": household_size, "n_children": n_children, "poverty": poverty,
        "social_programme": social, "adult_unemployed": unemployed.astype(np.int8),
        "health_insurance": insurance.astype(np.int8),
    }
    return cols, float(poverty_intercept)


def draw_children(rng: np.random.Generator, hh: dict[str, np.ndarray]) -> tuple[
        dict[str, np.ndarray], np.ndarray]:
    """Expand households into children; returns child columns and each child's household row."""
    k = hh["n_children"].astype(np.int64)
    owner = np.repeat(np.arange(len(k)), k)
    m = len(owner)
    cols = {name: v[owner] for name, v in hh.items()}
    cols["age"] = rng.integers(5, 18, size=m).astype(np.int8)
    cols["female"] = (rng.random(m) < 0.49).astype(np.int8)
    age = cols["age"].astype(float)
    att = expit(3.6 - 0.45 * np.maximum(age - 11.0, 0.0) + 0.12 * (cols["head_schooling"] - 9.0)
                - 0.6 * cols["poverty"] - 0.4 * cols["rural"])
    cols["school_attendance"] = (rng.random(m) < att).astype(np.int8)
    return cols, owner


def linear_predictor(cols: dict[str, np.ndarray] | pd.DataFrame, beta: dict[str, float]) -> np.ndarray:
    """x'beta including the constant (beta["const"]), without the territory effect."""
    first = next(iter(cols.values())) if isinstance(cols, dict) else cols.iloc[:, 0]
    eta = np.full(len(first), float(beta.get("const", 0.0)))
    for name, b in beta.items():
        if name != "const":
            eta += b * np.asarray(cols[name], dtype=float)
    return eta


def country_beta(country: CountryParams, rng: np.random.Generator) -> dict[str, float]:
    """True slopes: the base vector times a small country-specific factor (signs kept)."""
    covs = country.covariates or CORE_COVARIATES
    return {c: round(BASE_BETA[c] * float(np.exp(rng.normal(0.0, 0.15))), 3) for c in covs}


# --- fast generic census for benchmarks ---------------------------------------------------
def _split_counts(n_children: int, n_territories: int) -> np.ndarray:
    base = np.full(n_territories, n_children // n_territories, dtype=np.int64)
    base[: n_children % n_territories] += 1
    return base


def _generic_latents(n_territories: int, seed: int) -> TerritoryLatents:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    urbanity = rng.normal(0.0, 1.0, n_territories)
    region = np.arange(n_territories) // 10
    return territory_latents(rng, urbanity, region, 0.25, 0.12)


def _census_block(rng: np.random.Generator, lat: TerritoryLatents, t0: int, counts: np.ndarray,
                  covariates: Sequence[str], pov_a: float, width: int) -> pa.Table:
    """Children of territories t0..t0+len(counts)-1, exactly ``counts`` each, vectorised."""
    need = counts.copy()
    parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    local = np.arange(len(counts))
    while need.sum() > 0:
        n_hh = np.ceil(need / 1.5).astype(np.int64) + (need > 0)
        terr = np.repeat(local, n_hh)
        hh, _ = draw_households(rng, terr + t0, lat, poverty_intercept=pov_a)
        ch, owner = draw_children(rng, hh)
        tch = terr[owner]
        # rank of each child within its territory; keep the first need[t]
        start = np.searchsorted(tch, local)
        rank = np.arange(len(tch)) - start[tch]
        keep = rank < need[tch]
        parts.append((tch[keep], {c: ch[c][keep] for c in covariates}))
        got = np.bincount(tch[keep], minlength=len(counts))
        need = need - got
    tch = np.concatenate([p[0] for p in parts])
    order = np.argsort(tch, kind="stable")
    labels = np.char.zfill(np.arange(t0 + 1, t0 + len(counts) + 1).astype(str), width)
    ids = pa.DictionaryArray.from_arrays(pa.array(tch[order].astype(np.int32)),
                                         pa.array(labels.tolist(), pa.string()))
    arrays = {"territory_id": ids.cast(pa.string())}
    for c in covariates:
        arrays[c] = pa.array(np.concatenate([p[1][c] for p in parts])[order].astype(np.int8))
    return pa.table(arrays)


def iter_census_batches(n_children: int, n_territories: int, covariates: Sequence[str],
                        seed: int, batch_size: int = 500_000) -> Iterator[pa.Table]:
    """Yield Arrow tables of ~``batch_size`` children, whole territories, sorted by id."""
    lat = _generic_latents(n_territories, seed)
    counts = _split_counts(n_children, n_territories)
    width = max(5, len(str(n_territories)))
    per = max(1, int(batch_size // max(1, counts.max())))
    for b, t0 in enumerate(range(0, n_territories, per)):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 11, b]))
        yield _census_block(rng, lat, t0, counts[t0:t0 + per], covariates, -0.8, width)


def simulate_census(n_children: int, n_territories: int,
                    covariates: Sequence[str] = CORE_COVARIATES,
                    beta: dict[str, float] | None = None, seed: int = 0,
                    batch_size: int = 500_000) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """In-memory synthetic census (territory_id + covariates) with its true probabilities.

    Returns ``(census, truth)`` where truth has ``territory_effect`` (u_t by territory index)
    and, if ``beta`` is given, ``probability`` = expit(x'beta + u_t) per child.
    """
    covariates = list(covariates)
    tables = list(iter_census_batches(n_children, n_territories, covariates, seed, batch_size))
    census = pa.concat_tables(tables).to_pandas()
    lat = _generic_latents(n_territories, seed)
    truth: dict[str, np.ndarray] = {"territory_effect": lat.effect}
    if beta is not None:
        t_index = census["territory_id"].astype(int).to_numpy() - 1
        truth["probability"] = expit(linear_predictor(census, beta) + lat.effect[t_index])
    return census, truth


def write_large_census(path: str | Path, n_children: int, n_territories: int, seed: int = 0,
                       batch_size: int = 500_000,
                       covariates: Sequence[str] = CORE_COVARIATES) -> Path:
    """Stream a census of ``n_children`` rows to Parquet in constant memory (zstd, sorted)."""
    path = Path(path)
    covariates = list(covariates)
    schema = pa.schema([("territory_id", pa.string())] + [(c, pa.int8()) for c in covariates])
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for table in iter_census_batches(n_children, n_territories, covariates, seed,
                                             batch_size):
                writer.write_table(table.cast(schema), row_group_size=PARQUET_ROW_GROUP)
    return path
