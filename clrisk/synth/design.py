"""Two-stage stratified cluster sample of the synthetic population (the household survey).

Why this design: it is the design of the Latin American household surveys that carry
child-labour modules. Strata are region x area (urban/rural); primary sampling units (PSUs) are
segments of about ``SEGMENT_SIZE`` neighbouring households inside one territory and area,
drawn with probability proportional to an *outdated* measure of size (the frame count times
noise, as when the frame comes from an older census); a fixed take of households is drawn by
simple random sampling in each selected segment. Rural strata are oversampled. Weights are the
inverse inclusion probabilities 1 / (pi_1 * pi_2): positive, unequal across strata (allocation)
and within strata (stale size measure vs actual size).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Households per segment (PSU). Why 12: a synthetic territory has a few hundred households
# (the census is scaled down), and a real municipality has hundreds of census segments. With
# segments of 40, a territory x area held ~3 segments, so the survey's 1-3 segments and the
# centring below made the surveyed and unsurveyed segments strongly anti-correlated and the
# territory's true rate a lottery over three draws (measured: even the predictor with the TRUE
# parameters covered 86-90% of territory rates). With 12, a territory x area holds ~10-30
# segments, as the model assumes (segments many, independent).
SEGMENT_SIZE = 12
SIGMA_PSU = 0.9  # sd of the segment (PSU) effect in the outcome, before centring
RURAL_OVERSAMPLING = 1.5
URBAN_FACTOR = 0.85


def pps_probabilities(size: np.ndarray, m: int) -> np.ndarray:
    """pi_i = m * size_i / sum(size), with units whose pi would exceed 1 taken with certainty."""
    pi = np.zeros(len(size))
    certain = np.zeros(len(size), dtype=bool)
    for _ in range(len(size) + 1):
        rest = ~certain
        k = m - certain.sum()
        pi[rest] = k * size[rest] / size[rest].sum()
        pi[certain] = 1.0
        if not (pi[rest] > 1.0).any():
            break
        certain |= pi > 1.0
    return np.minimum(pi, 1.0)


def systematic_pps(rng: np.random.Generator, pi: np.ndarray) -> np.ndarray:
    """Madow's systematic sampling with given inclusion probabilities (sum = sample size)."""
    sel = pi >= 1.0 - 1e-12
    rest = np.flatnonzero(~sel)
    if len(rest):
        cum = np.concatenate([[0.0], np.cumsum(pi[rest])])
        u = rng.random()
        hits = np.floor(cum[1:] - u + 1e-12) - np.floor(cum[:-1] - u + 1e-12)
        sel[rest[hits > 0]] = True
    return sel


