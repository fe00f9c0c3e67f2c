"""Display tables and numbers for the reader, in the reader's language.

Why a separate module: result tables from the estimators keep canonical column names and raw
floats (so they can be tested and written to CSV); what a reader sees in the manual is another
thing — translated column headers, numbers formatted the way a Spanish or French reader writes
them (``12,3 %``, ``1 234``), and percentages instead of proportions. Keeping that here means
the estimators never format and the chapters never hand-format.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from clrisk.i18n import _, country_forms, format_number, format_percent, get_language


def _lang(lang: str | None) -> str:
    return lang or get_language()


def _missing(x: Any) -> bool:
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)
    except (TypeError, ValueError):
        return False


def fmt_number(x: Any, digits: int = 1, lang: str | None = None) -> str:
    """A number with ``digits`` decimals and the locale's separators ("—" when missing)."""
    if _missing(x):
        return "—"
    return format_number(float(x), digits, _lang(lang))


def fmt_int(x: Any, lang: str | None = None) -> str:
    """A count rounded to a whole number, with the locale's thousands separator."""
    if _missing(x):
        return "—"
    return fmt_number(round(float(x)), 0, lang)


def fmt_percent(x: Any, digits: int = 1, lang: str | None = None) -> str:
    """A proportion (0.123) as a percentage in the locale's style ("12.3%", "12,3 %")."""
    if _missing(x):
        return "—"
    return format_percent(float(x), digits, _lang(lang))


def fmt_pvalue(x: Any, lang: str | None = None) -> str:
    """A p-value as a reader should see it: "< 0.001" below one in a thousand, never "0.000"
    (a p-value is never zero; printing it so invites "the effect is certain")."""
    if _missing(x):
        return "—"
    p = float(x)
    if p < 0.001:
        return "< " + fmt_number(0.001, 3, lang)
    return fmt_number(p, 3, lang)


def fmt_pp(x: Any, digits: int = 1, lang: str | None = None) -> str:
    """A difference of proportions in percentage points (0.021 -> "2.1 pp")."""
    if _missing(x):
        return "—"
    return f"{fmt_number(float(x) * 100.0, digits, lang)} {_('pp')}"


# Canonical result columns -> English header (translated at display time).
COLUMN_LABELS: dict[str, str] = {
    "territory_id": "Code",
    "name": "Name",
    "region_id": "Region",
    "children": "Children",
    "mean_probability": "Mean probability",
    "expected_children": "Expected children in child labour",
    "ci_low": "95% CI (low)",
    "ci_high": "95% CI (high)",
    "se": "Standard error",
    "risk_level": "Risk level",
    "risk_label": "Risk level",
    "p_top": "P(high risk)",
    "odds_ratio": "Odds ratio",
    "ame": "Marginal effect",
    "coefficient": "Coefficient",
    "ivti": "Vulnerability index (IVTI)",
    "factor": "Factor",
    "sector": "Sector",
    "share": "Share",
    "reduction": "Reduction",
}


def display_table(df: pd.DataFrame, columns: Mapping[str, str] | list[str],
                  formats: Mapping[str, str | Callable[[Any], str]] | None = None,
                  lang: str | None = None) -> pd.DataFrame:
    """Select, format and rename columns for display.

    ``columns``: list of canonical names (headers from COLUMN_LABELS) or a mapping
    canonical name -> English header. ``formats``: per column one of "int", "pct", "pp",
    "num1", "num2", "num3", "pvalue" or a callable (a p-value column — ``p_value`` or the
    translated "p-value" — is always shown with :func:`fmt_pvalue`). Headers and cell text are in ``lang``.
    """
    lang = _lang(lang)
    if not isinstance(columns, Mapping):
        columns = {c: COLUMN_LABELS.get(c, c) for c in columns}
    formats = dict(formats or {})
    out = pd.DataFrame(index=df.index)
    for col, header in columns.items():
        if col not in df.columns:
            continue
        fmt = formats.get(col)
        series = df[col]
        if col in ("p_value", _("p-value", lang)) and fmt is not None:
            fmt = "pvalue"  # p-values always print as "< 0.001", never "0.000"
        if fmt is None:
            values = series.astype(object)
        elif callable(fmt):
            values = series.map(fmt)
        elif fmt == "int":
            values = series.map(lambda v: fmt_int(v, lang))
        elif fmt == "pct":
            values = series.map(lambda v: fmt_percent(v, 1, lang))
        elif fmt == "pvalue":
            values = series.map(lambda v: fmt_pvalue(v, lang))
        elif fmt == "pp":
            values = series.map(lambda v: fmt_pp(v, 1, lang))
        elif fmt.startswith("num"):
            digits = int(fmt[3:] or 1)
            values = series.map(lambda v, d=digits: fmt_number(v, d, lang))
        else:
            raise ValueError(f"unknown format {fmt!r} for column {col!r}")
        out[_(header, lang)] = values.to_numpy()
    return out.reset_index(drop=True)


