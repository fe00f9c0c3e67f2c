"""Sentences that explain a fitted model's effects with the model's own numbers.

Why a module: the chapter on reading results used to teach with fixed examples ("an odds ratio
of 1.8 for poverty", "+4 points") that did not match the table printed next to them once the
data changed. The examples are now chosen from the fitted model (the strongest risk factor and
the strongest protective factor whose intervals exclude "no effect"), and every effect is worded
by :func:`clrisk.tables.effect_sentence`, so a result whose interval includes 1 is never stated
flatly. Markdown strings in, no display here: the chapter displays them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from clrisk.i18n import _, country_forms
from clrisk.tables import effect_sentence, fmt_number, fmt_percent
from clrisk.whatif import is_binary


def _effects(model: Any, survey: pd.DataFrame | None) -> pd.DataFrame:
    """Odds ratios and average marginal effects side by side, one row per covariate."""
    ors = model.odds_ratios().loc[list(model.covariates)]
    ames = model.marginal_effects()
    out = ors[["odds_ratio", "ci_low", "ci_high"]].copy()
    out["ame"] = ames["ame"]
    out["ame_low"] = ames["ci_low"]
    out["ame_high"] = ames["ci_high"]
    out["binary"] = [is_binary(c, survey) for c in out.index]
    return out


def teaching_examples(model: Any, survey: pd.DataFrame | None, profile: Any,
                      lang: str | None = None) -> str:
    """Two worked examples of reading an odds ratio, taken from the fitted model.

    The risk example is the yes/no characteristic with the largest odds ratio whose interval
    lies above 1; the protective one, the smallest whose interval lies below 1. A missing
    example is said so rather than invented.
    """
    eff = _effects(model, survey)
    binary = eff[eff["binary"]]
    risk = binary[binary["ci_low"] > 1.0]
    protect = binary[binary["ci_high"] < 1.0]
    lines = [_("In the model {of_country}, for example:", lang).format(
        **country_forms(profile, lang))]
    if not risk.empty:
        c = risk["odds_ratio"].idxmax()
        r = risk.loc[c]
        lines.append("* " + _(
            "the odds ratio of **{label}** is **{or_}**: among children who are alike in "
            "everything else the model includes, the odds of child labour of a child with this "
            "characteristic are {or_} times those of a child without it — {pct} higher (95% "
            "interval {lo} to {hi});", lang).format(
            label=profile.label(c, lang), or_=fmt_number(r["odds_ratio"], 2, lang),
            pct=fmt_percent(r["odds_ratio"] - 1.0, 0, lang),
            lo=fmt_number(r["ci_low"], 2, lang), hi=fmt_number(r["ci_high"], 2, lang)))
    if not protect.empty:
        c = protect["odds_ratio"].idxmin()
        r = protect.loc[c]
        lines.append("* " + _(
            "the odds ratio of **{label}** is **{or_}**: the odds of child labour are {pct} "
            "lower for a child with this characteristic (95% interval {lo} to {hi}).",
            lang).format(
            label=profile.label(c, lang), or_=fmt_number(r["odds_ratio"], 2, lang),
            pct=fmt_percent(1.0 - r["odds_ratio"], 0, lang),
            lo=fmt_number(r["ci_low"], 2, lang), hi=fmt_number(r["ci_high"], 2, lang)))
    if len(lines) == 1:
        return _("No yes/no characteristic of this model has a 95% interval that excludes 1, "
                 "so the data give no clear example here.", lang)
    return "\n".join(lines)


def ame_example(model: Any, survey: pd.DataFrame | None, profile: Any,
                lang: str | None = None) -> str:
    """One worked example of an average marginal effect: the yes/no characteristic with the
    largest effect whose interval excludes 0."""
    eff = _effects(model, survey)
    clear = eff[eff["binary"] & ((eff["ame_low"] > 0) | (eff["ame_high"] < 0))]
    if clear.empty:
        return _("No yes/no characteristic of this model has a marginal effect whose 95% "
                 "interval excludes 0.", lang)
    c = clear["ame"].abs().idxmax()
    r = clear.loc[c]
    if r["ame"] >= 0:
        text = _("For example, the average marginal effect of **{label}** is **{ame} percentage "
                 "points**: if we compare each child with the same child with this "
                 "characteristic, the probability of child labour is on average {ame} points "
                 "higher (95% interval {lo} to {hi} points).", lang)
    else:
        text = _("For example, the average marginal effect of **{label}** is **−{ame} "
                 "percentage points**: if we compare each child with the same child with this "
                 "characteristic, the probability of child labour is on average {ame} points "
                 "lower (95% interval {lo} to {hi} points).", lang)
    low, high = sorted((abs(r["ame_low"]), abs(r["ame_high"])))  # magnitudes: "lower" says -
    return text.format(label=profile.label(c, lang), ame=fmt_number(abs(r["ame"]) * 100, 1, lang),
                       lo=fmt_number(low * 100, 1, lang), hi=fmt_number(high * 100, 1, lang))


def effect_list(model: Any, survey: pd.DataFrame | None, profile: Any,
                lang: str | None = None) -> str:
    """Every characteristic in one sentence, strongest marginal effect first, each worded by
    its interval (:func:`clrisk.tables.effect_sentence`)."""
    eff = _effects(model, survey)
    order = eff["ame"].abs().sort_values(ascending=False).index
    lines = []
    for c in order:
        r = eff.loc[c]
        lines.append("* " + effect_sentence(
            float(r["odds_ratio"]), float(r["ci_low"]), float(r["ci_high"]), lang,
            label=profile.label(c, lang), binary=bool(r["binary"]), ame=float(r["ame"]),
            ame_low=float(r["ame_low"]), ame_high=float(r["ame_high"])))
    return "\n".join(lines)
