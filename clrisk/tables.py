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

from clrisk.i18n import _, format_number, format_percent, get_language


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
    "num1", "num2", "num3" or a callable. Headers and cell text are in ``lang``.
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
        if fmt is None:
            values = series.astype(object)
        elif callable(fmt):
            values = series.map(fmt)
        elif fmt == "int":
            values = series.map(lambda v: fmt_int(v, lang))
        elif fmt == "pct":
            values = series.map(lambda v: fmt_percent(v, 1, lang))
        elif fmt == "pp":
            values = series.map(lambda v: fmt_pp(v, 1, lang))
        elif fmt.startswith("num"):
            digits = int(fmt[3:] or 1)
            values = series.map(lambda v, d=digits: fmt_number(v, d, lang))
        else:
            raise ValueError(f"unknown format {fmt!r} for column {col!r}")
        out[_(header, lang)] = values.to_numpy()
    return out.reset_index(drop=True)


def to_html(df: pd.DataFrame) -> str:
    """Plain HTML table without the index (renders the same in Jupyter and on the site)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in rec)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="clrisk-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def show(df: pd.DataFrame) -> None:
    """Display a display table as HTML in the notebook (works inside ``if`` blocks, where a
    bare expression would not be shown). IPython is imported here: the CLI never needs it."""
    from IPython.display import HTML, display

    display(HTML(to_html(df)))


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
    """HTML admonition saying the data on the page are synthetic (empty when they are not)."""
    lang = _lang(lang)
    if not getattr(profile, "synthetic", False):
        return ""
    text = _("The data for {country} on this page are synthetic: generated by clrisk.synth to "
             "resemble the country's structure. The numbers, maps and rankings illustrate the "
             "method and say nothing about child labour in {country}.", lang).format(
        country=profile.name(lang))
    return admonition("warning", _("Synthetic data", lang), text)


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
