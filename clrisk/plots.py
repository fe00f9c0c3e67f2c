"""Figures of Phase I results: model, validation, classification, factor weights, IVTI.

Why these rules: a figure in the manual is read by a focal point or a trade unionist, in
Spanish, French or English, and is republished by country teams. So every function takes
*results* (tables already computed by the estimators) and never recomputes them — a chart can
never disagree with the table beside it; every label goes through ``clrisk.i18n._``; numbers on
axes use the reader's locale; figures have a fixed size and are saved reproducibly (see
``clrisk.maps.save_figure``), so a re-run proves the outputs are identical byte for byte.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot) so nothing accumulates in a
global state and a notebook shows each figure exactly once.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from clrisk.i18n import _, get_language
from clrisk.tables import fmt_number, fmt_percent, level_names

FIGSIZE = (7.0, 4.5)
SECTOR_COLOURS = {
    "education": "#1f78b4",
    "social_protection": "#33a02c",
    "labour": "#ff7f00",
    "health": "#6a3d9a",
}
SECTOR_NAMES = {
    "education": "Education",
    "social_protection": "Social protection",
    "labour": "Labour",
    "health": "Health",
}
METHOD_NAMES = {
    "quantiles": "Quantiles",
    "jenks": "Natural breaks (Jenks)",
    "natural_breaks": "Natural breaks (Jenks)",
    "fisher_jenks": "Natural breaks (Jenks)",
    "mean_sd": "Mean ± standard deviation",
    "std_mean": "Mean ± standard deviation",
    "stdmean": "Mean ± standard deviation",
    "fixed": "Fixed cut-offs",
}
RISK_COLOUR = "#c0392b"
PROTECT_COLOUR = "#2471a3"
NEUTRAL = "#7f7f7f"


# --- shared helpers ---------------------------------------------------------------------------
def _lang(lang: str | None) -> str:
    return lang or get_language()


def new_axes(ax: Axes | None = None, size: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    """A fixed-size figure and axes, or the figure of the axes the caller passed."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def level_colours(k: int) -> list[str]:
    """``k`` colours ordered low -> high risk (light yellow to dark red)."""
    cmap = matplotlib.colormaps["YlOrRd"]
    return [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.15, 0.9, k)]


def percent_axis(axis: Any, lang: str | None = None, digits: int | None = None) -> None:
    """Format an axis (``ax.xaxis``/``ax.yaxis``) holding proportions as locale percentages
    (``digits`` None: as many decimals as the tick needs — 2.5%, not a rounded 2%)."""
    def fmt(v: float, _p: Any) -> str:
        d = digits
        if d is None:
            pct = round(v * 100, 6)
            d = 0 if pct.is_integer() else (1 if (pct * 10).is_integer() else 2)
        return fmt_percent(v, d, lang)

    axis.set_major_formatter(FuncFormatter(fmt))


def number_axis(axis: Any, lang: str | None = None, digits: int | None = None) -> None:
    """Locale decimal separators on a numeric axis (``digits`` None: as few as each tick needs,
    so ticks read 0, 2, 4 or 0.5, 1, 1.5 rather than 0.0, 2.0, 4.0)."""
    if digits is None:
        axis.set_major_formatter(FuncFormatter(lambda v, _p: _compact(round(v, 6), lang)))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_number(v, digits, lang)))


def wrap(text: str, width: int = 55) -> str:
    """Break a long axis label over lines (translations are often longer than English)."""
    return textwrap.fill(text, width)


def synthetic_mark(fig: Figure, lang: str | None = None, ax: Axes | None = None) -> None:
    """Stamp "Synthetic data" above the top-right corner of the (first) axes, so sample data
    never pass as real. As the axes' right-hand title it takes part in the layout and never
    overlaps axis labels or legends."""
    ax = ax or (fig.axes[0] if fig.axes else None)
    text = _("Synthetic data", _lang(lang))
    if ax is None:
        fig.text(0.995, 0.995, text, ha="right", va="top", fontsize=8, color="#a93226",
                 style="italic")
        return
    ax.set_title(text, loc="right", fontsize=8, color="#a93226", style="italic")


