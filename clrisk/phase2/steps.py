"""One call per Phase II step, reading the team's worksheets from ``<country folder>/phase2/``.

Why: the chapters must stay thin (narrative + calls) and a team that replaces the worksheets
reruns exactly the same calls. Each function reads and validates its worksheets, calls the pure
functions of the step modules and returns a small result object. The territory chosen in step 1
(first rank) carries into steps 2–5, so changing the weights changes every later chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.phase2 import characterisation as ch
from clrisk.phase2 import intervention as iv
from clrisk.phase2 import liaison as li
from clrisk.phase2 import selection as se
from clrisk.phase2 import services as sv
from clrisk.phase2 import worksheets as ws
from clrisk.phase2.inputs import RiskInputs


@dataclass
class Country:
    """A loaded country ready for Phase II: Phase I results + the worksheet folder."""

    key: str
    data: Any  # CountryData (None for hand-built inputs)
    inputs: RiskInputs
    folder: Path

    @property
    def synthetic(self) -> bool:
        return self.inputs.synthetic


def load(country: str = "peru", data_dir: str | Path | None = None, *,
         draws: int | None = None, seed: int | None = None, cache: bool = True) -> Country:
    """Load a sample (``country``) or a team's folder (``data_dir``) and run Phase I.

    Why a cache: the five chapters each need the same Phase I results; with ``cache`` they are
    computed once and kept in the user's clrisk cache (:mod:`clrisk.cache`), keyed by the data
    files, the Phase I code, the draws/seed and the language — any change recomputes.
    """
    from clrisk.cache import cache_path, cached
    from clrisk.data import load_country
    from clrisk.i18n import get_language
    from clrisk.phase2.inputs import from_country

    data = load_country(data_dir if data_dir is not None else country)
    # labels (risk levels, factor names) are translated when computed: the language is a key
    path = cache_path(data.root, "phase2", draws, seed, get_language()) if cache else None
    inputs = cached(path, lambda: from_country(data, draws=draws, seed=seed))
    return Country(str(getattr(data, "key", country)), data, inputs,
                   ws.worksheet_dir(data.root))


@dataclass
class Selection:
    criteria: pd.DataFrame
    weights: dict[str, float]
    scored: pd.DataFrame
    sensitivity: pd.DataFrame
    top: pd.DataFrame

    @property
    def chosen(self) -> str:
        return str(self.scored["territory_id"].iloc[0])

    @property
    def chosen_name(self) -> str:
        return str(self.scored["name"].iloc[0])

    @property
    def risk_weight(self) -> float:
        return se.current_risk_weight(self.weights)


def selection(country: Country) -> Selection:
    """Step 1: read ``selection_criteria.csv`` and ``selection_weights.yaml``, score, vary."""
    crit = se.read_criteria(country.folder / ws.SELECTION_CRITERIA, country.inputs.territory_ids)
    ratings = [c for c in crit.columns if c not in ("territory_id", "notes")]
    wpath = country.folder / ws.SELECTION_WEIGHTS
    weights = se.read_weights(wpath, ratings)
    scored = se.score_candidates(country.inputs.risk, crit, weights, weights_file=wpath)
    grid = sorted({*np.round(np.linspace(0, 1, 21), 4).tolist(),
                   round(se.current_risk_weight(weights), 4)})
    sens = se.weight_sensitivity(country.inputs.risk, crit, weights, grid)
    return Selection(crit, weights, scored, sens, se.top_choices(sens))


@dataclass
class Liaison:
    stakeholders: pd.DataFrame
    gaps: pd.DataFrame
    priority_sectors: list[str]


def liaison(country: Country, territory_id: str, n_factors: int = 3) -> Liaison:
    """Step 2: read ``stakeholders.csv``; check it against the territory's top-factor sectors."""
    st = li.read_stakeholders(country.folder / ws.STAKEHOLDERS)
    top = ch.top_factors(country.inputs.factors, territory_id, n_factors)
    sectors = list(dict.fromkeys(top["sector"].dropna()))
    return Liaison(st, li.liaison_gaps(st, sectors), sectors)


@dataclass
class Characterisation:
    facts: dict[str, Any]
    comparison: pd.DataFrame
    factors: pd.DataFrame
    definitions: dict[str, Any]
    micro_areas: str | None
    markdown: str
    who_is_at_risk: pd.DataFrame | None = None  # markers of the region (never ranked)

    @property
    def risk_factors(self) -> pd.DataFrame:
        """Top factors whose reference lowers risk (e.g. poverty)."""
        return ch.split_by_role(self.factors)[0]

    @property
    def protective_factors(self) -> pd.DataFrame:
        """Top factors whose full coverage lowers risk (e.g. health insurance)."""
        return ch.split_by_role(self.factors)[1]


