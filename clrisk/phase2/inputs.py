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
# Instrument 2 (issue 13) columns carried when present: direction, reference, interval,
# P(rank 1), ties and the children on the risk side (who an action must reach).
FACTOR_EXTRA = ("role", "reference", "ci_low_pp", "ci_high_pp", "p_rank1", "tie",
                "children_moved", "method")
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
    markers: pd.DataFrame | None = None  # who is at risk (markers.csv), risk model only

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
    if "kind" in out.columns:  # instrument 2: markers are never ranked or planned
        out = out[out["kind"] == "modifiable"]
    out = out[out["delta_pp"] > 0].copy()
    extra = [c for c in FACTOR_EXTRA if c in out.columns]
    if "tie" in out.columns:
        # additive Shapley weights: keep their shares of the joint effect and their ranks
        # (ties stay ties; the order within a tie follows the weight, never the name)
        out["rank"] = (out.groupby("territory_id")["rank"].rank(method="min").astype(int))
    else:
        total = out.groupby("territory_id")["delta_pp"].transform("sum")
        out["share"] = out["delta_pp"] / total
        out["rank"] = (out.groupby("territory_id")["delta_pp"]
                       .rank(ascending=False, method="first").astype(int))
    return (out[list(FACTOR_COLUMNS) + extra]
            .sort_values(["territory_id", "rank", "delta_pp"], ascending=[True, True, False])
            .reset_index(drop=True))


def from_country(data: Any, *, draws: int | None = None, seed: int | None = None
                 ) -> RiskInputs:
    """Run Phase I on a loaded country (``clrisk.load_country``) and adapt it for Phase II.

    Uses :func:`clrisk.pipeline.run_country` — the same call, draws and seed as the Phase I
    chapters and ``clrisk run``, so the numbers in Phase II match theirs. With the risk model:
    territory probabilities, levels, P(top level) and instrument 2; without it: the IVTI.
    """
    from clrisk.errors import data_error
    from clrisk.pipeline import DEFAULT_DRAWS, DEFAULT_SEED, run_country_cached

    result = run_country_cached(data, draws=draws or DEFAULT_DRAWS,
                                seed=DEFAULT_SEED if seed is None else seed)
    if result.territories is not None and result.factor_weights is not None:
        return _from_model(data, result)
    if result.ivti is not None:
        return _from_ivti(data, result.ivti)
    raise data_error(getattr(data.profile, "path", None), "neither the risk model nor the IVTI "
                     "could be computed", "give the country a survey and a census, or "
                     "administrative records with IVTI indicators (profile.yaml instruments)")


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


def _from_model(data: Any, result: Any) -> RiskInputs:
    prof = data.profile
    levels = prof.risk_levels or {}
    k = int(levels.get("k", result.territories["risk_level"].max()))
    risk = _territory_info(data).merge(
        result.territories.drop(columns=["name", "region_id"], errors="ignore")
        .rename(columns={"mean_probability": "risk_score"}), on="territory_id", how="inner")
    fw = result.factor_weights.copy()
    labels = _labels(prof, sorted(fw["factor"].unique()))
    fw["label"] = fw["factor"].map(labels)
    census = data.census if data.census is not None else data.census_path
    ccols = (tuple(census.columns) if isinstance(census, pd.DataFrame)
             else _parquet_columns(census))
    return RiskInputs("risk_model", finish_risk(risk, "risk_model", k), finish_factors(fw),
                      data.territories, data.services, bool(prof.synthetic), ccols,
                      _marker_table(getattr(result, "markers", None), prof))


def _marker_table(markers: pd.DataFrame | None, prof: Any) -> pd.DataFrame | None:
    """markers.csv with translated marker labels (``label``), or None."""
    if markers is None:
        return None
    out = markers.copy()
    out["label"] = out["marker"].map(_labels(prof, sorted(out["marker"].unique())))
    return out


def _parquet_columns(path: Any) -> tuple[str, ...]:
    try:
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 — only used to look for micro-area identifiers
        return ()


def _from_ivti(data: Any, table: pd.DataFrame) -> RiskInputs:
    from clrisk.ivti import ivti_contributions

    prof = data.profile
    k = int((prof.risk_levels or {}).get("k", table["risk_level"].max()))
    risk = _territory_info(data).merge(table.rename(columns={"ivti": "risk_score"}),
                                       on="territory_id", how="inner")
    children = _children_column(data.admin_records)
    if children is not None:
        risk["children"] = risk["territory_id"].map(children)
    factors = _ivti_factors(ivti_contributions(table), prof)
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