def _compact(v: float, lang: str | None) -> str:
    """1 -> "1", 0.5 -> "0.5", 0.25 -> "0.25" (log-scale ticks), in the locale."""
    digits = 0 if float(v).is_integer() else (1 if float(v * 10).is_integer() else 2)
    return fmt_number(v, digits, lang)


def figure_image(fig: Figure, dpi: int = 110) -> Any:
    """The figure as an IPython PNG image.

    Why not rely on Jupyter's automatic figure display: chapters are executed with the Agg
    backend (papermill), where no display hook is registered for figures; an explicit image
    output renders identically in Jupyter, in the executed notebook and on the site.
    """
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "clrisk"})
    return Image(data=buf.getvalue(), format="png")


def show_figure(fig: Figure, alt: str | None = None, caption: str | None = None,
                lang: str | None = None) -> None:
    """Display ``fig`` in a chapter with alt text (default :func:`alt_text`) and its title as a
    translatable caption, through the book's ``clrisk.display.show_figure``; where that helper
    is not installed, as a plain image (the title then stays in the picture)."""
    alt = alt or alt_text(fig, lang)
    try:
        from clrisk.display import show_figure as _show
    except ImportError:  # older tooling: plain image output
        from IPython.display import display

        display(figure_image(fig))
        return
    _show(fig, alt, caption)


def _pick(df: pd.DataFrame, *names: str, required: bool = True) -> str | None:
    """First of ``names`` that is a column of ``df`` (result tables name a few things variously)."""
    for n in names:
        if n in df.columns:
            return n
    if required:
        raise KeyError(f"none of the columns {names} in table with columns {list(df.columns)}")
    return None


def _term_table(table: pd.DataFrame) -> pd.DataFrame:
    """Coefficient-like table with the covariate as a ``term`` column, without the constant."""
    df = table.copy()
    col = _pick(df, "term", "covariate", "variable", "factor", required=False)
    if col is None:
        df = df.rename_axis("term").reset_index()
    else:
        df = df.rename(columns={col: "term"})
    df["term"] = df["term"].astype(str)
    return df[~df["term"].isin(["const", "Intercept", "intercept"])].reset_index(drop=True)


def _labeller(profile: Any | None, lang: str) -> Any:
    if profile is None:
        return lambda name: name
    return lambda name: profile.label(name, lang)


# --- alt text -----------------------------------------------------------------------------------
# Why: on the site every figure needs alt text that says what it shows (screen readers, images
# that fail to load); a file path or a bare title says nothing. Each plotting function stores a
# sentence built from the data it drew (``set_alt``); chapters pass ``alt_text(fig)`` to
# ``clrisk.display.show_figure``.
def set_alt(fig: Figure, text: str) -> None:
    """Attach the alt text (one or two sentences, already in the reader's language)."""
    fig._clrisk_alt = " ".join(str(text).split())  # type: ignore[attr-defined]


def alt_text(fig: Figure, lang: str | None = None) -> str:
    """The figure's alt text: what its plotting function stored, else a sentence built from its
    title ("Chart: <title>"), else a generic "Chart" — never a file path."""
    stored = getattr(fig, "_clrisk_alt", None)
    if stored:
        return str(stored)
    sup = getattr(fig, "_suptitle", None)
    title = sup.get_text().strip() if sup is not None else ""
    if not title and fig.axes:
        title = fig.axes[0].get_title("center").strip()
    if title:
        return _("Chart: {title}", _lang(lang)).format(title=title)
    return _("Chart", _lang(lang))


def _extremes(names: Sequence[str], values: Sequence[float], fmt: Any) -> tuple[str, str]:
    """("name (value)" of the largest, of the smallest) for alt texts."""
    vals = np.asarray(values, dtype=float)
    hi, lo = int(np.nanargmax(vals)), int(np.nanargmin(vals))
    return f"{names[hi]} ({fmt(vals[hi])})", f"{names[lo]} ({fmt(vals[lo])})"


