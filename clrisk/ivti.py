"""IVTI — Child Labour Vulnerability Index (METHODOLOGY §IVTI).

For countries without a survey–census pair, a composite index per territory from
administrative-record indicators grouped in dimensions:

1. orient each indicator so that higher = more vulnerable (``direction`` -1 flips it);
2. normalise: ``minmax`` to [0, 1] (default) or ``zscore`` (mean 0, sd 1);
3. average the indicators within each dimension;
4. average the dimensions with equal weights (or the profile's ``dimension_weights``), or —
   ``weighting="pca"`` — weight each indicator by its squared loading on the first principal
   component of the standardised indicators (the explained variance is reported in
   ``result.attrs``);
5. classify the index into levels like the risk model (``clrisk.phase1.classify``).

Why contributions: each territory's index is an exact sum of per-indicator contributions
(weight x normalised value), the IVTI analogue of instrument 2: it says which indicators put a
territory high.

Missing values (administrative records have omissions): a territory's missing indicator is left
out and its weight goes to the indicators the territory has, first within the same dimension
(a dimension with none left passes its weight to the other dimensions), so every territory's
weights still sum to 1 and its contributions to its index. ``missing_indicators`` counts them.
A territory missing more than half of the weight raises a DataError naming it: its index
would rest on too little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase1.classify import classify_risk
from clrisk.schema import TERRITORY_ID

SOURCE = "admin_records.csv"


def _spec(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "dimension": item, "direction": 1}
    get = item.get if isinstance(item, Mapping) else (lambda k, d=None: getattr(item, k, d))
    return {"name": str(get("name")), "dimension": str(get("dimension", None) or get("name")),
            "direction": int(get("direction", 1) or 1)}


def vulnerability_index(admin_records: pd.DataFrame, indicators: Sequence[Any],
                        dimension_weights: Mapping[str, float] | None = None,
                        method: str = "minmax", weighting: str = "equal", k: int = 3,
                        classify_method: str = "quantiles", *, source: str = SOURCE
                        ) -> pd.DataFrame:
    """The IVTI per territory.

    ``indicators``: profile entries ``{name, dimension, direction}`` (or names). Returns one row
    per territory (sorted by territory_id) with ``ivti``, one ``dimension_<d>`` score per
    dimension, one ``contribution_<indicator>`` per indicator (they sum to ``ivti``),
    ``risk_level`` and ``risk_label``. ``attrs`` holds the indicator weights used and, for PCA,
    ``explained_variance`` (share of variance of the first component).
    """
    specs = [_spec(i) for i in indicators]
    if not specs:
        raise data_error(source, "no IVTI indicators listed", "list indicators under ivti: "
                         "indicators: in profile.yaml")
    if TERRITORY_ID not in admin_records.columns:
        raise data_error(source, "missing column", "add the territory identifier",
                         TERRITORY_ID)
    names = [s["name"] for s in specs]
    missing = [n for n in names if n not in admin_records.columns]
    if missing:
        raise data_error(source, f"missing indicator column(s) {', '.join(missing)}",
                         "add them to the administrative records or remove them from "
                         "ivti: indicators: in profile.yaml")
    if method not in ("minmax", "zscore"):
        raise ValueError(f"unknown normalisation {method!r}; use 'minmax' or 'zscore'")
    if weighting not in ("equal", "pca"):
        raise ValueError(f"unknown weighting {weighting!r}; use 'equal' or 'pca'")
    df = admin_records.sort_values(TERRITORY_ID, kind="stable").reset_index(drop=True)
    tids = df[TERRITORY_ID].astype(str).to_numpy()
    dup = pd.Series(tids).duplicated()
    if dup.any():
        raise data_error(source, "duplicated territories", "keep one row per territory",
                         TERRITORY_ID, tids[dup.to_numpy()])
    X = np.empty((len(df), len(names)))
    for j, n in enumerate(names):
        col = pd.to_numeric(df[n], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isinf(col) | (np.isnan(col) & df[n].notna().to_numpy())
        if bad.any():
            raise data_error(source, _("non-numeric values for territories"),
                             _("write numbers (leave a cell empty when the value is missing)"),
                             n, tids[bad])
        if np.isnan(col).all():
            raise data_error(source, _("the indicator has no values"),
                             _("remove it from ivti: indicators: or fill it"), n)
        X[:, j] = col
    missing = np.isnan(X)
    Z = np.empty_like(X)
    for j, s in enumerate(specs):
        x = X[:, j] * (1 if s["direction"] >= 0 else -1)
        lo, hi = np.nanmin(x), np.nanmax(x)
        if hi == lo:
            raise data_error(source, "the indicator is constant across territories, so it "
                             "cannot discriminate", "remove it from ivti: indicators:",
                             s["name"])
        Z[:, j] = ((x - lo) / (hi - lo) if method == "minmax"
                   else (x - np.nanmean(x)) / np.nanstd(x, ddof=1))
    dims = list(dict.fromkeys(s["dimension"] for s in specs))
    members = {d: [j for j, s in enumerate(specs) if s["dimension"] == d] for d in dims}
    attrs: dict[str, Any] = {"method": method, "weighting": weighting}
    if weighting == "equal":
        if dimension_weights:
            unknown = set(dimension_weights) - set(dims)
            if unknown:
                raise data_error(source, f"weights for unknown dimension(s) {sorted(unknown)}",
                                 "use the dimension names of ivti: indicators:")
            dw = np.array([float(dimension_weights.get(d, 0.0)) for d in dims])
        else:
            dw = np.ones(len(dims))
        if (dw < 0).any() or dw.sum() <= 0:
            raise data_error(source, "dimension weights must be >= 0 and not all 0",
                             "fix ivti: dimension_weights: in profile.yaml")
        dw = dw / dw.sum()
        w = np.zeros(len(names))
        for d, wd in zip(dims, dw, strict=True):
            for j in members[d]:
                w[j] = wd / len(members[d])
        attrs["dimension_weights"] = dict(zip(dims, dw.tolist(), strict=True))
    else:
        S = (X - np.nanmean(X, 0)) / np.nanstd(X, 0, ddof=1)
        S = S * np.array([1 if s["direction"] >= 0 else -1 for s in specs])
        corr = (np.corrcoef(S, rowvar=False) if not missing.any()  # pairwise when gaps
                else pd.DataFrame(S).corr().to_numpy())
        vals, vecs = np.linalg.eigh(corr.reshape(len(names), len(names)))
        v = vecs[:, -1]
        w = v**2 / np.sum(v**2)
        attrs["explained_variance"] = float(vals[-1] / vals.sum())
    attrs["indicator_weights"] = dict(zip(names, w.tolist(), strict=True))
    W = _territory_weights(w, missing, members, source, tids)
    contrib = np.where(missing, 0.0, Z) * W
    out = pd.DataFrame({TERRITORY_ID: pd.array(tids, dtype=object),
                        "ivti": contrib.sum(axis=1)})
    for d in dims:
        sub = Z[:, members[d]]
        have = (~np.isnan(sub)).sum(axis=1)
        out[f"dimension_{d}"] = np.where(have > 0, np.nansum(sub, axis=1) / np.maximum(have, 1),
                                         np.nan)
    for j, n in enumerate(names):
        out[f"contribution_{n}"] = contrib[:, j]
    if missing.any():
        out["missing_indicators"] = missing.sum(axis=1)
    out = classify_risk(out, classify_method, k, column="ivti")
    out.attrs.update(attrs)
    return out


def _territory_weights(w: np.ndarray, missing: np.ndarray, members: dict[str, list[int]],
                       source: str, tids: np.ndarray) -> np.ndarray:
    """Per-territory indicator weights: ``w`` where nothing is missing; otherwise a missing
    indicator's weight goes to the territory's other indicators of its dimension, or, when the
    whole dimension is missing, to the other dimensions (rows sum to 1)."""
    n, m = missing.shape
    if not missing.any():
        return np.broadcast_to(w, (n, m))
    lost = (missing * w).sum(axis=1)
    bad = lost > 0.5 + 1e-12
    if bad.any():
        raise data_error(source, _("more than half of the indicators' weight is missing for "
                                   "territories"),
                         _("fill their indicators or leave them out of the index"),
                         None, tids[bad])
    W = np.zeros((n, m))
    for cols in members.values():
        have = ~missing[:, cols]
        dim_w = w[cols].sum()
        own = np.where(have, w[cols], 0.0)
        kept = own.sum(axis=1, keepdims=True)
        share = np.where(kept > 0, own / np.where(kept > 0, kept, 1.0), 0.0)
        W[:, cols] = share * np.where(have.any(axis=1, keepdims=True), dim_w, 0.0)
    return W / W.sum(axis=1, keepdims=True)


def ivti_contributions(result: pd.DataFrame) -> pd.DataFrame:
    """Long table of per-indicator contributions with their rank within each territory."""
    cols = [c for c in result.columns if c.startswith("contribution_")]
    long = result[[TERRITORY_ID, *cols]].melt(TERRITORY_ID, var_name="indicator",
                                               value_name="contribution")
    long["indicator"] = long["indicator"].str.removeprefix("contribution_")
    long = long.sort_values([TERRITORY_ID, "contribution", "indicator"],
                            ascending=[True, False, True], kind="stable")
    long["rank"] = long.groupby(TERRITORY_ID).cumcount() + 1
    return long.reset_index(drop=True)


def agreement_finding(rho: float, lang: str | None = None, synthetic: bool = False) -> str:
    """One sentence reading the rank correlation between the model and the IVTI.

    Why a sentence and not only the number: the agreement is a finding (the sample's
    administrative records are generated from the territories' conditions, not from child
    labour), so the chapter must say what its size means, whatever that size is.
    """
    from clrisk.i18n import _

    if rho >= 0.8:
        text = _("This is a strong agreement: the conditions the administrative records measure "
                 "are largely the ones that drive the model's ranking. The two routes still "
                 "disagree on some territories; those are the ones to look at with local "
                 "knowledge.", lang)
    elif rho >= 0.5:
        text = _("This is a moderate agreement: the two routes see the same broad pattern but "
                 "rank many territories differently, so a territory's level depends on the "
                 "route. Where they disagree, look at which indicators and which covariates "
                 "drive each ranking.", lang)
    else:
        text = _("This is a weak agreement: the administrative records and the survey–census "
                 "projection see different things. Do not use one route as a proxy for the "
                 "other; check the indicators' quality and coverage first.", lang)
    if synthetic:
        text = _("In the sample data the administrative records are generated from the "
                 "territories' conditions (deprivation, rurality, older census aggregates with "
                 "measurement error), never from child labour or the true probabilities, so "
                 "this agreement is a finding, not a construction.", lang) + " " + text
    return text
