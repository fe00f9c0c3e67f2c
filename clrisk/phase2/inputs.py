"""The Phase I results that Phase II consumes, in one shape whatever the instrument.

Why an adapter: Phase II works the same way whether a country has the survey–census risk model
(probability, CI, expected children, P(top level), factor weights in children) or only the
administrative-record IVTI (an index, its level, indicator contributions). Everything downstream
reads two tables with fixed columns:

* ``risk`` — one row per territory: ``territory_id, name, region_id, region_name, children,
  risk_score,
  ci_low, ci_high, expected_children, risk_level, risk_label, p_top``; ``attrs['source']`` is
  ``'risk_model'`` or ``'ivti'`` and ``attrs['k']`` the number of levels. With the IVTI,
  ``risk_score`` is the index and the probability-only columns are NaN.
* ``factors`` — one row per territory × factor with positive weight: ``territory_id, factor,
  label, sector, delta_pp, children, share, rank`` (IVTI: indicator contributions, no children).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RISK_COLUMNS = ("territory_id", "name", "region_id", "region_name", "children", "risk_score", "ci_low",
                "ci_high", "expected_children", "risk_level", "risk_label", "p_top")
FACTOR_COLUMNS = ("territory_id", "factor", "label", "sector", "delta_pp", "children", "share",
                  "rank")
# IVTI dimensions -> the sector that acts on them (demography has none).
DIMENSION_SECTORS = {"education": "education", "poverty": "social_protection",
                     "social_protection": "social_protection", "labour": "labour",
                     "labour_market": "labour", "health": "health"}


@dataclass
class RiskInputs:
    """Phase II inputs of one country."""

    source: str
    risk: pd.DataFrame
    factors: pd.DataFrame
    geo: Any  # GeoDataFrame of territories
    services: pd.DataFrame | None
    synthetic: bool = True
    census_columns: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        return int(self.risk.attrs.get("k", 3))

    @property
    def territory_ids(self) -> list[str]:
        return self.risk["territory_id"].astype(str).tolist()

    @property
    def factor_names(self) -> list[str]:
        return sorted(self.factors["factor"].unique())


def finish_risk(frame: pd.DataFrame, source: str, k: int) -> pd.DataFrame:
    """Complete and order the risk table (missing optional columns as NaN)."""
    out = frame.copy()
    for col in RISK_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["territory_id"] = out["territory_id"].astype(str)
    out["region_id"] = out["region_id"].astype(str)
    out["region_name"] = out["region_name"].where(out["region_name"].notna(), out["region_id"])
    out = out[list(RISK_COLUMNS)].sort_values("territory_id").reset_index(drop=True)
    out.attrs.update({"source": source, "k": int(k)})
    return out


def finish_factors(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep positive-weight factors, recompute shares and ranks per territory, order columns."""
    out = frame.copy()
    for col in FACTOR_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["territory_id"] = out["territory_id"].astype(str)
    out = out[out["delta_pp"] > 0].copy()
    total = out.groupby("territory_id")["delta_pp"].transform("sum")
    out["share"] = out["delta_pp"] / total
    out["rank"] = (out.groupby("territory_id")["delta_pp"]
                   .rank(ascending=False, method="first").astype(int))
    return (out[list(FACTOR_COLUMNS)].sort_values(["territory_id", "rank"])
            .reset_index(drop=True))


def from_country(data: Any, *, draws: int = 100, seed: int = 2019) -> RiskInputs:
    """Run the Phase I pieces Phase II needs on a loaded country (``clrisk.load_country``).

    With the risk model: fit on the survey, score the census, classify (with P(top level) from
    ``draws`` coefficient draws) and compute instrument 2. Without it: the IVTI.
    """
    prof = data.profile
    if prof.has_risk_model and data.survey is not None and (
            data.census is not None or data.census_path is not None):
        return _from_model(data, draws=draws, seed=seed)
    return _from_ivti(data)


def _territory_info(data: Any) -> pd.DataFrame:
    geo = data.territories
    info = pd.DataFrame({"territory_id": geo["territory_id"].astype(str),
                         "name": geo["name"].astype(str),
                         "region_id": geo["region_id"].astype(str)})
    info["region_name"] = (geo["region_name"].astype(str).to_numpy() if "region_name" in geo
                           else info["region_id"])
    return info