def _finish(fig: Figure, title: str | None, synthetic: bool, lang: str) -> Figure:
    if title:
        fig.suptitle(title, fontsize=11)
    if synthetic:
        synthetic_mark(fig, lang)
    return fig


# --- chapter 3-4: the model --------------------------------------------------------------------
def plot_odds_ratios(table: pd.DataFrame, profile: Any | None = None, lang: str | None = None,
                     ax: Axes | None = None, title: str | None = None,
                     synthetic: bool = False) -> Figure:
    """Forest plot of odds ratios with 95% CIs on a log scale (1 = no association).

    ``table``: one row per covariate (index or ``term`` column) with ``odds_ratio``,
    ``ci_low``, ``ci_high`` — ``RiskModel.odds_ratios()``. Red = risk factor (OR > 1),
    blue = protective; a hollow marker means the CI includes 1.
    """
    lang = _lang(lang)
    df = _term_table(table)
    orc = _pick(df, "odds_ratio", "or")
    lo, hi = _pick(df, "ci_low", "or_ci_low", "lower"), _pick(df, "ci_high", "or_ci_high", "upper")
    df = df.sort_values(orc).reset_index(drop=True)
    label = _labeller(profile, lang)
    fig, ax = new_axes(ax, (8.0, 0.45 * len(df) + 1.8))
    for i, row in df.iterrows():
        colour = RISK_COLOUR if row[orc] > 1 else PROTECT_COLOUR
        crosses = row[lo] <= 1 <= row[hi]
        ax.plot([row[lo], row[hi]], [i, i], color=colour, lw=2)
        ax.plot(row[orc], i, "o", ms=7, color=colour, mfc="white" if crosses else colour)
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=2))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: _compact(v, lang)))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    ax.set_yticks(range(len(df)), [label(t) for t in df["term"]])
    ax.set_xlabel(wrap(_("Odds ratio (log scale; 1 = no association)", lang)))
    fig.legend(handles=[
        Line2D([], [], marker="o", color=RISK_COLOUR, lw=2, label=_("Risk factor (OR > 1)", lang)),
        Line2D([], [], marker="o", color=PROTECT_COLOUR, lw=2,
               label=_("Protective factor (OR < 1)", lang)),
        Line2D([], [], marker="o", color=NEUTRAL, mfc="white", lw=0,
               label=_("95% interval includes 1", lang)),
    ], loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    names = [label(t) for t in df["term"]]
    top, bottom = _extremes(names, df[orc], lambda v: _compact(round(float(v), 2), lang))
    unclear = int(((df[lo] <= 1) & (df[hi] >= 1)).sum())
    set_alt(fig, _("Dot chart of the odds ratio of each of {n} characteristics with its 95% "
                   "interval, on a log scale with a dashed line at 1. Highest: {top}; lowest: "
                   "{bottom}. Intervals that include 1: {unclear}.", lang).format(
        n=len(df), top=top, bottom=bottom, unclear=unclear))
    return _finish(fig, title, synthetic, lang)


def plot_marginal_effects(table: pd.DataFrame, profile: Any | None = None,
                          lang: str | None = None, ax: Axes | None = None,
                          title: str | None = None, synthetic: bool = False) -> Figure:
    """Average marginal effects in percentage points with 95% CIs.

    ``table``: ``RiskModel.marginal_effects()`` — one row per covariate with ``ame`` (a change
    in probability, 0.02 = 2 points) and ``ci_low``/``ci_high``.
    """
    lang = _lang(lang)
    df = _term_table(table)
    est = _pick(df, "ame", "marginal_effect", "dydx", "effect")
    lo = _pick(df, "ci_low", "lower", required=False)
    hi = _pick(df, "ci_high", "upper", required=False)
    df = df.sort_values(est).reset_index(drop=True)
    label = _labeller(profile, lang)
    fig, ax = new_axes(ax, (7.0, 0.45 * len(df) + 1.4))
    colours = [RISK_COLOUR if v > 0 else PROTECT_COLOUR for v in df[est]]
    y = np.arange(len(df))
    ax.barh(y, df[est] * 100, color=colours, alpha=0.85)
    if lo and hi:
        err = np.vstack([(df[est] - df[lo]) * 100, (df[hi] - df[est]) * 100])
        ax.errorbar(df[est] * 100, y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black",
                    lw=1, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    number_axis(ax.xaxis, lang)
    ax.set_yticks(y, [label(t) for t in df["term"]])
    ax.set_xlabel(wrap(_("Change in the probability of child labour (percentage points)", lang)))
    names = [label(t) for t in df["term"]]
    top, bottom = _extremes(names, df[est] * 100, lambda v: fmt_number(v, 1, lang))
    set_alt(fig, _("Bar chart of the average marginal effect of each of {n} characteristics, in "
                   "percentage points, with 95% intervals. Largest increase: {top}; largest "
                   "decrease: {bottom}.", lang).format(n=len(df), top=top, bottom=bottom))
    return _finish(fig, title, synthetic, lang)


def plot_design_effects(table: pd.DataFrame, profile: Any | None = None,
                        lang: str | None = None, ax: Axes | None = None,
                        title: str | None = None, synthetic: bool = False) -> Figure:
    """Naive vs design-based standard errors per coefficient (ratio > 1: the design matters).

    ``table``: one row per covariate with ``naive_se`` and ``design_se``.
    """
    lang = _lang(lang)
    df = _term_table(table)
    ratio = df["design_se"] / df["naive_se"]
    order = np.argsort(ratio.to_numpy())
    df, ratio = df.iloc[order].reset_index(drop=True), ratio.iloc[order].reset_index(drop=True)
    label = _labeller(profile, lang)
    fig, ax = new_axes(ax, (7.0, 0.4 * len(df) + 1.4))
    y = np.arange(len(df))
    ax.barh(y, ratio, color="#5d6d7e")
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    number_axis(ax.xaxis, lang)
    ax.set_yticks(y, [label(t) for t in df["term"]])
    ax.set_xlabel(wrap(_("Design-based SE ÷ naive SE", lang)))
    return _finish(fig, title, synthetic, lang)


# --- chapter 5: territory probabilities ---------------------------------------------------------
def _names(df: pd.DataFrame, names: Mapping[str, str] | None) -> list[str]:
    if "name" in df.columns:
        return [str(n) for n in df["name"]]
    if names is not None:
        return [str(names.get(t, t)) for t in df["territory_id"]]
    return [str(t) for t in df["territory_id"]]


def plot_territory_intervals(scored: pd.DataFrame, names: Mapping[str, str] | None = None,
                             n: int = 25, lang: str | None = None, ax: Axes | None = None,
                             title: str | None = None, synthetic: bool = False,
                             level_label: str | None = None) -> Figure:
    """Mean probability with its 95% CI for the ``n`` territories with the highest probability.

    ``scored``: ``score_territories`` output (``mean_probability``, ``ci_low``, ``ci_high``),
    optionally classified (``risk_level`` colours the points).
    """
    lang = _lang(lang)
    df = scored.sort_values(["mean_probability", "territory_id"], ascending=[False, True])
    df = df.head(n).iloc[::-1].reset_index(drop=True)
    fig, ax = new_axes(ax, (7.0, 0.25 * len(df) + 1.5))
    y = np.arange(len(df))
    if "risk_level" in df.columns:
        k = int(scored["risk_level"].max())
        cols = level_colours(k)
        colours = [cols[int(v) - 1] for v in df["risk_level"]]
    else:
        colours = [RISK_COLOUR] * len(df)
    ax.hlines(y, df["ci_low"], df["ci_high"], color="#555555", lw=1.5)
    ax.scatter(df["mean_probability"], y, c=colours, edgecolors="black", zorder=3, s=30)
    percent_axis(ax.xaxis, lang)
    ax.set_yticks(y, _names(df, names), fontsize=8)
    ax.set_xlabel(wrap(_("Mean probability of child labour (95% interval)", lang)))
    if level_label:
        ax.set_ylabel(level_label)
    if "risk_level" in df.columns:
        labels = level_names(k, lang)
        ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=lab)
                           for c, lab in zip(cols, labels, strict=True)],
                  title=_("Risk level", lang), fontsize=8, loc="lower right")
    return _finish(fig, title, synthetic, lang)


