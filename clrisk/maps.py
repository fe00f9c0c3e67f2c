"""Choropleth maps of territories and reproducible figure files.

Why here and not in the chapters: the map is the product most teams publish, so it must look
the same in the manual, in ``clrisk run`` output and in a team's report; its legend must be in
the reader's language, risk levels must always run light (low) to dark (high), and saving it
twice must give the same bytes (``save_figure``), which is how chapter 10 proves a re-run
reproduces a published map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from clrisk.i18n import _, get_language
from clrisk.io import atomic_path
from clrisk.plots import (
    METHOD_NAMES,
    level_colours,
    number_axis,
    percent_axis,
    set_alt,
    synthetic_mark,
    wrap,
)
from clrisk.tables import fmt_int, fmt_number, fmt_percent, level_names

KINDS = ("probability", "level", "ivti", "p_top")
MISSING_COLOUR = "#d9d9d9"
_CMAPS = {"probability": "YlOrRd", "ivti": "PuRd", "p_top": "Reds"}
_LEGEND = {
    "probability": "Mean probability of child labour",
    "ivti": "Vulnerability index (IVTI)",
    "p_top": "P(high risk)",
}
# Colour-blind-safe sequential schemes only (ColorBrewer YlOrRd/PuRd/Reds read as one lightness
# ramp under every common colour-vision deficiency); never a red-green diverging scheme.
P_TOP_SURE = 0.8  # P(high risk) at or above which a territory's top level is called solid
# What makes SVG/PNG output byte-identical across runs: no creation date, a fixed hash salt
# for the ids matplotlib writes into SVG, glyphs drawn as paths (no font lookup at view time).
_SAVE_RC = {"svg.hashsalt": "clrisk", "svg.fonttype": "path", "path.simplify": True}
_SVG_META = {"Date": None, "Creator": "clrisk", "Format": None, "Type": None}
_PNG_META = {"Software": "clrisk"}


def plot_territory_map(gdf: Any, column: str, kind: str = "probability", lang: str | None = None,
                       ax: Axes | None = None, title: str | None = None, *,
                       crs: str | None = None, synthetic: bool = False, k: int | None = None,
                       size: tuple[float, float] = (7.0, 6.0), method: str | None = None,
                       value_column: str | None = None, source: str | None = None,
                       place: str | None = None) -> Figure:
    """Choropleth of ``column`` over the territories in ``gdf`` (a GeoDataFrame).

    ``kind``: "probability" (0–1, shown as %), "level" (integers 1..k, categorical legend from
    low to high), "ivti" (0–1 index) or "p_top" (probability of the highest level).
    ``crs``: draw in this CRS (the profile's ``projected_crs``, so areas and shapes are true);
    None keeps lon/lat (geopandas corrects the aspect for latitude). Territories with no value
    are grey and listed in the legend as "No data". ``synthetic`` stamps "Synthetic data".

    A level map explains itself (the manual's rule): the legend title names the classification
    ``method``, each level shows the range of ``value_column`` it covers (default
    ``mean_probability``, or ``ivti``, when the table has it) — i.e. the cut-offs — and, when
    the table has ``p_top``, a note says how many top-level territories are solid
    (P(high risk) ≥ 80%). Every map carries a source line (``source``, or one built from
    ``synthetic`` and ``kind``) and alt text (:func:`clrisk.plots.alt_text`); ``place`` names
    the country in that alt text.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if column not in gdf.columns:
        raise KeyError(f"column {column!r} not in the territory table ({list(gdf.columns)})")
    lang = lang or get_language()
    data = gdf.to_crs(crs) if crs else gdf
    if "territory_id" in data.columns:
        data = data.sort_values("territory_id")  # drawing order fixed -> identical files
    if ax is None:
        fig = Figure(figsize=size, dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    values = pd.to_numeric(data[column], errors="coerce")
    missing = values.isna().to_numpy()
    if missing.any():
        data[missing].plot(ax=ax, color=MISSING_COLOUR, edgecolor="white", linewidth=0.3)
    present = data[~missing]
    handles: list[Any] = []
    if kind == "level":
        k = int(k or (values.max() if not missing.all() else 3))
        colours = level_colours(k)
        face = [colours[int(v) - 1] for v in values[~missing]]
        present.plot(ax=ax, color=face, edgecolor="white", linewidth=0.3)
        names = level_names(k, lang)
        vcol = value_column or next((c for c in ("mean_probability", "ivti")
                                     if c in data.columns), None)
        labels = list(names)
        if vcol is not None and vcol in data.columns:
            fmt = ((lambda v: fmt_percent(v, 1, lang)) if vcol != "ivti"
                   else (lambda v: fmt_number(v, 2, lang)))
            vals = pd.to_numeric(data[vcol], errors="coerce")
            for i in range(k):
                sel = vals[values == i + 1].dropna()
                if len(sel):
                    labels[i] = _("{level}: {low} to {high}", lang).format(
                        level=names[i], low=fmt(sel.min()), high=fmt(sel.max()))
        handles = [Patch(facecolor=c, edgecolor="#555555", label=lab)
                   for c, lab in zip(colours, labels, strict=True)]
        base_title = _("Vulnerability level", lang) if vcol == "ivti" else _("Risk level", lang)
        if method:
            legend_title = _("{title} ({method})", lang).format(
                title=base_title, method=_(METHOD_NAMES.get(method, method), lang).lower())
        else:
            legend_title = base_title
        counts = [int((values == i + 1).sum()) for i in range(k)]
        alt = _("Map of the {n} territories {place}coloured by {what} from light (low) to dark "
                "(high): {counts}.", lang).format(
            n=fmt_int(len(values), lang), place=(place + " ") if place else "",
            what=base_title.lower(),
            counts="; ".join(f"{lab} ({fmt_int(c, lang)})" for lab, c in zip(labels, counts,
                                                                              strict=True)))
        if "p_top" in data.columns:
            top = pd.to_numeric(data["p_top"], errors="coerce")[values == k]
            sure = int((top >= P_TOP_SURE).sum())
            note = _("P(high risk) ≥ {p}: {sure} of the {m} territories of the highest level",
                     lang).format(p=fmt_percent(P_TOP_SURE, 0, lang), sure=fmt_int(sure, lang),
                                  m=fmt_int(len(top), lang))
            handles.append(Patch(facecolor="none", edgecolor="none", label=note))
            alt = f"{alt} {note}."
        set_alt(fig, alt)
    else:
        cmap = matplotlib.colormaps[_CMAPS[kind]]
        if kind == "probability":
            vmin, vmax = 0.0, float(values.max()) if not missing.all() else 1.0
        else:
            vmin, vmax = 0.0, 1.0
        norm = matplotlib.colors.Normalize(vmin=vmin, vmax=vmax or 1.0)
        present.plot(ax=ax, color=[cmap(norm(v)) for v in values[~missing]], edgecolor="white",
                     linewidth=0.3)
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        cbar = fig.colorbar(sm, ax=ax, shrink=0.7)
        cbar.set_label(_(_LEGEND[kind], lang))
        if kind in ("probability", "p_top"):
            percent_axis(cbar.ax.yaxis, lang)
        else:
            number_axis(cbar.ax.yaxis, lang, 1)
        legend_title = None
        lo_v, hi_v = values_range(values)
        fmt = ((lambda v: fmt_percent(v, 1, lang)) if kind in ("probability", "p_top")
               else (lambda v: fmt_number(v, 2, lang)))
        set_alt(fig, _("Map of the {n} territories {place}shaded by {what}, from light (low) to "
                       "dark (high); values from {low} to {high}.", lang).format(
            n=fmt_int(len(values), lang), place=(place + " ") if place else "",
            what=_(_LEGEND[kind], lang).lower() if kind != "p_top" else _(_LEGEND[kind], lang),
            low=fmt(lo_v), high=fmt(hi_v)))
    handles += _uncertainty_overlay(ax, present, kind, lang)
    if missing.any():
        handles.append(Patch(facecolor=MISSING_COLOUR, label=_("No data", lang)))
    for handle in handles:  # long legend entries wrap instead of running off the image
        handle.set_label(wrap(handle.get_label(), 34))
    if handles:
        ax.legend(handles=handles, title=legend_title, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=9, frameon=False)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    if synthetic:
        synthetic_mark(fig, lang, ax)
    source_line(fig, source or default_source(kind, synthetic, lang))
    return fig


def _uncertainty_overlay(ax: Axes, present: Any, kind: str, lang: str) -> list[Any]:
    """Hatch territories whose estimate is imprecise (``high_cv``: CV > 0.3) and outline those
    whose top-level label is uncertain (``uncertain_level``: 0.1 < P(top) < 0.9) on rate and
    level maps, so a reader never takes a shaky estimate or label for a solid one."""
    handles: list[Any] = []
    if kind not in ("probability", "level"):
        return handles
    if "high_cv" in present.columns:
        sel = present[present["high_cv"].astype(bool).to_numpy()]
        if len(sel):
            sel.plot(ax=ax, facecolor="none", edgecolor="#333333", hatch="////", linewidth=0.0)
            handles.append(Patch(facecolor="white", edgecolor="#333333", hatch="////",
                                 label=_("Imprecise estimate (CV > 30%)", lang)))
    if kind == "level" and "uncertain_level" in present.columns:
        sel = present[present["uncertain_level"].astype(bool).to_numpy()]
        if len(sel):
            sel.boundary.plot(ax=ax, color="#111111", linewidth=1.2)
            handles.append(Patch(facecolor="none", edgecolor="#111111", linewidth=1.2,
                                 label=_("Uncertain whether in the highest level "
                                         "(P between 10% and 90%)", lang)))
    return handles


def default_source(kind: str, synthetic: bool, lang: str | None = None) -> str:
    """The source line of a map: which data and which tool produced it."""
    if synthetic:
        return _("Source: synthetic sample data (clrisk.synth); outer boundary Natural Earth, "
                 "inner boundaries synthetic; computed with clrisk.", lang)
    if kind == "ivti":
        return _("Source: administrative records per territory; computed with clrisk.", lang)
    return _("Source: household survey and population census; computed with clrisk.", lang)


def source_line(fig: Figure, text: str) -> None:
    """Write ``text`` small, bottom left, under the map (inside the saved image, so a map
    copied into a report keeps its source)."""
    # supxlabel takes part in the constrained layout, so the line never overlaps the map.
    fig.supxlabel(text, x=0.01, ha="left", fontsize=7, color="#444444")


def plot_territories(gdf: Any, lang: str | None = None, ax: Axes | None = None,
                     title: str | None = None, *, crs: str | None = None,
                     synthetic: bool = False, region_label: str | None = None,
                     size: tuple[float, float] = (7.0, 6.0)) -> Figure:
    """The administrative map: territories outlined, filled by region (``region_id``), with
    region boundaries drawn thicker. Shows the geography before any result is mapped."""
    lang = lang or get_language()
    data = (gdf.to_crs(crs) if crs else gdf).sort_values("territory_id")
    if ax is None:
        fig = Figure(figsize=size, dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    regions = sorted(data["region_id"].astype(str).unique())
    cmap = matplotlib.colormaps["tab20"]
    colour = {r: cmap(i % 20) for i, r in enumerate(regions)}
    data.plot(ax=ax, color=[colour[r] for r in data["region_id"].astype(str)],
              edgecolor="white", linewidth=0.3, alpha=0.8)
    # make_valid: a slightly invalid polygon (common in national files) must not stop the map
    valid = data[["region_id", "geometry"]].copy()
    valid["geometry"] = valid.geometry.make_valid()
    valid.dissolve("region_id").boundary.plot(ax=ax, color="#333333", linewidth=0.8)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    if region_label:
        ax.text(0.0, 0.0, region_label + ": " + str(len(regions)), transform=ax.transAxes,
                fontsize=8, va="bottom")
    set_alt(fig, _("Map of the {n} territories, each coloured by its region ({m} regions), with "
                   "region boundaries drawn thicker.", lang).format(
        n=fmt_int(len(data), lang), m=fmt_int(len(regions), lang)))
    if synthetic:
        synthetic_mark(fig, lang, ax)
    return fig


def join_results(territories: Any, results: pd.DataFrame) -> Any:
    """Territory polygons with result columns attached by ``territory_id`` (left join: a
    territory with no result stays on the map, in grey)."""
    res = results.copy()
    res["territory_id"] = res["territory_id"].astype(str)
    drop = [c for c in res.columns if c in territories.columns and c != "territory_id"]
    geo = territories.copy()
    geo["territory_id"] = geo["territory_id"].astype(str)
    return geo.merge(res.drop(columns=drop), on="territory_id", how="left")


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> list[Path]:
    """Write ``fig`` as PNG and SVG (``path`` with either suffix or none), atomically and
    reproducibly: same figure -> same bytes. Returns the two paths written."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    written = []
    with matplotlib.rc_context(_SAVE_RC):
        for ext, meta in ((".png", _PNG_META), (".svg", _SVG_META)):
            target = stem.with_name(stem.name + ext)
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=ext[1:], dpi=dpi, metadata=meta)
            written.append(target)
    return written


def values_range(values: pd.Series) -> tuple[float, float]:
    """Finite min and max of a column (for captions)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    return (float(v.min()), float(v.max())) if v.size else (float("nan"), float("nan"))
