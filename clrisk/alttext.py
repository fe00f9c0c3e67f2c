"""Alt text for the chapter figures whose plotting functions do not store one.

Why a module of sentences: on the site every figure needs alt text that says what it shows
(screen readers, images that fail to load); the book's language check flags an ``<img alt>``
that is a file name. Most plotting functions store a data-driven sentence themselves
(:func:`clrisk.plots.set_alt`); for the others the chapter builds it here from the same data it
plotted, so the sentence stays true for every country and language, and chapters stay thin.
Every sentence is translated (catalog domain ``alttext``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clrisk.i18n import _
from clrisk.tables import fmt_int, fmt_number, fmt_percent


def _label(profile: Any | None, name: str, lang: str | None) -> str:
    return profile.label(name, lang) if profile is not None else str(name)


def _terms(table: pd.DataFrame) -> pd.DataFrame:
    """Coefficient rows with the covariate as ``term``, without the constant."""
    df = table.rename_axis("term").reset_index() if "term" not in table.columns else table
    return df[~df["term"].astype(str).isin(["const", "Intercept", "intercept"])]


def design_effects(table: pd.DataFrame, profile: Any | None = None,
                   lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_design_effects`."""
    df = _terms(table)
    ratio = (df["design_se"] / df["naive_se"]).to_numpy(dtype=float)
    hi, lo = int(np.nanargmax(ratio)), int(np.nanargmin(ratio))
    return _("Bar chart of the ratio of the design-based to the naive standard error for each "
             "of {n} characteristics (1 = the survey design changes nothing); from {lo_name} "
             "({lo}) to {hi_name} ({hi}).", lang).format(
        n=fmt_int(len(df), lang),
        hi_name=_label(profile, str(df["term"].iloc[hi]), lang), hi=fmt_number(ratio[hi], 2, lang),
        lo_name=_label(profile, str(df["term"].iloc[lo]), lang), lo=fmt_number(ratio[lo], 2, lang))