# --- chapter 6: risk levels ---------------------------------------------------------------------
def plot_method_comparison(levels: pd.DataFrame, methods: Sequence[str], k: int,
                           lang: str | None = None, ax: Axes | None = None,
                           title: str | None = None, synthetic: bool = False,
                           territory_label: str | None = None) -> Figure:
    """Risk level of every territory under each classification method, side by side.

    ``levels``: one row per territory with ``mean_probability`` and one column per method in
    ``methods`` holding the level (1..k). Territories run left to right from the lowest to the
    highest probability, so disagreements show up as different colours in the same column.
    """
    lang = _lang(lang)
    df = levels.sort_values(["mean_probability", "territory_id"]).reset_index(drop=True)
    grid = np.vstack([df[m].to_numpy(dtype=float) for m in methods])
    cmap = matplotlib.colors.ListedColormap(level_colours(k))
    fig, ax = new_axes(ax, (7.0, 0.55 * len(methods) + 1.6))
    ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0.5, vmax=k + 0.5, interpolation="nearest")
    ax.set_yticks(range(len(methods)), [_(METHOD_NAMES.get(m, m), lang) for m in methods])
    ax.set_xticks([])
    ax.set_xlabel(territory_label or _("Territories, from lowest to highest probability", lang))
    ax.legend(handles=[Patch(facecolor=c, label=lab)
                       for c, lab in zip(level_colours(k), level_names(k, lang), strict=True)],
              title=_("Risk level", lang), fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, title, synthetic, lang)


