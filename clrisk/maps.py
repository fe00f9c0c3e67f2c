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
from clrisk.plots import level_colours, number_axis, percent_axis, synthetic_mark
from clrisk.tables import level_names

KINDS = ("probability", "level", "ivti", "p_top")
MISSING_COLOUR = "#d9d9d9"
_CMAPS = {"probability": "YlOrRd", "ivti": "PuRd", "p_top": "Reds"}
_LEGEND = {
    "probability": "Mean probability of child labour",
    "ivti": "Vulnerability index (IVTI)",
    "p_top": "P(high risk)",
}
# What makes SVG/PNG output byte-identical across runs: no creation date, a fixed hash salt
# for the ids matplotlib writes into SVG, glyphs drawn as paths (no font lookup at view time).
_SAVE_RC = {"svg.hashsalt": "clrisk", "svg.fonttype": "path", "path.simplify": True}
_SVG_META = {"Date": None, "Creator": "clrisk", "Format": None, "Type": None}
_PNG_META = {"Software": "clrisk"}


def plot_territory_map(gdf: Any, column: str, kind: str = "probability", lang: str | None = None,
                       ax: Axes | None = None, title: str | None = None, *,
                       crs: str | None = None, synthetic: bool = False, k: int | None = None,
                       size: tuple[float, float] = (7.0, 6.0)) -> Figure:
    """Choropleth of ``column`` over the territories in ``gdf`` (a GeoDataFrame).

    ``kind``: "probability" (0–1, shown as %), "level" (integers 1..k, categorical legend from
    low to high), "ivti" (0–1 index) or "p_top" (probability of the highest level).
    ``crs``: draw in this CRS (the profile's ``projected_crs``, so areas and shapes are true);
    None keeps lon/lat (geopandas corrects the aspect for latitude). Territories with no value
    are grey and listed in the legend as "No data". ``synthetic`` stamps "Synthetic data".
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
        handles = [Patch(facecolor=c, edgecolor="#555555", label=lab)
                   for c, lab in zip(colours, level_names(k, lang), strict=True)]
        legend_title = _("Risk level", lang)
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
    if missing.any():
        handles.append(Patch(facecolor=MISSING_COLOUR, label=_("No data", lang)))
    if handles:
        ax.legend(handles=handles, title=legend_title, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=9, frameon=False)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    if synthetic:
        synthetic_mark(fig, lang, ax)
    return fig


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
    data.dissolve("region_id").boundary.plot(ax=ax, color="#333333", linewidth=0.8)
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    if region_label:
        ax.text(0.0, 0.0, region_label + ": " + str(len(regions)), transform=ax.transAxes,
                fontsize=8, va="bottom")
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