def segment_frame(households: pd.DataFrame, region_codes: list[str]) -> pd.DataFrame:
    """Assign households to segments and segments to strata; returns one row per household
    with ``segment`` (global id), ``seg_in_area`` and ``stratum`` added.

    ``households`` needs ``territory`` (index), ``territory_id``, ``region`` (index), ``rural``.
    """
    hh = households.copy()
    key = ["territory", "rural"]
    hh["rank"] = hh.groupby(key, sort=False).cumcount()
    size = hh.groupby(key, sort=False)["rank"].transform("size")
    n_seg = np.maximum(1, np.rint(size / SEGMENT_SIZE)).astype(int)
    hh["seg_in_area"] = (hh["rank"] * n_seg // size).astype(int)
    area = np.where(hh["rural"] == 1, "R", "U")
    regions = np.asarray(region_codes, dtype=object)[hh["region"].to_numpy()]
    hh["stratum"] = regions + "-" + area
    # A stratum with a single segment gets that segment split in two, so it can have 2 PSUs.
    seg_counts = hh.groupby("stratum")[["territory", "seg_in_area"]].apply(
        lambda g: len(g.drop_duplicates()))
    for stratum in sorted(seg_counts[seg_counts == 1].index):
        rows = hh["stratum"] == stratum
        half = hh.loc[rows, "rank"] >= (rows.sum() // 2)
        hh.loc[rows & half.reindex(hh.index, fill_value=False), "seg_in_area"] = 1
    hh["psu"] = hh["territory_id"] + "-" + pd.Series(area, index=hh.index) + (
        hh["seg_in_area"] + 1).map("{:02d}".format)
    return hh.drop(columns="rank")


def draw_sample(rng: np.random.Generator, frame: pd.DataFrame, household_fraction: float,
                households_per_psu: int, singleton: bool) -> pd.DataFrame:
    """Select PSUs (PPS systematic) then households (SRS); returns the selected households
    with ``pi1``, ``pi2`` and ``weight``.

    With ``singleton`` the smallest stratum gets a single PSU on purpose, so that the
    estimators' singleton-PSU handling is exercised by real sample data.
    """
    seg = (frame.groupby(["stratum", "psu"], sort=True).size().rename("M").reset_index())
    seg["mos"] = np.maximum(1.0, np.rint(seg["M"] * np.exp(rng.normal(0.0, 0.3, len(seg)))))
    strata = seg.groupby("stratum", sort=True).agg(M=("M", "sum"), n_seg=("psu", "size"))
    factor = np.where(strata.index.str.endswith("-R"), RURAL_OVERSAMPLING, URBAN_FACTOR)
    m = np.rint(household_fraction * factor * strata["M"] / households_per_psu).astype(int)
    m = np.minimum(np.maximum(m, 2), strata["n_seg"])
    if singleton:
        m.loc[strata["M"].idxmin()] = 1
    seg["pi1"] = 0.0
    seg["selected"] = False
    for stratum, idx in seg.groupby("stratum", sort=True).groups.items():
        pi = pps_probabilities(seg.loc[idx, "mos"].to_numpy(float), int(m.loc[stratum]))
        seg.loc[idx, "pi1"] = pi
        seg.loc[idx, "selected"] = systematic_pps(rng, pi)
    chosen = seg[seg["selected"]].set_index("psu")
    sample = frame[frame["psu"].isin(chosen.index)].copy()
    sample["u"] = rng.random(len(sample))
    sample["order"] = sample.groupby("psu")["u"].rank(method="first")
    take = np.minimum(households_per_psu, chosen["M"])
    sample = sample[sample["order"] <= sample["psu"].map(take)]
    sample["pi1"] = sample["psu"].map(chosen["pi1"])
    sample["pi2"] = sample["psu"].map(take / chosen["M"])
    sample["weight"] = 1.0 / (sample["pi1"] * sample["pi2"])
    return sample.drop(columns=["u", "order"])


def segment_effects(rng: np.random.Generator, frame: pd.DataFrame,
                    sigma: float | None = None) -> np.ndarray:
    """Per-household outcome shift shared by the households of one segment (PSU).

    Why: neighbours share labour markets, schools and norms, so child labour clusters within
    PSUs beyond what the covariates explain; this is what makes the design effect of a survey
    prevalence 1.5-3 instead of 1. The segment effects are centred within each territory x
    area, so territory means (and the territory ranking) are unchanged on the logit scale.
    ``frame`` is :func:`segment_frame`'s output, indexed by household row.
    """
    sigma = SIGMA_PSU if sigma is None else sigma
    seg = frame.groupby("psu", sort=True)[["territory", "rural"]].first()
    seg["households"] = frame.groupby("psu", sort=True).size()
    v = pd.Series(rng.normal(0.0, sigma, len(seg)), index=seg.index)
    # centred with household weights: segments of one area differ in size by one household
    hv = (v * seg["households"]).groupby([seg["territory"], seg["rural"]]).transform("sum")
    hn = seg["households"].groupby([seg["territory"], seg["rural"]]).transform("sum")
    v = v - hv / hn
    out = np.zeros(int(frame.index.max()) + 1)
    out[frame.index.to_numpy()] = frame["psu"].map(v).to_numpy(float)
    return out


def design_effect(survey: pd.DataFrame, outcome: str = "child_labour") -> float:
    """Design effect of the weighted prevalence: linearised variance (PSUs with replacement
    within strata, singleton strata skipped) over p(1 - p) / n."""
    w = survey["weight"].to_numpy(float)
    y = survey[outcome].to_numpy(float)
    p = float(np.sum(w * y) / w.sum())
    z = w * (y - p) / w.sum()
    tot = pd.DataFrame({"stratum": survey["stratum"].to_numpy(), "psu": survey["psu"].to_numpy(),
                        "z": z}).groupby(["stratum", "psu"], sort=True)["z"].sum().reset_index()
    n_h = tot.groupby("stratum")["z"].transform("size")
    dev = tot["z"] - tot.groupby("stratum")["z"].transform("mean")
    keep = n_h > 1
    var = float(np.sum((n_h / (n_h - 1))[keep] * dev[keep] ** 2))
    return var / (p * (1 - p) / len(y))