def territory_intervals(scored: pd.DataFrame, n: int = 25, lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_territory_intervals`."""
    df = scored.sort_values(["mean_probability", "territory_id"], ascending=[False, True]).head(n)
    name = df["name"] if "name" in df.columns else df["territory_id"]
    return _("Dot chart of the mean probability of child labour, with its 95% interval, of the "
             "{n} territories with the highest probability, from {first} ({p1}) down to {last} "
             "({p2}).", lang).format(
        n=fmt_int(len(df), lang), first=name.iloc[0],
        p1=fmt_percent(df["mean_probability"].iloc[0], 1, lang), last=name.iloc[-1],
        p2=fmt_percent(df["mean_probability"].iloc[-1], 1, lang))


def method_comparison(levels: pd.DataFrame, methods: Sequence[str], k: int,
                      lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_method_comparison`."""
    from clrisk.plots import METHOD_NAMES

    grid = np.vstack([levels[m].to_numpy(dtype=float) for m in methods])
    same = float(np.mean(np.all(grid == grid[0], axis=0)))
    return _("Grid of the risk level (1 to {k}) that each of {m} classification methods ({names}) "
             "gives to each of {n} territories, ordered from lowest to highest probability; the "
             "methods agree on {same} of the territories.", lang).format(
        k=k, m=len(methods), n=fmt_int(len(levels), lang),
        names=", ".join(_(METHOD_NAMES.get(x, x), lang) for x in methods),
        same=fmt_percent(same, 0, lang))


def p_top(classified: pd.DataFrame, n: int = 25, lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_p_top` (window around the top-level boundary)."""
    k = int(classified["risk_level"].max())
    shown = min(n, len(classified))
    uncertain = int(classified["p_top"].between(0.1, 0.9, inclusive="neither").sum())
    return _("Bar chart of the probability of being in the highest risk level for {n} "
             "territories around the boundary of that level; {top} of the {total} territories "
             "are in the highest level and {u} have a probability between 10% and 90%.",
             lang).format(n=fmt_int(shown, lang),
                          top=fmt_int(int((classified["risk_level"] == k).sum()), lang),
                          total=fmt_int(len(classified), lang), u=fmt_int(uncertain, lang))


def factor_weights(weights: pd.DataFrame, profile: Any | None = None,
                   lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.phase1.factors_report.plot_weights`."""
    df = weights.sort_values("delta_pp", ascending=False)
    first = df.iloc[0]
    return _("Bar chart of the weight of each of {n} factors (fall of the mean probability "
             "of child labour, in percentage points) with its 95% interval, coloured by sector "
             "(protective factors hatched); the largest is {name} ({w} points).", lang).format(
        n=fmt_int(len(df), lang), name=_label(profile, str(first["factor"]), lang),
        w=fmt_number(first["delta_pp"], 1, lang))


def calibration(table: pd.DataFrame, lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_calibration`."""
    from clrisk.plots import _pick

    pred = _pick(table, "mean_predicted", "predicted", "mean_probability")
    obs = _pick(table, "observed", "observed_rate", "observed_mean")
    gap = float((table[obs] - table[pred]).abs().max())
    return _("Line chart of the observed rate of child labour against the mean predicted "
             "probability in {n} groups of children, with the diagonal of perfect calibration; "
             "the largest gap is {gap} points.", lang).format(
        n=fmt_int(len(table), lang), gap=fmt_number(100 * gap, 1, lang))


def regional_validation(table: pd.DataFrame, lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_regional_validation`."""
    from clrisk.plots import _pick

    model = _pick(table, "model_rate", "model_based", "model")
    direct = _pick(table, "direct_rate", "direct", "direct_estimate")
    lo, hi = _pick(table, "direct_ci_low", "ci_low"), _pick(table, "direct_ci_high", "ci_high")
    df = table.dropna(subset=[direct, model])
    inside = int(df[model].between(df[lo], df[hi]).sum())
    return _("Chart comparing, for each of {n} regions, the model-based rate of child labour "
             "with the survey's direct estimate and its 95% interval; the model-based rate is "
             "inside the interval in {k} of the {n} regions.", lang).format(
        n=fmt_int(len(df), lang), k=fmt_int(inside, lang))


def ivti_contributions(contributions: pd.DataFrame, n: int = 20,
                       lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.plots.plot_ivti_contributions`."""
    from clrisk.plots import DIMENSION_NAMES

    comps = [c for c in contributions.columns if c not in ("territory_id", "name")]
    total = contributions[comps].sum(axis=1)
    df = contributions.assign(_total=total).sort_values(["_total", "territory_id"],
                                                        ascending=[False, True])
    first = df.iloc[0]
    name = first["name"] if "name" in df.columns else first["territory_id"]
    return _("Stacked bar chart of the vulnerability index (IVTI) of the {n} most vulnerable "
             "territories, split into its {m} components ({names}); the highest is {first} "
             "({v}).", lang).format(
        n=fmt_int(min(n, len(df)), lang), m=len(comps), first=name,
        names=", ".join(_(DIMENSION_NAMES[c], lang) if c in DIMENSION_NAMES else c
                        for c in comps),
        v=fmt_number(first["_total"], 2, lang))


def level_map_file(levels: pd.Series, lang: str | None = None, ivti: bool = False) -> str:
    """Alt text of the level map a run writes as a PNG (``map_risk_level.png``, or
    ``map_ivti_level.png`` with ``ivti``): ``levels`` is the level of each territory (1 = lowest)."""
    from clrisk.tables import level_names

    counts = levels.dropna().astype(int).value_counts().sort_index()
    labels = level_names(int(levels.max()), lang)
    parts = "; ".join(f"{labels[int(i) - 1]}: {fmt_int(v, lang)}" for i, v in counts.items())
    text = (_("Map of the {n} territories coloured by vulnerability level (IVTI) ({parts}).", lang)
            if ivti else _("Map of the {n} territories coloured by risk level ({parts}).", lang))
    return text.format(n=fmt_int(int(counts.sum()), lang), parts=parts)


def profile_panel(facts: Mapping[str, Any], comparison: pd.DataFrame, factors: pd.DataFrame,
                  risk: pd.DataFrame, lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.phase2.plots.profile_panel` (its factor panel shows the risk
    factors only)."""
    from clrisk.phase2.characterisation import split_by_role

    top = split_by_role(factors)[0].sort_values("rank")
    first = str(top["label"].iloc[0]) if len(top) else "—"
    scores = risk["risk_score"].dropna()
    above = int((scores > float(facts["risk_score"])).sum())
    if facts.get("source", "risk_model") != "risk_model":  # IVTI route: an index, indicators
        text = _("Four panels on {name}: its location on the map; its vulnerability index "
                 "(IVTI) compared with its region and the country; the indicators that weigh "
                 "most, {first} first; and its position among all {n} territories ({above} have "
                 "a higher index).", lang)
    else:
        text = _("Four panels on {name}: its location on the map; its risk compared with its "
                 "region and the country; its main risk factors, {first} first; and its "
                 "position among all {n} territories ({above} have a higher risk).", lang)
    return text.format(
        name=facts["name"], first=first, n=fmt_int(len(scores), lang),
        above=fmt_int(above, lang))


def atlas(summaries: Mapping[str, Mapping[str, Any]], lang: str | None = None) -> str:
    """Alt text of :func:`clrisk.atlas.atlas_figure` (country names from the sample profiles)."""
    from clrisk.atlas import SAMPLES
    from clrisk.profile import load_profile

    names = {k: load_profile(SAMPLES / k / "profile.yaml").name(lang or "en") for k in summaries}
    ivti = [names[k] for k, s in summaries.items() if s.get("route") == "ivti"]
    model = [names[k] for k, s in summaries.items() if s.get("route") != "ivti"]
    text = _("{n} maps of the sample countries, each territory coloured by the rank of its risk "
             "level within its country, from lightest (lowest level) to darkest (top level). "
             "Classified by the model: {model}.", lang).format(
        n=fmt_int(len(summaries), lang), model=", ".join(model))
    if ivti:
        text += " " + _("Classified by the vulnerability index (IVTI), hatched: {ivti}.",
                        lang).format(ivti=", ".join(ivti))
    return text
