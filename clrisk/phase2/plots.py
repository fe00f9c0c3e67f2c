"""Figures of the Phase II steps. They draw results; they never recompute them.

Why a local choropleth: the Phase II maps only need a territory layer coloured by one column
with a few territories highlighted; keeping it here avoids depending on the signature of the
Phase I map module. Every label goes through ``clrisk.i18n``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from clrisk.i18n import _, format_number
from clrisk.phase2.characterisation import split_by_role
from clrisk.phase2.liaison import sector_label
from clrisk.phase2.selection import criterion_label
from clrisk.plots import set_alt

SYNTHETIC_NOTE = "Sample data: synthetic, for demonstration only."


def _note(fig: Any, synthetic: bool) -> None:
    if synthetic:
        fig.text(0.99, 0.005, _(SYNTHETIC_NOTE), ha="right", va="bottom", fontsize=7,
                 color="0.4", style="italic")


def choropleth(geo: Any, values: pd.DataFrame, column: str, *, ax: Any = None,
               title: str = "", legend: str = "", cmap: str = "viridis",
               highlight: Iterable[str] = (), missing_label: str | None = None) -> Any:
    """Territories coloured by ``values[column]`` (joined on territory_id); others grey.

    ``highlight`` territories get a thick red outline (e.g. the chosen territory).
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(6, 6))
    gdf = geo[["territory_id", "geometry"]].copy()
    gdf["territory_id"] = gdf["territory_id"].astype(str)
    vals = values[["territory_id", column]].copy()
    vals["territory_id"] = vals["territory_id"].astype(str)
    gdf = gdf.merge(vals, on="territory_id", how="left")
    missing = gdf[column].isna()
    if missing.any():
        gdf[missing].plot(ax=ax, color="0.88", edgecolor="white", linewidth=0.2)
    if (~missing).any():
        gdf[~missing].plot(ax=ax, column=column, cmap=cmap, edgecolor="white", linewidth=0.2,
                           legend=True, legend_kwds={"label": legend, "shrink": 0.6})
    hl = gdf[gdf["territory_id"].isin({str(h) for h in highlight})]
    if not hl.empty:
        hl.boundary.plot(ax=ax, color="red", linewidth=1.6)
    if missing.any() and missing_label:
        ax.text(0.01, 0.01, f"■ {missing_label}", color="0.6", transform=ax.transAxes,
                fontsize=8)
    ax.set_title(title)
    ax.set_axis_off()
    return ax


# --- step 1: selection ------------------------------------------------------------------------

def plot_selection_scores(scored: pd.DataFrame, synthetic: bool = True) -> Any:
    """Horizontal stacked bars: each candidate's score split into criterion contributions."""
    contrib = [c for c in scored.columns if c.startswith("w_") and scored[c].abs().sum() > 0]
    data = scored.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(scored) + 1.6))
    left = np.zeros(len(data))
    colors = plt.get_cmap("tab10")
    for i, col in enumerate(contrib):
        ax.barh(data["name"].astype(str), data[col], left=left, color=colors(i),
                label=criterion_label(col[2:]))
        left += data[col].to_numpy()
    ax.set_xlabel(_("Selection score (0–1)"))
    ax.set_xlim(0, max(1.0, float(left.max()) * 1.05))
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(_("Candidate territories: score by criterion"))
    first = scored.iloc[0]
    set_alt(fig, _("Stacked bar chart of the selection score of each of {n} candidate territories, "
                   "split by criterion. First: {name} ({score}).").format(
        n=len(scored), name=first["name"], score=format_number(float(first["score"]), 3)))
    fig.tight_layout()
    _note(fig, synthetic)
    return fig