def _labels(prof: Any, names: list[str]) -> dict[str, str]:
    from clrisk.i18n import get_language

    lang = get_language()
    out = {}
    for n in names:
        try:
            out[n] = prof.label(n, lang)
        except Exception:  # noqa: BLE001 — a label is cosmetic; fall back to the code
            out[n] = n
    return out


def _from_model(data: Any, *, draws: int, seed: int) -> RiskInputs:
    from clrisk.phase1.classify import classify_risk
    from clrisk.phase1.factors import factor_weights
    from clrisk.phase1.model import fit_risk_model
    from clrisk.phase1.scoring import score_territories

    prof = data.profile
    design = prof.design or {}
    model = fit_risk_model(data.survey, prof.covariates, outcome=prof.outcome,
                           weight=design.get("weight", "weight"),
                           strata=design.get("stratum", "stratum"),
                           psu=design.get("psu", "psu"))
    census = data.census if data.census is not None else data.census_path
    cweight = "weight" if (isinstance(census, pd.DataFrame) and "weight" in census.columns) \
        else None
    scores = score_territories(model, census, weight=cweight)
    levels = prof.risk_levels or {}
    k = int(levels.get("k", 3))
    classified = classify_risk(scores, method=levels.get("method", "quantiles"), k=k,
                               cutoffs=levels.get("cutoffs"), model=model, census=census,
                               weight=cweight, draws=draws, seed=seed)
    risk = _territory_info(data).merge(
        classified.rename(columns={"mean_probability": "risk_score"}), on="territory_id",
        how="inner")
    fw = factor_weights(model, census, prof.factors, sectors=prof.factor_sectors,
                        weight=cweight)
    labels = _labels(prof, sorted(fw["factor"].unique()))
    fw["label"] = fw["factor"].map(labels)
    ccols = (tuple(census.columns) if isinstance(census, pd.DataFrame)
             else _parquet_columns(census))
    return RiskInputs("risk_model", finish_risk(risk, "risk_model", k), finish_factors(fw),
                      data.territories, data.services, bool(prof.synthetic), ccols)


def _parquet_columns(path: Any) -> tuple[str, ...]:
    try:
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 — only used to look for micro-area identifiers
        return ()


def _from_ivti(data: Any) -> RiskInputs:
    from clrisk.ivti import ivti_contributions, vulnerability_index

    prof = data.profile
    spec = prof.ivti or {}
    levels = prof.risk_levels or {}
    k = int(levels.get("k", 3))
    method = levels.get("method", "quantiles")
    table = vulnerability_index(data.admin_records, prof.ivti_indicator_specs,
                                dimension_weights=spec.get("dimension_weights"), k=k,
                                classify_method=method if method != "fixed" else "quantiles")
    risk = _territory_info(data).merge(table.rename(columns={"ivti": "risk_score"}),
                                       on="territory_id", how="inner")
    children = _children_column(data.admin_records)
    if children is not None:
        risk["children"] = risk["territory_id"].map(children)
    contrib = ivti_contributions(table)
    factors = _ivti_factors(contrib, prof)
    return RiskInputs("ivti", finish_risk(risk, "ivti", k), finish_factors(factors),
                      data.territories, data.services, bool(prof.synthetic), ())


def _children_column(admin: pd.DataFrame) -> pd.Series | None:
    """Child population per territory if the administrative records carry it."""
    for col in ("children", "child_population", "population_5_17"):
        if col in admin.columns:
            return pd.Series(pd.to_numeric(admin[col], errors="coerce").to_numpy(),
                             index=admin["territory_id"].astype(str))
    return None


def _ivti_factors(contrib: pd.DataFrame, prof: Any) -> pd.DataFrame:
    """IVTI indicator contributions as a factor table (delta_pp := contribution)."""
    dims = prof.ivti_dimensions
    long = contrib.rename(columns={"indicator": "factor", "contribution": "delta_pp"})
    long["sector"] = long["factor"].map(lambda f: DIMENSION_SECTORS.get(dims.get(f, ""), None))
    long = long[long["sector"].notna()]
    long["label"] = long["factor"].map(_labels(prof, sorted(long["factor"].unique())))
    long["children"] = np.nan
    return long
