"""Are the survey and the census measuring the same covariates? (METHODOLOGY, Validation.)

Why this check exists: the risk model is fitted on the survey and applied to the census. If a
covariate is coded differently in the two files (1/2 in one, 0/1 in the other), defined
differently (household head's schooling in years vs in levels) or measured at a different
date, every territory rate inherits the error and nothing else in the pipeline notices. The
official method assumes the two sources are harmonised; R ``povmap`` tests it by comparing
survey and census means of each covariate. We do the same, design-based.

Method, for each covariate x, nationally and in each region:

* survey mean: the weighted (Hájek) mean Σw x / Σw with its Taylor-linearised standard error
  under the survey design (strata, PSUs, optional finite population correction) — the same
  estimator as R ``svymean``/``svyby``;
* census mean: Σw x / Σw over the census rows (weights = 1 for a full count). A full count is
  treated as fixed (standard error 0). A census *sample* (rows with weights) gets the
  with-replacement standard error √(Σ w²(x − m)²) / Σw (Kish; the census sample design is not
  known here, so this is a lower bound for a clustered census sample);
* the survey SE is floored at √(deff · s²_census / n), deff the covariate's national design
  effect: a small region whose few PSUs happen to lack a rare characteristic would otherwise get
  a near-zero Taylor SE and a spurious flag;
* difference d = survey − census; standardised difference d / s with s the pooled standard
  deviation √((s²_survey + s²_census)/2) (the balance diagnostic of Austin 2009, scale-free);
  Wald statistic z = d / √(SE²_survey + SE²_census) with a Student t reference on the survey's
  design degrees of freedom (#PSU − #strata), two-sided p-value.

Flag (documented threshold, :data:`STD_DIFF_THRESHOLD`, :data:`ALPHA`): a covariate is flagged
in a scope when **|standardised difference| > 0.2 and p < 0.01 / m**, m being the number of
tests in that scope (covariates nationally; covariates × regions regionally — Bonferroni, so a
ten-region table of eleven covariates does not flag by chance). 0.2 standard deviations is the
conventional "small but real" size; below it a difference, however significant in a large
survey, moves the projected rates little. Separately, a binary covariate whose two values
differ between the files (e.g. {1, 2} vs {0, 1}) is flagged as a coding mismatch whatever the
test says.

Cost: the survey side is a few sparse products (all covariates and regions at once); the
census is read once, in batches, only the territory id, the covariates and the weight (or the
collapsed pattern table, when given one). Suitable for ``clrisk check`` and the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from clrisk.errors import data_error
from clrisk.i18n import _, format_number
from clrisk.phase1.model import Design

STD_DIFF_THRESHOLD = 0.2  # |standardised difference| above which a difference matters
ALPHA = 0.01  # family-wise significance level per scope (Bonferroni over the scope's tests)
NATIONAL = "national"
REGION = "region"

COLUMNS = ["scope", "region_id", "covariate", "n_survey", "survey_mean", "survey_se",
           "survey_se_design", "census_mean", "census_se", "difference", "std_difference", "z", "p_value",
           "flagged", "reason"]


# --------------------------------------------------------------------------------------------
# Census side: per-territory sums in one streamed pass
# --------------------------------------------------------------------------------------------
def _census_sums(census: Any, covariates: list[str], weight: str | None
                 ) -> tuple[np.ndarray, dict[str, np.ndarray], bool]:
    """Per-territory (ids, sums) where sums hold w, wx, wx², w², w²x, w²x² (k columns each).

    Accepts a :class:`~clrisk.phase1.census_source.CensusSource`, a pattern table, a DataFrame
    or a Parquet path. Row-level sums of w² (needed for a weighted census sample's SE) are only
    available from rows, so a weighted census is always streamed from its rows.
    """
    from clrisk.phase1.census_source import CensusSource
    from clrisk.phase1.patterns import PatternTable, iter_census_columns

    raw = census
    if isinstance(census, CensusSource):
        # a full count (or a source whose rows cannot be re-read): the blocks suffice
        if not census.weighted or census.weight is None or census.raw is None or isinstance(
                census.raw, PatternTable):
            return _sums_from_blocks(census, covariates)
        raw, weight = census.raw, census.weight  # a census sample: rows for Σw²
    elif isinstance(census, PatternTable):
        from clrisk.phase1.census_source import resolve_census

        return _sums_from_blocks(resolve_census(census, covariates), covariates)
    index: dict[str, int] = {}
    acc: dict[str, np.ndarray] = {}
    for _off, codes, values, cols, w in iter_census_columns(raw, covariates, weight=weight):
        tmap = np.fromiter((index.setdefault(str(v), len(index)) for v in values),
                           dtype=np.intp, count=len(values))
        _merge(acc, _column_sums(tmap[codes], cols, w, len(index)), len(index))
    ids = np.array(list(index), dtype=object)
    return ids, acc, weight is not None


def _column_sums(t: np.ndarray, cols: list[np.ndarray], w: np.ndarray | None, n_t: int
                 ) -> dict[str, np.ndarray]:
    """Territory sums of one row batch, column by column in the columns' stored types.

    Why not :func:`_block_sums`: a census batch arrives as one array per covariate (int8 for
    the usual codes, zero-copy from Parquet); summing each where it lies — over the runs of one
    territory when the file is ordered by territory — avoids assembling an n × k float matrix
    and its weighted copies, so the check costs about one more read of the census.
    """
    k = len(cols)
    n = len(t)
    runs = bool(n) and bool((t[1:] >= t[:-1]).all())
    if runs:
        starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
        ids = t[starts]

    def tot(v: np.ndarray) -> np.ndarray:
        out = np.zeros(n_t)
        if runs:
            out[ids] = np.add.reduceat(v, starts, dtype=np.float64)
        else:
            out += np.bincount(t, weights=np.asarray(v, dtype=np.float64), minlength=n_t)
        return out

    res: dict[str, np.ndarray] = {"w": tot(np.ones(n) if w is None else w)}
    names = ["wx", "wx2"] + (["w2x", "w2x2"] if w is not None else [])
    parts: dict[str, list[np.ndarray]] = {key: [] for key in names}
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    if w is not None:
        res["w2"] = tot(w * w)
    for j, col in enumerate(cols):
        x = np.asarray(col)
        if n:
            lo[j], hi[j] = float(x.min()), float(x.max())
        x2 = np.square(x, dtype=np.float64)
        if w is None:
            parts["wx"].append(tot(x))
            parts["wx2"].append(tot(x2))
        else:
            wx = w * x
            parts["wx"].append(tot(wx))
            parts["wx2"].append(tot(w * x2))
            parts["w2x"].append(tot(wx * w))
            parts["w2x2"].append(tot(wx * w * x))
    for key in names:
        res[key] = np.column_stack(parts[key]) if k else np.zeros((n_t, 0))
    res["min"], res["max"] = lo, hi
    return res


def _merge(acc: dict[str, np.ndarray], part: dict[str, np.ndarray], n_t: int) -> None:
    """Add a block's territory sums into ``acc`` (territories may grow between blocks)."""
    for key, val in part.items():
        old = acc.get(key)
        if old is None:
            acc[key] = val
        elif key == "min":
            acc[key] = np.minimum(old, val)
        elif key == "max":
            acc[key] = np.maximum(old, val)
        else:
            grown = np.zeros((n_t,) + val.shape[1:])
            grown[: len(old)] += old
            grown[: len(val)] += val
            acc[key] = grown


def _sums_from_blocks(source: Any, covariates: list[str]) -> tuple[np.ndarray, dict, bool]:
    idx = [list(source.covariates).index(c) for c in covariates]
    n_t = len(source.territory_ids)
    acc: dict[str, np.ndarray] = {}
    for blk in source.blocks():
        part = _block_sums(blk.territory_codes, blk.X[:, idx], blk.weights, n_t, squares=False)
        _merge(acc, part, n_t)
    return np.asarray(source.territory_ids, dtype=object), acc, False


def _block_sums(t: np.ndarray, X: np.ndarray, w: np.ndarray, n_t: int, squares: bool
                ) -> dict[str, np.ndarray]:
    """Territory sums of one block.

    Why two paths: census files are usually ordered by territory, so a block is a few long
    runs of one territory and ``np.add.reduceat`` over the runs sums every column in one
    compiled pass; otherwise one ``np.bincount`` per column (no pandas groupby either way).
    """
    k = X.shape[1]
    wx = X * w[:, None]
    parts = {"wx": wx, "wx2": wx * X}
    if squares:
        w2x = wx * w[:, None]
        parts |= {"w2x": w2x, "w2x2": w2x * X}
    weights = {"w": w, "w2": w * w} if squares else {"w": w}
    out: dict[str, np.ndarray] = {}
    if t.size and (t[1:] >= t[:-1]).all():
        starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
        ids = t[starts]
        for key, vec in weights.items():
            out[key] = np.zeros(n_t)
            out[key][ids] = np.add.reduceat(vec, starts)
        for key, mat in parts.items():
            out[key] = np.zeros((n_t, k))
            if k:
                out[key][ids] = np.add.reduceat(mat, starts, axis=0)
    else:
        for key, vec in weights.items():
            out[key] = np.bincount(t, weights=vec, minlength=n_t)
        for key, mat in parts.items():
            out[key] = (np.column_stack([np.bincount(t, weights=mat[:, j], minlength=n_t)
                                         for j in range(k)]) if k else np.zeros((n_t, 0)))
    out["min"] = X.min(axis=0) if len(X) else np.full(k, np.inf)
    out["max"] = X.max(axis=0) if len(X) else np.full(k, -np.inf)
    return out


def _region_series(regions: Any, survey: pd.DataFrame, region: str) -> pd.Series | None:
    """territory_id → region_id from a territories table, a mapping, or the survey's pairs."""
    if regions is None:
        if "territory_id" in survey.columns and region in survey.columns:
            pairs = survey[["territory_id", region]].astype(str).drop_duplicates("territory_id")
            return pd.Series(pairs[region].to_numpy(), index=pairs["territory_id"].to_numpy())
        return None
    if isinstance(regions, pd.DataFrame):
        return pd.Series(regions["region_id"].astype(str).to_numpy(),
                         index=regions["territory_id"].astype(str).to_numpy())
    if isinstance(regions, pd.Series):
        return pd.Series(regions.astype(str).to_numpy(), index=regions.index.astype(str))
    if isinstance(regions, Mapping):
        return pd.Series({str(k): str(v) for k, v in regions.items()})
    raise TypeError(f"regions must be a territories table, a Series or a dict, not "
                    f"{type(regions).__name__}")


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------
def harmonisation_check(survey: pd.DataFrame, census: Any, covariates: Sequence[str], *,
                        weight: str = "weight", strata: str = "stratum", psu: str = "psu",
                        region: str = "region_id", regions: Any = None,
                        census_weight: str | None = None, fpc: str | None = None,
                        lonely_psu: str = "adjust", source: str | None = None) -> pd.DataFrame:
    """Survey vs census mean of each covariate, nationally and per region (module docstring).

    ``census``: a DataFrame, a Parquet path, a pattern table or a resolved ``CensusSource``
    (only the territory id, the covariates and ``census_weight`` are read, in batches).
    ``regions``: the territories table or a {territory_id: region_id} mapping; by default the
    survey's own (territory_id, region) pairs. Returns one row per (scope, region, covariate)
    with the columns of :data:`COLUMNS` (``survey_se_design`` is the Taylor SE before the
    small-domain floor, ``survey_se`` the one tested); ``flagged`` rows are explained by
    :func:`harmonisation_warnings`. ``table.attrs`` records the thresholds used.
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    needed = [weight, strata, psu, *covariates] + ([fpc] if fpc else [])
    missing = [c for c in needed if c not in survey.columns]
    if missing:
        raise data_error(source, _("the survey lacks column(s) {cols} needed by the "
                                   "harmonisation check").format(cols=", ".join(missing)),
                         _("map the national names onto the canonical ones in profile.yaml"),
                         column=missing[0])
    for col in needed:
        bad = survey[col].isna().to_numpy()
        if bad.any():
            raise data_error(source, _("missing values in a column the harmonisation check "
                                       "needs"),
                             _("impute or drop these rows before the check"), column=col,
                             rows=[int(i) + 1 for i in np.flatnonzero(bad)])
    k = len(covariates)
    X = survey[covariates].to_numpy(dtype=float)
    w = survey[weight].to_numpy(dtype=float)
    design = Design.from_columns(survey[strata], survey[psu], lonely_psu,
                                 fpc=survey[fpc] if fpc else None, source=source)
    df = design.n_psu - design.n_strata

    # census: per-territory sums, then national and regional
    tids, sums, weighted = _census_sums(census, covariates, census_weight)
    region_of = _region_series(regions, survey, region)
    c_nat = {key: val.sum(axis=0) for key, val in sums.items() if key not in ("min", "max")}
    c_min, c_max = sums["min"], sums["max"]

    rows: list[dict] = []
    # survey national
    W = w.sum()
    s_mean = (w @ X) / W
    z = (X - s_mean) * (w / W)[:, None]
    s_var = np.diag(design.variance_of_total(z))
    s_sd = np.sqrt(np.maximum((w @ (X - s_mean) ** 2) / W, 0.0))
    # national design effect of each mean (R svymean(deff=TRUE): V / (s² / n)), used to floor
    # the standard error of small domains (see _compare)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(s_sd > 0, s_var / (s_sd ** 2 / len(w)), 1.0)
    deff = np.maximum(np.nan_to_num(deff, nan=1.0), 1.0)
    rows += _compare(NATIONAL, None, covariates, len(w), s_mean, s_var, s_sd, c_nat, weighted,
                     df, deff)
    s_min, s_max = X.min(axis=0), X.max(axis=0)
    for j in range(k):
        if _coding_mismatch(X[:, j], s_min[j], s_max[j], c_min[j], c_max[j]):
            rows[j]["flagged"] = True
            rows[j]["reason"] = "coding"
            rows[j]["survey_range"] = (float(s_min[j]), float(s_max[j]))
            rows[j]["census_range"] = (float(c_min[j]), float(c_max[j]))

    # regions
    if region_of is not None and region in survey.columns:
        s_reg = survey[region].astype(str).to_numpy()
        labels, codes = np.unique(s_reg, return_inverse=True)
        c_reg = pd.Series(tids).astype(str).map(region_of).to_numpy()
        n_dom = len(labels)
        wd = np.bincount(codes, weights=w, minlength=n_dom)
        wxd = np.column_stack([np.bincount(codes, weights=w * X[:, j], minlength=n_dom)
                               for j in range(k)]).reshape(n_dom, k)
        mean_d = wxd / wd[:, None]
        # domain influence totals per PSU: u[j, (d, c)] = Σ_{i∈j∩d} w_i (x_ic − m_dc) / W_d
        row_psu = np.empty(len(w), dtype=np.intp)
        row_psu[design.order] = np.repeat(np.arange(design.n_psu),
                                          np.diff(np.r_[design.starts, len(w)]))
        cell = row_psu * n_dom + codes
        size = design.n_psu * n_dom
        resid = (X - mean_d[codes]) * (w / wd[codes])[:, None]
        u = np.column_stack([np.bincount(cell, weights=resid[:, j], minlength=size)
                             for j in range(k)]).reshape(design.n_psu, n_dom * k)
        var_d = np.diag(design.variance_from_totals(u)).reshape(n_dom, k)
        sd_d = np.sqrt(np.maximum(np.column_stack([
            np.bincount(codes, weights=w * (X[:, j] - mean_d[codes, j]) ** 2,
                        minlength=n_dom) for j in range(k)]).reshape(n_dom, k) / wd[:, None],
            0.0))
        n_d = np.bincount(codes, minlength=n_dom)
        reg_rows: list[dict] = []
        for d, lab in enumerate(labels):
            sel = c_reg == lab
            if not sel.any():
                continue
            c_d = {key: val[sel].sum(axis=0) for key, val in sums.items()
                   if key not in ("min", "max")}
            reg_rows += _compare(REGION, str(lab), covariates, int(n_d[d]), mean_d[d], var_d[d],
                                 sd_d[d], c_d, weighted, df, deff)
        _flag(reg_rows, max(len(reg_rows), 1))
        rows += reg_rows
    _flag(rows[:k], k, keep=True)
    table = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    extra = [c for c in table.columns if c not in COLUMNS]
    table = table[COLUMNS + extra]
    table.attrs.update({"std_diff_threshold": STD_DIFF_THRESHOLD, "alpha": ALPHA,
                        "design_df": df, "census_weighted": weighted,
                        "design_effect": dict(zip(covariates, map(float, deff), strict=True))})
    return table


def _compare(scope: str, region: str | None, covariates: list[str], n: int, s_mean: np.ndarray,
             s_var: np.ndarray, s_sd: np.ndarray, c: dict[str, np.ndarray], weighted: bool,
             df: int, deff: np.ndarray) -> list[dict]:
    """Rows comparing survey and census for one scope (one entry per covariate).

    The survey standard error is floored at √(deff · s²_census / n): what the design would
    give if the covariate varied in this scope as it does in the census. Why: in a small
    region where a rare characteristic happens to be absent from most PSUs, the Taylor SE
    collapses towards 0 and any census difference looks "significant"; borrowing the national
    design effect (a generalised design effect) keeps the test honest.
    """
    cw = c["w"]
    c_mean = c["wx"] / cw
    c_var_pop = np.maximum(c["wx2"] / cw - c_mean ** 2, 0.0)
    if weighted:
        ss = c["w2x2"] - 2 * c_mean * c["w2x"] + c_mean ** 2 * c["w2"]
        c_se = np.sqrt(np.maximum(ss, 0.0)) / cw
    else:
        c_se = np.zeros_like(c_mean)
    se_design = np.sqrt(np.maximum(s_var, 0.0))
    s_se = np.maximum(se_design, np.sqrt(deff * c_var_pop / max(n, 1)))
    diff = s_mean - c_mean
    pooled = np.sqrt((s_sd ** 2 + c_var_pop) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.where(pooled > 0, diff / pooled, np.where(diff == 0, 0.0, np.inf))
        zval = diff / np.sqrt(s_se ** 2 + c_se ** 2)
    if df > 0:
        p = 2.0 * stats.t.sf(np.abs(zval), df)
    else:
        p = np.full(len(zval), np.nan)
    return [{"scope": scope, "region_id": region, "covariate": cov, "n_survey": int(n),
             "survey_mean": float(s_mean[j]), "survey_se": float(s_se[j]),
             "survey_se_design": float(se_design[j]),
             "census_mean": float(c_mean[j]), "census_se": float(c_se[j]),
             "difference": float(diff[j]), "std_difference": float(std[j]),
             "z": float(zval[j]), "p_value": float(p[j]), "flagged": False, "reason": ""}
            for j, cov in enumerate(covariates)]


def _flag(rows: list[dict], m: int, keep: bool = False) -> None:
    """Apply the documented rule to a scope's rows (Bonferroni over its m tests)."""
    for r in rows:
        if keep and r["reason"] == "coding":
            continue
        size = abs(r["std_difference"]) > STD_DIFF_THRESHOLD
        signif = (r["p_value"] < ALPHA / m) if np.isfinite(r["p_value"]) else True
        if size and signif:
            r["flagged"], r["reason"] = True, "difference"


def _coding_mismatch(col: np.ndarray, s_lo: float, s_hi: float, c_lo: float, c_hi: float
                     ) -> bool:
    """Binary in the survey (two values) with a different pair of values in the census."""
    if s_lo == s_hi or not ((col == s_lo) | (col == s_hi)).all():
        return False
    return (s_lo, s_hi) != (c_lo, c_hi) and not (c_lo == c_hi and c_lo in (s_lo, s_hi))


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------
def format_p(p: float, lang: str | None = None) -> str:
    """A p-value for people: "< 0.001" below one in a thousand, never "0.000"."""
    if not np.isfinite(p):
        return _("not defined", lang)
    if p < 0.001:
        return "< " + format_number(0.001, 3, lang)
    return format_number(p, 3, lang)


def harmonisation_warnings(table: pd.DataFrame, lang: str | None = None) -> list[str]:
    """One clear, translated sentence per flagged covariate (national, then regional only)."""
    out: list[str] = []
    if table.empty:
        return out
    nat = table[table["scope"] == NATIONAL]
    reg = table[table["scope"] == REGION]
    national_flagged = set()
    for r in nat[nat["flagged"]].itertuples(index=False):
        national_flagged.add(r.covariate)
        if r.reason == "coding":
            s_lo, s_hi = getattr(r, "survey_range", (np.nan, np.nan))
            c_lo, c_hi = getattr(r, "census_range", (np.nan, np.nan))
            out.append(_("Covariate '{cov}' is coded {s_lo:g}/{s_hi:g} in the survey but "
                         "{c_lo:g}/{c_hi:g} in the census: the model would be applied to "
                         "values it never saw. Fix: recode one of the files (mapping in "
                         "profile.yaml) so both use the same codes", lang).format(
                             cov=r.covariate, s_lo=s_lo, s_hi=s_hi, c_lo=c_lo, c_hi=c_hi))
            continue
        out.append(_("Covariate '{cov}': survey mean {s} vs census mean {c}, a difference of "
                     "{d} standard deviations (p {p}). The two files may not measure it the "
                     "same way (coding, definition or reference date). Fix: check how "
                     "'{cov}' is built in each file (mapping in profile.yaml)", lang).format(
                         cov=r.covariate, s=format_number(r.survey_mean, 3, lang),
                         c=format_number(r.census_mean, 3, lang),
                         d=format_number(r.std_difference, 2, lang),
                         p=_p_phrase(r.p_value, lang)))
    flagged = reg[reg["flagged"] & ~reg["covariate"].isin(national_flagged)]
    for cov, grp in flagged.groupby("covariate", sort=True):
        worst = grp.loc[grp["std_difference"].abs().idxmax()]
        out.append(_("Covariate '{cov}' differs between survey and census in region(s) "
                     "{regions} (largest in region {worst}: {d} standard deviations). Check "
                     "whether the covariate is recorded the same way there", lang).format(
                         cov=cov, regions=", ".join(sorted(grp["region_id"].astype(str))),
                         worst=worst["region_id"],
                         d=format_number(worst["std_difference"], 2, lang)))
    return out


def _p_phrase(p: float, lang: str | None) -> str:
    text = format_p(p, lang)
    return text if text.startswith("<") else "= " + text


def display_table(table: pd.DataFrame, lang: str | None = None, flagged_only: bool = False
                  ) -> pd.DataFrame:
    """The check as a readable table (translated headers, p-values as "< 0.001")."""
    t = table[table["flagged"]] if flagged_only else table
    scope = {NATIONAL: _("National", lang), REGION: _("Region", lang)}
    out = pd.DataFrame({
        _("Scope", lang): [scope.get(s, s) for s in t["scope"]],
        _("Region", lang): t["region_id"].fillna("").astype(str).to_numpy(),
        _("Covariate", lang): t["covariate"].to_numpy(),
        _("Survey mean", lang): t["survey_mean"].round(3).to_numpy(),
        _("Survey SE", lang): t["survey_se"].round(4).to_numpy(),
        _("Census mean", lang): t["census_mean"].round(3).to_numpy(),
        _("Standardised difference", lang): t["std_difference"].round(2).to_numpy(),
        _("p-value", lang): [format_p(p, lang) for p in t["p_value"]],
        _("Flag", lang): [_("check", lang) if f else "" for f in t["flagged"]],
    })
    return out


def check_files(survey: pd.DataFrame, census: Any, covariates: Sequence[str],
                source: str | Path | None = None, **kwargs: Any) -> tuple[pd.DataFrame,
                                                                         list[str]]:
    """Convenience for ``clrisk check`` and the pipeline: (table, translated warnings).

    Unless ``census_weight`` is given, a census with a canonical ``weight`` column is treated as
    a weighted census sample (as ``clrisk run`` does), so its means are weighted.
    """
    if "census_weight" not in kwargs:
        kwargs["census_weight"] = _detect_weight(census)
    table = harmonisation_check(survey, census, covariates,
                                source=None if source is None else str(source), **kwargs)
    return table, harmonisation_warnings(table)


def _detect_weight(census: Any) -> str | None:
    """``"weight"`` when the census (DataFrame or Parquet path) has that column, else None."""
    from clrisk.phase1.census_source import CensusSource
    from clrisk.phase1.patterns import PatternTable, census_columns

    if isinstance(census, (CensusSource, PatternTable)):
        return None  # a resolved source carries its own weights
    try:
        return "weight" if "weight" in census_columns(census) else None
    except (OSError, ValueError, TypeError):
        return None