def to_html(df: pd.DataFrame, compact: bool = False) -> str:
    """Plain HTML table without the index (renders the same in Jupyter and on the site);
    ``compact``: smaller type and padding (book/_static/clrisk.css), for a table of many
    columns that would otherwise need sideways scrolling at a laptop's width."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in rec)
        rows.append(f"<tr>{cells}</tr>")
    cls = "clrisk-table clrisk-compact" if compact else "clrisk-table"
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def show(df: pd.DataFrame, compact: bool = False) -> None:
    """Display a display table as HTML in the notebook (works inside ``if`` blocks, where a
    bare expression would not be shown). IPython is imported here: the CLI never needs it."""
    from IPython.display import HTML, display

    display(HTML(to_html(df, compact)))


def level_names(k: int, lang: str | None = None) -> list[str]:
    """Names of ``k`` ordered risk levels, low -> high, in ``lang`` (the same names as
    ``clrisk.phase1.classify.level_labels``, so legends match the ``risk_label`` column)."""
    names = {
        2: ["Low", "High"],
        3: ["Low", "Medium", "High"],
        4: ["Low", "Medium-low", "Medium-high", "High"],
        5: ["Very low", "Low", "Medium", "High", "Very high"],
    }.get(k)
    if names is None:
        return [_("Level {n}", lang).format(n=i) for i in range(1, k + 1)]
    return [_(n, lang) for n in names]


# --- page notes -------------------------------------------------------------------------------
# HTML, not MyST directives: myst-nb renders computed markdown outputs as plain CommonMark by
# default, whereas an admonition ``<div>`` looks the same in Jupyter and on the site.
def admonition(kind: str, title: str, text: str) -> str:
    """HTML admonition (``kind``: note, warning, tip) styled by the book theme."""
    return (f'<div class="admonition {kind}"><p class="admonition-title">{html.escape(title)}'
            f"</p><p>{html.escape(text)}</p></div>")
def synthetic_note(profile: Any, lang: str | None = None) -> str:
    """HTML admonition saying the data on the page are synthetic (empty when they are not).

    The country enters the sentence as a phrase ("of Peru" / "du Pérou", "in Peru" / "au
    Pérou") from :func:`clrisk.i18n.country_forms`, so each language gets its articles right.
    """
    lang = _lang(lang)
    if not getattr(profile, "synthetic", False):
        return ""
    text = _("The data on this page are synthetic: generated by clrisk.synth to resemble the "
             "structure {of_country}. The numbers, maps and rankings illustrate the method and "
             "say nothing about child labour {in_country}.", lang).format(
        **country_forms(profile, lang))
    return admonition("warning", _("Synthetic data", lang), text)


# --- effects in words ----------------------------------------------------------------------
def interval_includes_no_effect(low: float, high: float, null: float = 1.0) -> bool:
    """True when a confidence interval contains the "no effect" value (1 for an odds ratio,
    0 for a difference): the data then cannot tell the effect from no effect."""
    return float(low) <= null <= float(high)


def effect_sentence(odds_ratio: float, low: float, high: float, lang: str | None = None, *,
                    label: str | None = None, binary: bool = True,
                    ame: float | None = None, ame_low: float | None = None,
                    ame_high: float | None = None) -> str:
    """One Markdown sentence that states an odds ratio the way its interval allows.

    Why by code: a sentence written by hand ("the odds are 1.3 times as high") stays flat
    when the data change and the interval comes to include 1. Here the wording follows the
    interval: when it includes 1 (or the marginal effect's interval includes 0) the sentence
    says the data cannot distinguish the characteristic from no effect.
    ``label`` prefixes "**label** (yes rather than no / one unit more): "; ``ame`` (a
    proportion, e.g. 0.04) adds the average marginal effect in percentage points.
    """
    lang = _lang(lang)
    or_, lo, hi = (fmt_number(v, 2, lang) for v in (odds_ratio, low, high))
    unclear = interval_includes_no_effect(low, high)
    if ame is not None and ame_low is not None and ame_high is not None:
        unclear = unclear or interval_includes_no_effect(ame_low, ame_high, 0.0)
    if unclear:
        body = _("the data cannot distinguish this characteristic from no effect: odds ratio "
                 "{or_}, 95% interval {lo} to {hi}, which includes 1.", lang)
    elif odds_ratio >= 1:
        body = _("the odds of child labour are {or_} times as high (95% interval {lo} to {hi}).",
                 lang)
    else:
        body = _("the odds of child labour are {pct} lower (odds ratio {or_}, 95% interval {lo} "
                 "to {hi}).", lang)
    body = body.format(or_=or_, lo=lo, hi=hi, pct=fmt_percent(1 - odds_ratio, 0, lang))
    if ame is not None:
        pp = fmt_number(abs(ame) * 100, 1, lang)
        if unclear:
            extra = _("The average marginal effect, {ame} percentage points, is equally "
                      "uncertain.", lang).format(ame=fmt_number(ame * 100, 1, lang))
        elif ame >= 0:
            extra = _("On average the probability is {ame} percentage points higher.",
                      lang).format(ame=pp)
        else:
            extra = _("On average the probability is {ame} percentage points lower.",
                      lang).format(ame=pp)
        body = f"{body} {extra}"
    if label is None:
        return body[:1].upper() + body[1:]
    contrast = _("yes rather than no", lang) if binary else _("one unit more", lang)
    return _("**{label}** ({contrast}): {body}", lang).format(label=label, contrast=contrast,
                                                             body=body)


def not_applicable_note(profile: Any, lang: str | None = None) -> str:
    """HTML note for countries without survey + census (IVTI-only instruments)."""
    lang = _lang(lang)
    text = _("{country} has no household survey with a child-labour module paired with a "
             "census in its profile (instruments: {instruments}), so the risk model in this "
             "chapter does not apply. The country's territories are ranked with the "
             "vulnerability index instead: see chapter 9, the vulnerability-index route "
             "(IVTI).", lang).format(country=profile.name(lang),
                                      instruments=", ".join(profile.instruments))
    return admonition("note", _("This chapter does not apply to this country", lang), text)


def compare_covariates(survey: pd.DataFrame, census: pd.DataFrame, covariates: list[str],
                       weight: str | None = "weight", census_weight: str | None = None
                       ) -> pd.DataFrame:
    """Mean of each covariate in the survey (weighted by the expansion factors) and in the
    census, side by side: the harmonisation check. Under identical definitions and close dates
    the two should be near each other; a large gap points at a definition that differs.
    Columns: covariate, survey_mean, census_mean, difference."""
    w = survey[weight].to_numpy(dtype=float) if weight else None
    cw = census[census_weight].to_numpy(dtype=float) if census_weight else None
    rows = []
    for c in covariates:
        s = float(np.average(survey[c].to_numpy(dtype=float), weights=w))
        m = float(np.average(census[c].to_numpy(dtype=float), weights=cw))
        rows.append({"covariate": c, "survey_mean": s, "census_mean": m, "difference": m - s})
    return pd.DataFrame(rows, columns=["covariate", "survey_mean", "census_mean", "difference"])
