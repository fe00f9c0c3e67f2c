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
    fac = factors[factors["territory_id"].astype(str) == tid].sort_values("rank")
    svc = services[services["territory_id"].astype(str) == tid]
    rows = []
    for f in fac.itertuples(index=False):
        if match == "sector":
            hit = svc.loc[(svc["sector"] == f.sector).astype(bool)]
        else:
            hit = svc.loc[svc["factors"].map(lambda t, name=f.factor: name in t).astype(bool)]
        capacity = float(hit["capacity"].sum())
        children = float(f.children) if pd.notna(f.children) else np.nan
        coverage = capacity / children if np.isfinite(children) and children > 0 else np.nan
        if hit.empty:
            status = "no_service"
        elif not np.isfinite(children):
            status = "no_estimate"
        else:
            status = "covered" if capacity >= children else "insufficient"
        rows.append({"rank": int(f.rank), "factor": f.factor, "label": f.label,
                     "sector": f.sector, "share": float(f.share), "children": children,
                     "n_services": len(hit), "services": "; ".join(sorted(hit["service"])),
                     "capacity": capacity, "coverage": coverage,
                     "coverage_expected": capacity / expected
                     if expected is not None and np.isfinite(expected) and expected > 0 else np.nan,
                     "unmet": max(children - capacity, 0.0) if np.isfinite(children) else np.nan,
                     "status": status})
    return pd.DataFrame(rows, columns=["rank", "factor", "label", "sector", "share", "children",
                                       "n_services", "services", "capacity", "coverage",
                                       "coverage_expected", "unmet", "status"])


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
    rows = []
    for tid in sorted(factors["territory_id"].astype(str).unique()):
        cov = factor_coverage(services, factors, tid, match=match)
        cov = cov[cov["rank"] <= top]
        children = cov["children"]
        reach = np.minimum(cov["capacity"], children)
        total = children.sum(min_count=1)
        rows.append({"territory_id": tid, "factors_without_service":
                     int((cov["status"] == "no_service").sum()),
                     "covered_share": float(reach.sum() / total) if total and total > 0
                     else np.nan,
                     "unmet": float(cov["unmet"].sum(min_count=1))
                     if cov["unmet"].notna().any() else np.nan})
    return pd.DataFrame(rows)


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