def characterisation(country: Country, territory_id: str, n_factors: int = 5
                     ) -> Characterisation:
    """Step 3: profile of the territory + ``local_definitions.yaml``."""
    inp = country.inputs
    facts = ch.territory_facts(inp.risk, territory_id)
    comp = ch.comparison(inp.risk, territory_id)
    top = ch.top_factors(inp.factors, territory_id, n_factors)
    defs = ch.read_definitions(country.folder / ws.LOCAL_DEFINITIONS)
    micro = ch.micro_area_column(inp.census_columns)
    markers = getattr(inp, "markers", None)
    md = ch.profile_markdown(facts, comp, top, defs, micro, synthetic=inp.synthetic,
                             markers=markers)
    return Characterisation(facts, comp, top, defs, micro, md,
                            ch.who_is_at_risk(markers, str(facts.get("region_id", ""))))


@dataclass
class ServiceMap:
    services: pd.DataFrame
    coverage: pd.DataFrame
    gaps: pd.DataFrame
    unlinked: pd.DataFrame
    by_territory: pd.DataFrame
    match: str


def service_map(country: Country, territory_id: str, top: int = 3) -> ServiceMap:
    """Step 4: ``services.csv`` of the country against the territory's ranked factors."""
    inp = country.inputs
    match = "factor" if inp.source == "risk_model" else "sector"
    raw = inp.services if inp.services is not None else pd.DataFrame(
        columns=["territory_id", "service", "sector", "institution", "capacity", "factors"])
    known = set(inp.factor_names)
    from clrisk.schema import COVARIATES

    known |= set(COVARIATES)
    path = _services_path(country)
    svc = sv.validate_services(raw, known, inp.territory_ids, path)
    expected = inp.risk.loc[inp.risk["territory_id"] == str(territory_id),
                            "expected_children"].astype(float)
    cov = sv.factor_coverage(svc, inp.factors, territory_id, match=match,
                             expected=float(expected.iloc[0]) if len(expected) else None)
    return ServiceMap(svc, cov, sv.coverage_gaps(cov),
                      sv.unlinked_services(svc, inp.factors, territory_id) if match == "factor"
                      else svc.iloc[0:0][["service", "sector", "institution", "capacity"]],
                      sv.coverage_by_territory(svc, inp.factors, top, match=match), match)


def _services_path(country: Country) -> Path | str:
    prof = getattr(country.data, "profile", None)
    try:
        return prof.file("services") or "services.csv"  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 — only used to name the file in messages
        return "services.csv"


def baselines(country: Country, territory_id: str) -> dict[str, float]:
    """Model baselines for ``auto`` monitoring rows: '' -> expected children in child labour
    (IVTI: the index), factor -> children attributable (IVTI: the indicator's value)."""
    inp = country.inputs
    tid = str(territory_id)
    row = inp.risk[inp.risk["territory_id"] == tid].iloc[0]
    fac = inp.factors[inp.factors["territory_id"] == tid]
    if inp.source == "risk_model":
        # factors without a positive weight here have no attributable children: baseline 0
        out = {f: 0.0 for f in inp.factor_names}
        out[""] = float(row["expected_children"])
        out.update({f: float(c) for f, c in zip(fac["factor"], fac["children"], strict=True)})
        return out
    out = {"": float(row["risk_score"])}
    admin = getattr(country.data, "admin_records", None)
    if admin is not None:
        rec = admin[admin["territory_id"].astype(str) == tid]
        if not rec.empty:
            for col in rec.columns:
                if col != "territory_id":
                    val = pd.to_numeric(rec[col], errors="coerce").iloc[0]
                    if np.isfinite(val):
                        out[col] = float(val)
    return out


def intervention(country: Country, territory_id: str, smap: ServiceMap | None = None
                 ) -> iv.InterventionPlan:
    """Step 5: ``action_lines.csv`` + ``monitoring.csv`` against demand and supply."""
    inp = country.inputs
    smap = smap or service_map(country, territory_id)
    known = inp.factor_names
    actions = iv.read_action_lines(country.folder / ws.ACTION_LINES, known)
    mon = iv.read_monitoring(country.folder / ws.MONITORING, known)
    facts = ch.territory_facts(inp.risk, territory_id)
    fac = inp.factors[inp.factors["territory_id"] == str(territory_id)]
    need = (dict(zip(fac["factor"], fac["children_moved"], strict=True))
            if "children_moved" in fac.columns else None)
    roles = dict(zip(fac["factor"], fac["role"], strict=True)) if "role" in fac.columns else None
    return iv.design_intervention(actions, smap.coverage, mon, facts,
                                  baselines(country, territory_id), need, roles)
