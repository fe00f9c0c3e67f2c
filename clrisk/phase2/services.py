"""Step 4 — mapping services and competences against the territory's ranked risk factors.

Why match on factors: instrument 2 says how many of the territory's expected children in child
labour are attributable to each factor (the reduction if the factor were at its reference value).
A service "addresses" a factor when ``services.csv`` lists it; its capacity (children per year)
against the children attributable to that factor is the coverage ratio. A factor with a large
weight and no service is the gap the intervention must fill — in the Mexican pilot this inventory
came from documentary research, transparency requests and the inter-secretarial commission (CITI).

Capacities are counted once per factor a service addresses: a school-meal programme listed for
``school_attendance;poverty`` counts for both, so capacities summed across factors double count;
totals over unique services are reported separately.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase2 import worksheets as ws
from clrisk.schema import SECTORS, SERVICES_REQUIRED

STATUS = ("no_service", "insufficient", "covered")


def status_label(code: str) -> str:
    labels = {"no_service": _("no service"), "insufficient": _("insufficient"),
              "covered": _("covered"), "no_estimate": _("service, no estimate")}
    return labels.get(code, code)


def validate_services(services: pd.DataFrame, factors: Iterable[str],
                      territory_ids: Iterable[str] | None = None,
                      path: str | Path | None = "services.csv") -> pd.DataFrame:
    """Check ``services.csv`` (columns, sectors, capacities, factor names, territories).

    Returns a copy with ``capacity`` as float and ``factors`` as sorted tuples.
    """
    missing = [c for c in SERVICES_REQUIRED if c not in services.columns]
    if missing:
        raise data_error(path, f"missing column(s) {', '.join(missing)}",
                         f"add the column(s) {', '.join(missing)}", column=missing[0])
    df = services.reset_index(drop=True).copy()
    text = df.astype({c: str for c in SERVICES_REQUIRED})
    df["territory_id"] = text["territory_id"].str.strip()
    if territory_ids is not None:
        known = set(map(str, territory_ids))
        bad = ~df["territory_id"].isin(known)
        if bad.any():
            raise data_error(path, "unknown territory id(s) "
                             + ", ".join(repr(v) for v in df.loc[bad, "territory_id"].head(3)),
                             "use territory_id codes of the territories file (text, with leading "
                             "zeros)", column="territory_id", rows=ws.rows_where(bad))
    df["sector"] = ws.choice_column(text, "sector", path, SECTORS)
    df["capacity"] = ws.numeric_column(text, "capacity", path, minimum=0,
                                       fix="write the number of children the service can reach "
                                           "per year (0 if unknown)")
    raw = services["factors"].reset_index(drop=True).map(
        lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple | set)
        else "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    df["factors"] = ws.list_column(pd.DataFrame({"factors": raw}), "factors", path,
                                   sorted(set(factors)), what="factor")
    return df


def factor_coverage(services: pd.DataFrame, factors: pd.DataFrame, territory_id: str,
                    *, match: str = "factor", expected: float | None = None) -> pd.DataFrame:
    """Coverage of each ranked factor of one territory by the services present there.

    ``factors``: instrument-2 table (``territory_id, factor, label, sector, rank, share,
    children``), ``children`` = children in child labour attributable to the factor (NaN when the
    country uses the IVTI). ``match='sector'`` matches services by sector instead of factor name
    (used with IVTI indicators, which are not covariates).

    Columns: ``rank, factor, label, sector, share, children, n_services, services, capacity,
    coverage, coverage_expected, unmet, status``; ``coverage`` = capacity / children,
    ``coverage_expected`` = capacity / ``expected`` (all the territory's expected children in
    child labour, when given), ``unmet`` = max(children − capacity, 0).
    """
    tid = str(territory_id)
    fac = factors[factors["territory_id"].astype(str) == tid]
    svc = services[services["territory_id"].astype(str) == tid]
    out = coverage_all(svc, fac, match=match).drop(columns="territory_id")
    exp = float(expected) if expected is not None else np.nan
    out["coverage_expected"] = out["capacity"] / exp if np.isfinite(exp) and exp > 0 else np.nan
    return out[["rank", "factor", "label", "sector", "share", "children", "n_services",
                "services", "capacity", "coverage", "coverage_expected", "unmet", "status"]]


def coverage_all(services: pd.DataFrame, factors: pd.DataFrame, *, match: str = "factor"
                 ) -> pd.DataFrame:
    """Vectorised coverage of every territory × factor (see :func:`factor_coverage`).

    Why vectorised: the map of coverage gaps needs all territories at once; a join of the
    services (exploded by the factors they list, or by sector) onto the factor table costs
    milliseconds where a loop over territories costs seconds.
    """
    fac = factors.copy()
    fac["territory_id"] = fac["territory_id"].astype(str)
    svc = services.copy()
    svc["territory_id"] = svc["territory_id"].astype(str)
    key = "sector"
    if match != "sector":
        svc = svc.assign(factor=svc["factors"].map(list)).explode("factor")
        svc = svc[svc["factor"].notna()]
        key = "factor"
    agg = (svc.groupby(["territory_id", key], sort=True)
           .agg(n_services=("service", "size"), capacity=("capacity", "sum"),
                services=("service", lambda v: "; ".join(sorted(v))))
           .reset_index())
    out = fac.merge(agg, on=["territory_id", key], how="left")
    out["n_services"] = out["n_services"].fillna(0).astype(int)
    out["capacity"] = out["capacity"].fillna(0.0).astype(float)
    out["services"] = out["services"].fillna("")
    children = out["children"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(children > 0, out["capacity"] / children, np.nan)
    out["unmet"] = (children - out["capacity"]).clip(lower=0.0)
    out["status"] = np.select(
        [out["n_services"] == 0, children.isna(), out["capacity"] >= children],
        ["no_service", "no_estimate", "covered"], default="insufficient")
    out["rank"] = out["rank"].astype(int)
    out["share"] = out["share"].astype(float)
    out["children"] = children
    return out.sort_values(["territory_id", "rank"]).reset_index(drop=True)


def coverage_gaps(coverage: pd.DataFrame) -> pd.DataFrame:
    """Factors without service or with capacity below the attributable children."""
    return coverage[coverage["status"].isin(["no_service", "insufficient"])].reset_index(drop=True)


def unlinked_services(services: pd.DataFrame, factors: pd.DataFrame,
                      territory_id: str) -> pd.DataFrame:
    """Services in the territory addressing none of its positive-weight factors.

    Why: they are not useless — they may serve the target group in other ways — but the team
    should decide whether to refocus them, as the Mexican pilot refocused existing resources.
    """
    tid = str(territory_id)
    active = set(factors.loc[factors["territory_id"].astype(str) == tid, "factor"])
    svc = services[services["territory_id"].astype(str) == tid]
    mask = svc["factors"].map(lambda t: not (set(t) & active)).astype(bool)
    return svc.loc[mask, ["service", "sector", "institution", "capacity"]].reset_index(drop=True)


def coverage_by_territory(services: pd.DataFrame, factors: pd.DataFrame, top: int = 3,
                          *, match: str = "factor") -> pd.DataFrame:
    """For every territory: how many of its ``top`` factors have no service, and the share of
    the children attributable to them that existing capacity could reach.

    ``covered_share`` = Σ_f min(capacity_f, children_f) / Σ_f children_f over the top factors
    (NaN without child estimates, e.g. IVTI). Used for the map of coverage gaps.
    """
    cov = coverage_all(services, factors, match=match)
    cov = cov[cov["rank"] <= top].copy()
    cov["reach"] = np.minimum(cov["capacity"], cov["children"])
    cov["no_service"] = cov["status"] == "no_service"
    g = cov.groupby("territory_id", sort=True)
    out = pd.DataFrame({
        "factors_without_service": g["no_service"].sum().astype(int),
        "reach": g["reach"].sum(min_count=1),
        "children": g["children"].sum(min_count=1),
        "unmet": g["unmet"].sum(min_count=1),
    }).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["covered_share"] = np.where(out["children"] > 0, out["reach"] / out["children"],
                                        np.nan)
    return out[["territory_id", "factors_without_service", "covered_share", "unmet"]]


def coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Translated display table of :func:`factor_coverage`."""
    from clrisk.phase2.liaison import sector_label

    return pd.DataFrame({
        _("Rank"): coverage["rank"],
        _("Factor"): coverage["label"],
        _("Sector"): coverage["sector"].map(sector_label),
        _("Share of risk (%)"): (100 * coverage["share"]).round(1),
        _("Children attributable"): coverage["children"].round(0),
        _("Services"): coverage["services"],
        _("Capacity (children)"): coverage["capacity"].round(0),
        _("Coverage ratio"): coverage["coverage"].round(2),
        _("Capacity / all expected children"): coverage["coverage_expected"].round(2),
        _("Status"): coverage["status"].map(status_label),
    })
