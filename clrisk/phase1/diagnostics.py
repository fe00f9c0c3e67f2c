"""Validation of the risk model (METHODOLOGY.md, Validation — **beyond** the original).

Why these three checks: discrimination (weighted AUC) says whether the covariates rank children
by risk; calibration by deciles says whether the predicted probabilities are right on average
along the whole range; and the regional comparison asks the question the map depends on — does
the census projection reproduce, region by region, what the survey measures directly (within the
survey's own design-based uncertainty)?

Tables use English snake_case column names (stable for code); :func:`display_table` translates
headers for display only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clrisk.errors import DataError, data_error
from clrisk.i18n import _
from clrisk.phase1.model import Design, RiskModel

_HEADERS = {
    "bin": "Risk decile",
    "n": "Children (sample)",
    "weight": "Children (weighted)",
    "p_min": "Lowest predicted",
    "p_max": "Highest predicted",
    "mean_predicted": "Mean predicted probability",
    "observed_rate": "Observed rate",
    "ci_low": "CI low",
    "ci_high": "CI high",
    "region_id": "Region",
    "n_survey": "Survey children",
    "n_census": "Census children",
    "model_rate": "Model-based rate",
    "direct_rate": "Direct survey estimate",
    "direct_se": "Standard error",
    "covered": "CI contains model rate",
}


def _arrays(y: Any, p: Any, w: Any | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    w = np.ones_like(p) if w is None else np.asarray(w, dtype=float).ravel()
    if not (y.size == p.size == w.size):
        raise DataError(f"<data>: y, p and w have different lengths ({y.size}, {p.size}, "
                        f"{w.size}). Fix: pass columns of the same table")
    if y.size == 0:
        raise DataError("<data>: no observations. Fix: pass a non-empty sample")
    for name, arr in (("y", y), ("p", p), ("w", w)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise data_error(None, "missing or infinite values", "drop or impute them first",
                             column=name, rows=[int(i) + 1 for i in np.flatnonzero(bad)])
    if not np.isin(y, (0.0, 1.0)).all():
        raise data_error(None, "the outcome must be 0/1", "recode it", column="y",
                         rows=[int(i) + 1 for i in np.flatnonzero(~np.isin(y, (0.0, 1.0)))])
    if (w <= 0).any():
        raise data_error(None, "weights must be positive", "drop zero-weight records",
                         column="w", rows=[int(i) + 1 for i in np.flatnonzero(w <= 0)])
    return y, p, w


def weighted_auc(y: Any, p: Any, w: Any | None = None) -> float:
    """Weighted area under the ROC curve (weighted Mann–Whitney statistic, ties count ½).

    AUC = Σ_{i: y=1} Σ_{j: y=0} w_i w_j [1(p_i > p_j) + ½·1(p_i = p_j)] / (W₁ W₀): the weighted
    probability that a child in child labour has a higher predicted risk than one who is not.
    Computed in O(n log n) by grouping tied scores.
    """
    y, p, w = _arrays(y, p, w)
    w1, w0 = w @ y, w @ (1.0 - y)
    if w1 == 0 or w0 == 0:
        raise DataError("<data>, column 'y': the AUC needs children with and without child "
                        "labour. Fix: check the outcome")
    values, inv = np.unique(p, return_inverse=True)
    pos = np.bincount(inv, weights=w * y, minlength=values.size)
    neg = np.bincount(inv, weights=w * (1.0 - y), minlength=values.size)
    neg_below = np.cumsum(neg) - neg
    return float(pos @ (neg_below + 0.5 * neg) / (w1 * w0))


def _wilson(rate: np.ndarray, n_eff: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    denom = 1.0 + z * z / n_eff
    centre = (rate + z * z / (2.0 * n_eff)) / denom
    half = z * np.sqrt(rate * (1.0 - rate) / n_eff + z * z / (4.0 * n_eff * n_eff)) / denom
    return centre - half, centre + half


def calibration_table(y: Any, p: Any, w: Any | None = None, bins: int = 10,
                      alpha: float = 0.05) -> pd.DataFrame:
    """Observed vs predicted risk by groups of (weighted) equal size along predicted risk.

    Bins are cut at weighted quantiles of ``p`` (deciles by default); tied predictions always
    fall in the same bin, so a bin can be empty and is then dropped. The observed rate's CI is
    Wilson's with Kish's effective sample size n_eff = (Σw)²/Σw², which accounts for unequal
    weights but not for clustering (use ``regional_validation`` for design-based intervals).
    Columns: bin, n, weight, p_min, p_max, mean_predicted, observed_rate, ci_low, ci_high.
    """
    y, p, w = _arrays(y, p, w)
    if int(bins) < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    values, inv = np.unique(p, return_inverse=True)
    gw = np.bincount(inv, weights=w, minlength=values.size)
    mid = (np.cumsum(gw) - gw / 2.0) / gw.sum()  # weighted mid-rank of each distinct value
    group_bin = np.minimum((mid * bins).astype(int), bins - 1)
    b = group_bin[inv]
    frame = pd.DataFrame({"bin": b + 1, "y": y, "p": p, "w": w, "wy": w * y, "wp": w * p,
                          "w2": w * w})
    g = frame.groupby("bin", sort=True)
    tab = pd.DataFrame({"n": g.size(), "weight": g["w"].sum(), "p_min": g["p"].min(),
                        "p_max": g["p"].max(), "mean_predicted": g["wp"].sum() / g["w"].sum(),
                        "observed_rate": g["wy"].sum() / g["w"].sum()})
    n_eff = (g["w"].sum() ** 2 / g["w2"].sum()).to_numpy()
    lo, hi = _wilson(tab["observed_rate"].to_numpy(), n_eff, alpha)
    tab["ci_low"], tab["ci_high"] = lo, hi
    return tab.reset_index()


def _region_map(territories_or_region_map: Any) -> pd.Series:
    """territory_id → region_id from a territories table or a mapping (ids as strings)."""
    obj = territories_or_region_map
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in ("territory_id", "region_id") if c not in obj.columns]
        if missing:
            raise data_error(None, f"the territories table lacks {', '.join(missing)}",
                             "pass the territories layer or a {territory_id: region_id} dict",
                             column=missing[0])
        s = pd.Series(obj["region_id"].astype(str).to_numpy(),
                      index=obj["territory_id"].astype(str).to_numpy())
    elif isinstance(obj, pd.Series):
        s = pd.Series(obj.astype(str).to_numpy(), index=obj.index.astype(str))
    elif isinstance(obj, Mapping):
        s = pd.Series({str(k): str(v) for k, v in obj.items()})
    else:
        raise DataError(f"<data>: cannot read a territory → region map from "
                        f"{type(obj).__name__}. Fix: pass the territories table or a dict")
    dup = s.index.duplicated()
    if dup.any():
        raise data_error(None, "territory ids repeated in the territory → region map",
                         "keep one row per territory", column="territory_id",
                         rows=[int(i) + 1 for i in np.flatnonzero(dup)])
    return s


def regional_validation(model: RiskModel, survey: pd.DataFrame,
                        census: pd.DataFrame | str | Path,
                        territories_or_region_map: Any, alpha: float = 0.05,
                        region: str = "region_id", census_weight: str = "weight"
                        ) -> pd.DataFrame:
    """Model-based vs direct child-labour rate for each region (survey domain).

    * ``model_rate``: mean of the census predictions p̂ in the region (weighted by
      ``census_weight`` when the census is a weighted sample); ``census`` is a DataFrame or the
      path of a Parquet file, streamed in batches;
    * ``direct_rate``: the survey's weighted proportion in the region (a ratio estimator), with
      its Taylor-linearised design SE using the model's strata/PSU columns and lonely-PSU policy
      (the domain is estimated over the full design, as R's ``svyby``); the CI uses Student's t
      with the design df (#PSU − #strata), as R ``confint(svyby(...), df=degf(design))``;
    * ``covered``: whether that CI contains ``model_rate``.

    Returns one row per region (sorted), columns region_id, n_survey, direct_rate, direct_se,
    ci_low, ci_high, n_census, model_rate, covered; ``table.attrs["share_covered"]`` holds the
    share of regions with a direct estimate whose CI covers the model rate (also
    :func:`share_covered`).
    """
    regions = _region_map(territories_or_region_map)
    parts = [_census_region_sums(model, batch, regions, census_weight, offset)
             for batch, offset in _census_batches(census, model, census_weight)]
    sums = pd.concat(parts).groupby(level=0, sort=True).sum()
    model_tab = pd.DataFrame({"n_census": sums["n"], "model_rate": sums["wp"] / sums["w"]})

    if region in survey.columns:
        s_region = survey[region].astype(str)
    elif "territory_id" in survey.columns:
        s_region = survey["territory_id"].astype(str).map(regions)
    else:
        raise data_error(None, f"the survey lacks '{region}' and 'territory_id'",
                         "add the region of each child", column=region)
    if s_region.isna().any():
        raise data_error(None, "survey rows without a region", "complete the region column",
                         column=region, rows=[int(i) + 1 for i in np.flatnonzero(s_region.isna())])
    for col in (model.outcome, model.weight, model.strata, model.psu):
        if col not in survey.columns:
            raise data_error(None, "column missing from the survey", "pass the survey the model "
                             "was fitted on", column=col)
    y = survey[model.outcome].to_numpy(dtype=float)
    w = survey[model.weight].to_numpy(dtype=float)
    fpc = survey[model.fpc] if model.fpc and model.fpc in survey.columns else None
    design = Design.from_columns(survey[model.strata], survey[model.psu], model.lonely_psu,
                                 fpc=fpc)
    codes, labels = pd.factorize(s_region, sort=True)
    n_dom = len(labels)
    wd = np.bincount(codes, weights=w, minlength=n_dom)
    rate = np.bincount(codes, weights=w * y, minlength=n_dom) / wd
    # linearised influence of each child on each domain ratio (zero outside the domain)
    z = np.zeros((len(y), n_dom))
    rows = np.arange(len(y))
    z[rows, codes] = w * (y - rate[codes]) / wd[codes]
    se = np.sqrt(np.clip(np.diag(design.variance_of_total(z)), 0.0, None))
    df = design.n_psu - design.n_strata
    # R confint(svyby(...), df = degf(design)): no design df left -> undefined (NaN) interval
    crit = stats.t.ppf(1 - alpha / 2, df) if df > 0 else np.nan
    direct = pd.DataFrame({"n_survey": np.bincount(codes, minlength=n_dom), "direct_rate": rate,
                           "direct_se": se, "ci_low": rate - crit * se, "ci_high": rate + crit * se},
                          index=pd.Index([str(x) for x in labels], name="region_id"))
    model_tab.index.name = "region_id"
    tab = direct.join(model_tab, how="outer").sort_index()
    tab["n_survey"] = tab["n_survey"].fillna(0).astype(int)
    tab["n_census"] = tab["n_census"].fillna(0).astype(int)
    tab["covered"] = ((tab["ci_low"] <= tab["model_rate"]) & (tab["model_rate"] <= tab["ci_high"])
                      ).astype(bool)
    tab = tab.reset_index()
    tab.attrs["share_covered"] = share_covered(tab)
    return tab


def _census_batches(census: pd.DataFrame | str | Path, model: RiskModel, census_weight: str,
                    batch_size: int = 500_000):
    """Yield (DataFrame, row offset); a Parquet path is streamed in batches (constant memory),
    reading only the territory id, the model covariates and the optional weight."""
    if isinstance(census, pd.DataFrame):
        yield census, 0
        return
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(census)
    names = set(pf.schema_arrow.names)
    cols = [c for c in ("territory_id", *model.covariates, census_weight) if c in names]
    offset = 0
    for batch in pf.iter_batches(batch_size=batch_size, columns=cols):
        frame = batch.to_pandas()
        yield frame, offset
        offset += len(frame)


def _census_region_sums(model: RiskModel, census: pd.DataFrame, regions: pd.Series,
                        census_weight: str, offset: int) -> pd.DataFrame:
    """Per-region n, Σw and Σw·p̂ for one census batch."""
    if "territory_id" not in census.columns:
        raise data_error(None, "the census lacks 'territory_id'", "add the territory code",
                         column="territory_id")
    c_region = census["territory_id"].astype(str).map(regions)
    unmapped = c_region.isna().to_numpy()
    if unmapped.any():
        raise data_error(None, "census territories not found in the territory → region map",
                         "check the territory codes (strings, zero-padded)",
                         column="territory_id",
                         rows=[int(i) + 1 + offset for i in np.flatnonzero(unmapped)])
    p_hat = model.predict(census)
    cw = (census[census_weight].to_numpy(dtype=float) if census_weight in census.columns
          else np.ones(len(census)))
    cdf = pd.DataFrame({"region_id": c_region.to_numpy(), "n": 1, "wp": cw * p_hat, "w": cw})
    return cdf.groupby("region_id", sort=True)[["n", "w", "wp"]].sum()


def share_covered(table: pd.DataFrame) -> float:
    """Share of regions with both rates whose direct CI contains the model-based rate."""
    ok = table["direct_rate"].notna() & table["model_rate"].notna()
    return float(table.loc[ok, "covered"].mean()) if ok.any() else float("nan")


def display_table(table: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A copy of a diagnostics table with translated column headers (for chapters/figures)."""
    return table.rename(columns={k: _(v, lang) for k, v in _HEADERS.items()})


# --------------------------------------------------------------------------------------------
# Design effect of the national prevalence (issue 16, item 3) and the regions that disagree
# --------------------------------------------------------------------------------------------
def prevalence_design_effect(survey: pd.DataFrame, outcome: str = "child_labour",
                             weight: str = "weight", strata: str = "stratum", psu: str = "psu",
                             *, fpc: str | None = None, lonely_psu: str = "adjust"
                             ) -> dict[str, float]:
    """Weighted prevalence with its design-based and simple-random-sampling standard errors.

    Why: the fit chapter must show, from the data, how much the clustered design widens the
    uncertainty of the headline figure. Definitions are R's ``svymean(~y, design, deff=TRUE)``:
    ``se`` is the Taylor-linearised SE under strata/PSUs (and fpc); ``se_srs`` is the SE of a
    simple random sample without replacement of the same size, √(s² (N̂ − n)/(N̂ n)) with
    s² = n/(n−1) Σw(y − ȳ)²/Σw and N̂ = Σw; ``deff`` = se² / se_srs². Also returned: ``n``
    children and the design degrees of freedom ``df`` (#PSU − #strata).
    """
    missing = [c for c in (outcome, weight, strata, psu) if c not in survey.columns]
    if missing:
        raise data_error(None, "column missing from the survey", "pass the survey with its "
                         "design columns", column=missing[0])
    y = survey[outcome].to_numpy(dtype=float)
    w = survey[weight].to_numpy(dtype=float)
    design = Design.from_columns(survey[strata], survey[psu], lonely_psu,
                                 fpc=survey[fpc] if fpc else None)
    n, total = len(y), float(w.sum())
    mean = float(w @ y / total)
    var = float(design.variance_of_total(w * (y - mean) / total)[0, 0])
    s2 = float(w @ (y - mean) ** 2 / total) * n / (n - 1)
    v_srs = s2 * (total - n) / (total * n)
    return {"estimate": mean, "se": float(np.sqrt(max(var, 0.0))),
            "se_srs": float(np.sqrt(max(v_srs, 0.0))),
            "deff": var / v_srs if v_srs > 0 else float("nan"), "n": n,
            "df": design.n_psu - design.n_strata}


def disagreeing_regions(table: pd.DataFrame) -> pd.DataFrame:
    """Regions of :func:`regional_validation` whose direct 95% CI excludes the model-based rate.

    Sorted by disagreement: the gap in units of the direct estimate's standard error (how many
    standard errors the model rate lies from the survey), largest first; ``gap`` is
    model − direct (positive: the model gives more child labour than the survey measures).
    """
    ok = table["direct_rate"].notna() & table["model_rate"].notna() & ~table["covered"]
    out = table[ok].copy()
    out["gap"] = out["model_rate"] - out["direct_rate"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gap_in_se"] = out["gap"].abs() / out["direct_se"]
    return out.sort_values(["gap_in_se", "region_id"], ascending=[False, True]
                           ).reset_index(drop=True)


REPLICATES_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / \
    "sae_replicates.json"


def replicate_study(path: str | Path | None = None) -> pd.DataFrame | None:
    """The committed replicate study's summary (both estimators, unretouched), or None.

    Why a reader and not a recomputation: 50 fresh populations × 2 countries take too long for
    a chapter; ``benchmarks/sae_replicates.py`` (``make validate``) writes the file and the
    validation chapter shows it as it is.
    """
    import json

    p = Path(path) if path is not None else REPLICATES_FILE
    if not p.is_file():
        return None
    doc = json.loads(p.read_text(encoding="utf-8"))
    summary = pd.DataFrame(doc.get("summary") or [])
    if summary.empty:
        return None
    summary.attrs["replicates"] = doc.get("replicates")
    summary.attrs["mse"] = doc.get("mse")
    attrs = dict(summary.attrs)
    main_countries = set(summary["country"])
    # the bootstrap-MSE run (fewer replicates: each refits the model B times), as extra rows
    boot = p.with_name(p.stem + "_bootstrap.json")
    if path is None and boot.is_file():
        extra = pd.DataFrame(json.loads(boot.read_text(encoding="utf-8")).get("summary") or [])
        extra = extra[extra["estimator"] == "sae"].assign(estimator="sae_bootstrap")
        summary = pd.concat([summary, extra], ignore_index=True)
    # the other survey countries at a reduced number of populations, every estimator
    more = p.with_name(p.stem + "_countries.json")
    if path is None and more.is_file():
        extra = pd.DataFrame(json.loads(more.read_text(encoding="utf-8")).get("summary") or [])
        summary = pd.concat([summary, extra[~extra["country"].isin(main_countries)]],
                            ignore_index=True)
    summary.attrs.update(attrs)
    return summary


def country_display_name(key: str, lang: str) -> str:
    """A sample country's name in ``lang`` ("chile" -> "Chili" in French) from its profile,
    or the key itself when the sample is not installed — the replicate table stores keys."""
    from clrisk.data.country import data_root
    from clrisk.errors import DataError
    from clrisk.profile import load_profile

    path = data_root() / key / "profile.yaml"
    try:
        return load_profile(path).name(lang)
    except (DataError, OSError):  # a missing or unreadable sample keeps its key (a label)
        return key