def plot_p_top(classified: pd.DataFrame, names: Mapping[str, str] | None = None, n: int = 25,
               lang: str | None = None, ax: Axes | None = None, title: str | None = None,
               synthetic: bool = False, around_boundary: bool = True) -> Figure:
    """P(high risk) for ``n`` territories, ordered by mean probability (highest at the top).

    ``classified``: ``classify_risk`` output with ``p_top``, ``risk_level`` and
    ``mean_probability``. With ``around_boundary`` (default) the window is centred on the
    boundary of the highest level — where labels are uncertain and the chart is informative;
    otherwise the ``n`` highest territories are shown. Bars near 1 are solid "high" labels,
    bars near 0.5 borderline ones.
    """
    lang = _lang(lang)
    k = int(classified["risk_level"].max())
    df = classified.sort_values(["mean_probability", "territory_id"], ascending=[False, True])
    df = df.reset_index(drop=True)
    start = 0
    if around_boundary:
        n_top = int((df["risk_level"] == k).sum())
        start = int(min(max(n_top - n // 2, 0), max(len(df) - n, 0)))
    df = df.iloc[start:start + n].iloc[::-1].reset_index(drop=True)
    cols = level_colours(k)
    fig, ax = new_axes(ax, (7.0, 0.25 * len(df) + 1.5))
    y = np.arange(len(df))
    ax.barh(y, df["p_top"], color=[cols[int(v) - 1] for v in df["risk_level"]],
            edgecolor="black", lw=0.5)
    ax.axvline(0.5, color="black", ls="--", lw=0.8)
    ax.set_xlim(0, 1)
    percent_axis(ax.xaxis, lang)
    ax.set_yticks(y, _names(df, names), fontsize=8)
    ax.set_xlabel(wrap(_("Probability of being in the highest risk level (P(high risk))", lang)))
    ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=lab)
                       for c, lab in zip(cols, level_names(k, lang), strict=True)],
              title=_("Assigned level", lang), fontsize=8, loc="upper left",
              bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _finish(fig, title, synthetic, lang)


# --- chapter 7: factor weights ------------------------------------------------------------------
def _sector_legend(ax: Axes, sectors: Sequence[str], lang: str) -> None:
    present = [s for s in SECTOR_COLOURS if s in set(sectors)]
    ax.legend(handles=[Patch(facecolor=SECTOR_COLOURS[s], label=_(SECTOR_NAMES[s], lang))
                       for s in present],
              title=_("Sector", lang), fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              frameon=False)


def plot_factor_weights(weights: pd.DataFrame, territory_id: str, profile: Any | None = None,
                        lang: str | None = None, ax: Axes | None = None,
                        title: str | None = None, synthetic: bool = False) -> Figure:
    """Instrument 2 for one territory: how much the mean probability would fall (percentage
    points) if each factor were at its reference value, coloured by the sector it points to.

    ``weights``: ``factor_weights`` output (``territory_id``, ``factor``, ``delta_pp`` in
    percentage points — or ``reduction`` as a proportion — and ``sector``).
    """
    lang = _lang(lang)
    red = _pick(weights, "delta_pp", "reduction")
    scale = 1.0 if red == "delta_pp" else 100.0
    df = weights[weights["territory_id"].astype(str) == str(territory_id)]
    df = df.sort_values([red, "factor"]).reset_index(drop=True)
    label = _labeller(profile, lang)
    sectors = _sectors(df, profile)
    fig, ax = new_axes(ax, (7.0, 0.45 * len(df) + 1.5))
    y = np.arange(len(df))
    ax.barh(y, df[red] * scale, color=[SECTOR_COLOURS.get(s, NEUTRAL) for s in sectors])
    ax.axvline(0, color="black", lw=0.8)
    number_axis(ax.xaxis, lang)
    ax.set_yticks(y, [label(f) for f in df["factor"]])
    ax.set_xlabel(wrap(_("Reduction in the mean probability if the factor were at its reference "
                    "(percentage points)", lang)))
    _sector_legend(ax, sectors, lang)
    return _finish(fig, title, synthetic, lang)


def _sectors(df: pd.DataFrame, profile: Any | None) -> list[str]:
    if "sector" in df.columns:
        return [str(s) for s in df["sector"]]
    table = getattr(profile, "factor_sectors", {}) if profile is not None else {}
    return [str(table.get(f, "")) for f in df["factor"]]


def plot_national_ranking(ranking: pd.DataFrame, profile: Any | None = None,
                          lang: str | None = None, ax: Axes | None = None,
                          title: str | None = None, synthetic: bool = False) -> Figure:
    """National ranking of factors: children in child labour associated with each factor
    (sum over territories of N_t x reduction), coloured by sector.

    ``ranking``: ``national_factor_ranking`` output with ``factor`` and ``children`` (or
    ``reduction`` when children are not reported).
    """
    lang = _lang(lang)
    val = _pick(ranking, "children", "expected_children", "delta_pp", "reduction")
    df = ranking.sort_values([val, "factor"]).reset_index(drop=True)
    label = _labeller(profile, lang)
    sectors = _sectors(df, profile)
    fig, ax = new_axes(ax, (7.0, 0.45 * len(df) + 1.5))
    y = np.arange(len(df))
    if val in ("children", "expected_children"):
        ax.barh(y, df[val], color=[SECTOR_COLOURS.get(s, NEUTRAL) for s in sectors])
        number_axis(ax.xaxis, lang, 0)
        ax.set_xlabel(wrap(_("Children in child labour associated with the factor (expected)", lang)))
    else:
        scale = 1.0 if val == "delta_pp" else 100.0
        ax.barh(y, df[val] * scale, color=[SECTOR_COLOURS.get(s, NEUTRAL) for s in sectors])
        number_axis(ax.xaxis, lang)
        ax.set_xlabel(wrap(_("Reduction in the mean probability (percentage points)", lang)))
    ax.set_yticks(y, [label(f) for f in df["factor"]])
    _sector_legend(ax, sectors, lang)
    return _finish(fig, title, synthetic, lang)


# --- chapter 8: validation ----------------------------------------------------------------------
def plot_calibration(table: pd.DataFrame, lang: str | None = None, ax: Axes | None = None,
                     title: str | None = None, synthetic: bool = False) -> Figure:
    """Calibration: observed (weighted) rate of child labour against the mean predicted
    probability, by group of predicted risk. Points on the diagonal = well calibrated.

    ``table``: ``calibration_table`` output (``mean_predicted``, ``observed``).
    """
    lang = _lang(lang)
    pred = _pick(table, "mean_predicted", "predicted", "mean_probability")
    obs = _pick(table, "observed", "observed_rate", "observed_mean")
    fig, ax = new_axes(ax, (5.5, 5.0))
    top = float(max(table[pred].max(), table[obs].max()) * 1.1) or 1.0
    ax.plot([0, top], [0, top], ls="--", color="black", lw=0.8, label=_("Perfect calibration",
                                                                      lang))
    ax.plot(table[pred], table[obs], "o-", color=RISK_COLOUR, label=_("Groups of children", lang))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    percent_axis(ax.xaxis, lang)
    percent_axis(ax.yaxis, lang)
    ax.set_xlabel(wrap(_("Mean predicted probability", lang)))
    ax.set_ylabel(_("Observed rate of child labour (weighted)", lang))
    ax.legend(fontsize=8, loc="upper left")
    return _finish(fig, title, synthetic, lang)


def plot_regional_validation(table: pd.DataFrame, names: Mapping[str, str] | None = None,
                             lang: str | None = None, ax: Axes | None = None,
                             title: str | None = None, synthetic: bool = False,
                             region_label: str | None = None) -> Figure:
    """Model-based regional rate (census x model) against the survey's direct estimate with
    its design-based 95% CI, one row per region.

    ``table``: ``regional_validation`` output (``region_id``, ``model_rate``, ``direct_rate``,
    ``direct_ci_low``, ``direct_ci_high``).
    """
    lang = _lang(lang)
    model_c = _pick(table, "model_rate", "model_based", "model")
    direct = _pick(table, "direct_rate", "direct", "direct_estimate")
    lo = _pick(table, "direct_ci_low", "ci_low")
    hi = _pick(table, "direct_ci_high", "ci_high")
    df = table.dropna(subset=[direct, model_c]).sort_values([direct, "region_id"])
    df = df.reset_index(drop=True)
    fig, ax = new_axes(ax, (7.0, 0.35 * len(df) + 1.5))
    y = np.arange(len(df))
    ax.hlines(y, df[lo], df[hi], color="#555555", lw=1.5)
    ax.plot(df[direct], y, "o", color="black", label=_("Direct survey estimate (95% CI)", lang))
    ax.plot(df[model_c], y, "D", color=RISK_COLOUR, label=_("Model-based (census)", lang))
    percent_axis(ax.xaxis, lang)
    labels = [str(names.get(r, r)) if names else str(r) for r in df["region_id"]]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(wrap(_("Rate of child labour", lang)))
    if region_label:
        ax.set_ylabel(region_label)
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig, title, synthetic, lang)