def plot_rank_sensitivity(sensitivity: pd.DataFrame, current: float,
                          synthetic: bool = True) -> Any:
    """Rank of each candidate (1 = chosen) as the total weight on model risk varies."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for tid, grp in sensitivity.groupby("territory_id", sort=True):
        grp = grp.sort_values("risk_weight")
        ax.plot(grp["risk_weight"], grp["rank"], marker="o", markersize=3,
                label=f"{grp['name'].iloc[0]} ({tid})")
    ax.axvline(current, color="0.3", linestyle="--", linewidth=1)
    ax.text(current, 0.02, " " + _("team's weights"), fontsize=8, ha="left",
            transform=ax.get_xaxis_transform())
    ax.invert_yaxis()
    n = int(sensitivity["rank"].max())
    ax.set_yticks(range(1, n + 1))
    ax.set_xlabel(_("Total weight on model risk (rest on the team's criteria)"))
    ax.set_ylabel(_("Rank (1 = selected)"))
    ax.set_title(_("How the ranking depends on the weight given to risk"))
    changes = sensitivity.sort_values("risk_weight").groupby("risk_weight")["rank"].apply(
        lambda r: r.tolist()).map(tuple).nunique()
    set_alt(fig, _("Line chart of the rank of each of {n} candidates as the total weight on model "
                   "risk goes from 0 to 1; a dashed line marks the team's weights ({w}). Number "
                   "of different orders the ranking takes: {k}.").format(
        n=sensitivity["territory_id"].nunique(), w=format_number(float(current), 2), k=changes))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    _note(fig, synthetic)
    return fig


def plot_score_map(geo: Any, scored: pd.DataFrame, synthetic: bool = True) -> Any:
    """Map of the selection score of the candidates (others grey), chosen one outlined."""
    fig, ax = plt.subplots(figsize=(7, 7))
    choropleth(geo, scored, "score", ax=ax, title=_("Selection score of candidate territories"),
               legend=_("Selection score (0–1)"), highlight=scored["territory_id"].head(1),
               missing_label=_("not a candidate"))
    set_alt(fig, _("Map of the selection score of {n} candidate territories, the first-ranked "
                   "({name}) outlined; the other territories are grey.").format(
        n=len(scored), name=scored["name"].iloc[0]))
    _note(fig, synthetic)
    return fig


# --- step 2: liaison --------------------------------------------------------------------------

def plot_stakeholder_types(counts: pd.DataFrame, synthetic: bool = True) -> Any:
    """Organisations per type; empty types in red (they are gaps)."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    colors = ["tab:red" if n == 0 else "tab:blue" for n in counts["n"]]
    ax.barh(counts["label"][::-1], counts["n"][::-1], color=colors[::-1])
    ax.set_xlabel(_("Number of organisations"))
    ax.set_title(_("Stakeholders by type (red: none)"))
    empty = [str(lbl) for lbl, n in zip(counts["label"], counts["n"], strict=True) if n == 0]
    set_alt(fig, _("Bar chart of the number of organisations of each type. Types without any "
                   "organisation: {empty}.").format(empty=", ".join(empty) or _("none")))
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    _note(fig, synthetic)
    return fig


# --- step 3: characterisation -----------------------------------------------------------------

def profile_panel(geo: Any, risk: pd.DataFrame, facts: Mapping[str, Any], comp: pd.DataFrame,
                  factors: pd.DataFrame, synthetic: bool = True) -> Any:
    """Four panels: location, territory vs region vs country, top factors, risk distribution."""
    model = facts.get("source", "risk_model") == "risk_model"
    scale = 100 if model else 1
    unit = _("Probability of child labour (%)") if model else _(
        "Child labour vulnerability index (IVTI)")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    location_map(geo, risk, str(facts["territory_id"]), model, axes[0, 0],
                 _("Location of {name}").format(name=facts["name"]), unit, scale)
    ax = axes[0, 1]
    vals = comp["risk_score"].to_numpy() * scale
    ax.bar(comp["label"].astype(str), vals, color=["tab:red", "tab:orange", "tab:gray"])
    if model and np.isfinite(comp["ci_low"].iloc[0]):
        ax.errorbar([0], [vals[0]], yerr=[[vals[0] - comp["ci_low"].iloc[0] * scale],
                                          [comp["ci_high"].iloc[0] * scale - vals[0]]],
                    color="black", capsize=5)
    ax.set_ylabel(unit)
    ax.set_title(_("Territory, region and country"))
    ax.tick_params(axis="x", labelsize=8)
    ax = axes[1, 0]
    # the panel is "main risk factors": a protective factor's gain from full coverage is not a
    # share of the risk, so protective factors are left out (they have their own table)
    top = split_by_role(factors)[0].sort_values("rank").head(6).iloc[::-1]
    ax.barh(top["label"].astype(str), 100 * top["share"], color="tab:purple")
    ax.set_xlabel(_("Share of the risk explained (%)"))
    ax.set_title(_("Main risk factors"))
    ax.tick_params(axis="y", labelsize=8)
    ax = axes[1, 1]
    ax.hist(risk["risk_score"].dropna() * scale, bins=30, color="0.7")
    ax.axvline(float(facts["risk_score"]) * scale, color="tab:red", linewidth=2,
               label=str(facts["name"]))
    ax.set_xlabel(unit)
    ax.set_ylabel(_("Number of territories"))
    ax.set_title(_("Position among all territories"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    _note(fig, synthetic)
    return fig


def location_map(geo: Any, risk: pd.DataFrame, territory_id: str, model: bool, ax: Any,
                 title: str, unit: str, scale: float) -> Any:
    """The Phase I map (``clrisk.maps.plot_territory_map``, same colours as the Phase I
    chapters) with the chosen territory outlined; a plain choropleth if that module is absent."""
    try:
        from clrisk.maps import plot_territory_map
    except ImportError:  # pragma: no cover - the Phase I map module is part of the package
        plot_territory_map = None
    if plot_territory_map is not None:
        gdf = geo[["territory_id", "geometry"]].assign(
            territory_id=geo["territory_id"].astype(str)).merge(
            risk[["territory_id", "risk_score"]], on="territory_id", how="left")
        plot_territory_map(gdf, "risk_score", "probability" if model else "ivti", ax=ax)
        gdf[gdf["territory_id"] == territory_id].boundary.plot(ax=ax, color="red", linewidth=1.6)
        ax.set_title(title)
        return ax
    return choropleth(geo, risk.assign(risk_score=risk["risk_score"] * scale), "risk_score",
                      ax=ax, cmap="OrRd", title=title, legend=unit, highlight=[territory_id])


# --- step 4: services -------------------------------------------------------------------------

def plot_coverage(coverage: pd.DataFrame, synthetic: bool = True) -> Any:
    """Per factor: children attributable vs capacity of the services addressing it."""
    data = coverage.sort_values("rank").iloc[::-1]
    y = np.arange(len(data))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(data) + 1.8))
    if data["children"].notna().any():
        # orange against blue, never red against green (colour-blind readers)
        ax.barh(y + 0.2, data["children"].fillna(0), height=0.4, color="tab:orange",
                label=_("Children attributable"))
        ax.barh(y - 0.2, data["capacity"], height=0.4, color="tab:blue",
                label=_("Capacity of services"))
        ax.set_xlabel(_("Children"))
    else:
        ax.barh(y, data["n_services"], color="tab:blue", label=_("Number of services"))
        ax.set_xlabel(_("Number of services"))
    for yi, status in zip(y, data["status"], strict=True):
        if status == "no_service":
            ax.text(0, yi, "  " + _("no service"), va="center", color="tab:red", fontsize=8)
    ax.set_yticks(y, [f"{r}. {lbl}" for r, lbl in zip(data["rank"], data["label"], strict=True)])
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8)
    ax.set_title(_("Services against the risk factors of the territory"))
    missing = [str(lbl) for lbl, st in zip(data["label"], data["status"], strict=True)
               if st == "no_service"]
    set_alt(fig, _("Bar chart comparing, for each of {n} risk factors of the territory, the "
                   "children attributable to it with the capacity of the services that address "
                   "it. Factors without any service: {missing}.").format(
        n=len(data), missing=", ".join(missing) or _("none")))
    fig.tight_layout()
    _note(fig, synthetic)
    return fig


