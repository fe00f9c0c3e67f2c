"""Tables and figures of instrument 2 for the chapters (p1_07) and reports.

Why here and not in the notebook: the chapter must stay thin; these turn the output contract
(``factor_weights.csv``, ``national_factors.csv``, ``markers.csv``) into translated display
tables and an interval chart, so the book, the command line and a team's own scripts show the
same words: "risk factor" vs "protective factor (gain from full coverage)", the reference value
of every factor, ties as ties, markers only under "who is at risk".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clrisk.i18n import _, format_number


def role_name(role: str) -> str:
    """Translated direction of a factor."""
    return _("protective factor") if role == "protective" else _("risk factor")


def reference_text(factor: str, role: str, reference: float, profile: Any, lang: str) -> str:
    """The counterfactual in words, e.g. "raised to 11 (children below it)"."""
    ref = format_number(float(reference), 0 if float(reference).is_integer() else 1, lang)
    if role == "protective":
        return _("raised to {ref} for the children below it").format(ref=ref)
    return _("lowered to {ref} for the children above it").format(ref=ref)


def reference_table(national: pd.DataFrame, profile: Any, lang: str) -> pd.DataFrame:
    """One row per modifiable factor: direction, reference and who moves (national)."""
    from clrisk.pipeline import sector_name

    return pd.DataFrame({
        _("Factor"): [profile.label(f, lang) for f in national["factor"]],
        _("Kind"): [role_name(r) for r in national["role"]],
        _("Protective reference"): [
            reference_text(f, r, v, profile, lang) for f, r, v in zip(
                national["factor"], national["role"], national["reference"], strict=True)],
        _("Sector"): [sector_name(s) for s in national["sector"]],
        _("Children moved (census)"): [format_number(v, 0, lang)
                                       for v in national["children_moved"]],
    })


def ranking_table(weights: pd.DataFrame, profile: Any, lang: str) -> pd.DataFrame:
    """National or territory ranking with intervals, P(ranked first) and ties."""
    from clrisk.pipeline import sector_name

    def rank(r: Any, t: Any) -> str:
        return _("{rank} (tie)").format(rank=int(r)) if bool(t) else str(int(r))

    return pd.DataFrame({
        _("Rank"): [rank(r, t) for r, t in zip(weights["rank"], weights["tie"], strict=True)],
        _("Factor"): [profile.label(f, lang) for f in weights["factor"]],
        _("Kind"): [role_name(r) for r in weights["role"]],
        _("Sector"): [sector_name(s) for s in weights["sector"]],
        _("Weight (percentage points)"): [format_number(v, 2, lang)
                                          for v in weights["delta_pp"]],
        _("95% interval"): [f"{format_number(lo, 2, lang)} – {format_number(hi, 2, lang)}"
                            for lo, hi in zip(weights["ci_low_pp"], weights["ci_high_pp"],
                                              strict=True)],
        _("Children represented"): [format_number(v, 0, lang) for v in weights["children"]],
        _("Probability of ranking first (%)"): [format_number(100 * v, 0, lang)
                                                for v in weights["p_rank1"]],
    })


def markers_table(markers: pd.DataFrame, profile: Any, lang: str, region_id: str | None = None
                  ) -> pd.DataFrame:
    """Who is at risk: each marker group's children, rate and share of expected children
    (national rows, or one region's)."""
    if region_id is None:
        rows = markers[markers["level"] == "national"]
    else:
        rows = markers[(markers["level"] == "region")
                       & (markers["region_id"].astype(str) == str(region_id))]
    groups = {"1": _("yes"), "0": _("no")}
    return pd.DataFrame({
        _("Characteristic"): [profile.label(m, lang) for m in rows["marker"]],
        _("Group"): [groups.get(str(g), str(g)) for g in rows["group"]],
        _("Children"): [format_number(v, 0, lang) for v in rows["children"]],
        _("Rate of child labour (%)"): [format_number(100 * v, 1, lang) for v in rows["rate"]],
        _("Share of expected children in child labour (%)"): [
            format_number(100 * v, 1, lang) for v in rows["share_of_expected"]],
    })


def first_factors(weights: pd.DataFrame, territory_ids: Any) -> pd.DataFrame:
    """Per territory, the factor(s) ranked first — several when they tie."""
    sel = weights[weights["territory_id"].isin(list(territory_ids)) & (weights["rank"] == 1)]
    g = sel.groupby("territory_id", sort=False)
    return pd.DataFrame({"factors": g["factor"].agg(list), "sectors": g["sector"].agg(list),
                         "tie": g.size() > 1}).reset_index()


def plot_weights(weights: pd.DataFrame, profile: Any = None, lang: str = "en",
                 title: str | None = None, synthetic: bool = False) -> Figure:
    """Each factor's weight (percentage points) with its 95% interval, coloured by sector;
    protective factors hatched. ``weights``: one territory's rows or the national table."""
    from clrisk import plots

    df = weights.sort_values("delta_pp").reset_index(drop=True)
    fig, ax = plots.new_axes(None, (7.0, 0.5 * len(df) + 1.6))
    y = np.arange(len(df))
    colours = [plots.SECTOR_COLOURS.get(str(s), plots.NEUTRAL) for s in df["sector"]]
    bars = ax.barh(y, df["delta_pp"], color=colours)
    for bar, role in zip(bars, df["role"], strict=True):
        if role == "protective":
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    err = np.vstack([df["delta_pp"] - df["ci_low_pp"], df["ci_high_pp"] - df["delta_pp"]])
    ax.errorbar(df["delta_pp"], y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black",
                capsize=3, lw=1)
    ax.axvline(0, color="black", lw=0.8)
    plots.number_axis(ax.xaxis, lang)
    label = (lambda f: profile.label(f, lang)) if profile is not None else str
    ax.set_yticks(y, [label(f) for f in df["factor"]])
    ax.set_xlabel(plots.wrap(_("Weight: fall of the mean probability (percentage points), "
                               "with its 95% interval; hatched = protective factor")))
    plots._sector_legend(ax, [str(s) for s in df["sector"]], lang)
    return plots._finish(fig, title, synthetic, lang)