# --- chapter 9: IVTI ----------------------------------------------------------------------------
DIMENSION_NAMES = {
    "education": "Education",
    "poverty": "Poverty and social protection",
    "social_protection": "Poverty and social protection",
    "labour_market": "Labour market",
    "labour": "Labour market",
    "demography": "Demography",
    "health": "Health",
}


def ivti_components(result: pd.DataFrame, groups: Mapping[str, str] | None = None
                    ) -> pd.DataFrame:
    """Contributions to the IVTI per territory from ``vulnerability_index`` output (columns
    ``contribution_<indicator>``), summed by dimension when ``groups`` (indicator -> dimension,
    e.g. ``Profile.ivti_dimensions``) is given. Sums only — the components still add up to the
    index; nothing is re-estimated."""
    cols = [c for c in result.columns if c.startswith("contribution_")]
    wide = result[["territory_id", *cols]].rename(
        columns={c: c.removeprefix("contribution_") for c in cols})
    if not groups:
        return wide
    out = wide[["territory_id"]].copy()
    for ind, dim in groups.items():
        if ind in wide.columns:
            out[dim] = out.get(dim, 0.0) + wide[ind]
    return out


def plot_ivti_contributions(contributions: pd.DataFrame, labels: Mapping[str, str] | None = None,
                            names: Mapping[str, str] | None = None, n: int = 20,
                            lang: str | None = None, ax: Axes | None = None,
                            title: str | None = None, synthetic: bool = False) -> Figure:
    """Stacked contributions of each component (dimension or indicator) to the IVTI of the
    ``n`` most vulnerable territories.

    ``contributions``: one row per territory with ``territory_id`` and one column per component
    (:func:`ivti_components`); the components of a row add up to its index. ``labels`` maps
    component -> display label; by default known dimension names are translated.
    """
    lang = _lang(lang)
    comps = [c for c in contributions.columns if c not in ("territory_id", "name")]
    df = contributions.assign(_total=contributions[comps].sum(axis=1))
    df = df.sort_values(["_total", "territory_id"], ascending=[False, True]).head(n)
    df = df.iloc[::-1].reset_index(drop=True)
    fig, ax = new_axes(ax, (7.0, 0.28 * len(df) + 1.8))
    y = np.arange(len(df))
    left = np.zeros(len(df))
    cmap = matplotlib.colormaps["tab10"]
    for i, c in enumerate(comps):
        text = (labels or {}).get(c) or (_(DIMENSION_NAMES[c], lang) if c in DIMENSION_NAMES
                                         else c)
        ax.barh(y, df[c], left=left, color=cmap(i % 10), label=text)
        left += df[c].to_numpy(dtype=float)
    number_axis(ax.xaxis, lang, 2)
    ax.set_yticks(y, _names(df, names), fontsize=8)
    ax.set_xlabel(wrap(_("Vulnerability index (IVTI) and its components", lang)))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _finish(fig, title, synthetic, lang)