def plot_coverage_map(geo: Any, by_territory: pd.DataFrame, chosen: str,
                      synthetic: bool = True) -> Any:
    """Map across territories: share of attributable children reachable by existing services
    (or, without child estimates, the number of top factors without any service).
    Colour-blind-safe ``cividis`` (dark blue = low coverage, yellow = high), never red-green."""
    fig, ax = plt.subplots(figsize=(7, 7))
    if by_territory["covered_share"].notna().any():
        choropleth(geo, by_territory, "covered_share", ax=ax, cmap="cividis",
                   title=_("Coverage of the top risk factors by existing services"),
                   legend=_("Share of attributable children reachable"), highlight=[chosen])
    else:
        choropleth(geo, by_territory, "factors_without_service", ax=ax, cmap="Reds",
                   title=_("Top risk factors without any service"),
                   legend=_("Number of factors"), highlight=[chosen])
    set_alt(fig, _("Map of the territories shaded by how well existing services cover their top "
                   "risk factors; the selected territory is outlined."))
    _note(fig, synthetic)
    return fig


# --- step 5: intervention ---------------------------------------------------------------------

def plot_costs(costed: pd.DataFrame, synthetic: bool = True) -> Any:
    """Cost of each action line, coloured by sector."""
    data = costed.iloc[::-1]
    sectors = list(dict.fromkeys(costed["sector"]))
    cmap = plt.get_cmap("Set2")
    colors = [cmap(sectors.index(s)) for s in data["sector"]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(data) + 1.6))
    ax.barh([f"{p}. {a}" for p, a in zip(data["priority"], data["action_line"], strict=True)],
            data["cost"], color=colors)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(len(sectors))]
    ax.legend(handles, [sector_label(s) for s in sectors], fontsize=8, loc="lower right")
    ax.set_xlabel(_("Cost (local currency)"))
    ax.set_title(_("Cost of the action lines (unit cost × beneficiaries)"))
    set_alt(fig, _("Bar chart of the cost of each of {n} action lines, coloured by sector; total "
                   "{total}.").format(n=len(costed),
                                      total=format_number(float(costed["cost"].sum()), 0)))
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    _note(fig, synthetic)
    return fig