# --- chapter 4: what-if -------------------------------------------------------------------------
def plot_scenarios(table: pd.DataFrame, lang: str | None = None, ax: Axes | None = None,
                   title: str | None = None, synthetic: bool = False) -> Figure:
    """Probability of child labour under each pre-computed scenario (``whatif.scenario_table``);
    the first row is the base child, drawn as a dashed reference line."""
    lang = _lang(lang)
    df = table.reset_index(drop=True)
    base = float(df["probability"].iloc[0])
    rows = df.iloc[::-1].reset_index(drop=True)
    fig, ax = new_axes(ax, (8.0, 0.4 * len(rows) + 1.5))
    y = np.arange(len(rows))
    colours = [NEUTRAL if i == len(rows) - 1 else (RISK_COLOUR if p > base else PROTECT_COLOUR)
               for i, p in enumerate(rows["probability"])]
    ax.barh(y, rows["probability"], color=colours)
    ax.axvline(base, color="black", ls="--", lw=0.8)
    percent_axis(ax.xaxis, lang)
    ax.set_yticks(y, list(rows["scenario"]), fontsize=8)
    ax.set_xlabel(wrap(_("Probability of child labour", lang)))
    others = df.iloc[1:]
    if len(others):
        names = [str(v) for v in others["scenario"]]
        top, bottom = _extremes(names, others["probability"], lambda v: fmt_percent(v, 1, lang))
        set_alt(fig, _("Bar chart of the probability of child labour of the base child ({base}) "
                       "and under {n} scenarios that change one characteristic. Highest: {top}; "
                       "lowest: {bottom}.", lang).format(base=fmt_percent(base, 1, lang),
                                                         n=len(others), top=top, bottom=bottom))
    return _finish(fig, title, synthetic, lang)
