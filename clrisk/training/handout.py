"""The facts a printed handout shows: levels, top factors per region, the three warnings.

Why in the package: the handout is read in rooms without internet, so it must say the same as
the book; computing its tables here (from the same ``TrainingData`` as the exercises) keeps the
printed numbers identical to the site's and testable. Layout and PDF printing live with the
book tooling (``scripts/build_handouts.py``).
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from clrisk.i18n import _
from clrisk.tables import fmt_int, fmt_percent
from clrisk.training.answers import (
    TrainingData,
    _model,
    factor_label,
    level_name,
    region_name,
)


def level_summary(td: TrainingData) -> pd.DataFrame:
    """One row per level (high first): territories, children and expected children."""
    rows = []
    for level in range(td.k, 0, -1):
        sub = td.risk[td.risk["risk_level"] == level]
        row = {_("Risk level"): level_name(td, level), _("Territories"): fmt_int(len(sub))}
        if _model(td):
            total = td.risk["expected_children"].sum()
            row[_("Expected children in child labour")] = fmt_int(sub["expected_children"].sum())
            row[_("Share of expected children")] = fmt_percent(
                sub["expected_children"].sum() / total, 0)
        rows.append(row)
    return pd.DataFrame(rows)


def region_factors(td: TrainingData, n: int = 2) -> pd.DataFrame:
    """Per region: territories in the highest level and the factors most often ranked 1..n."""
    fac = td.factors.merge(td.risk[["territory_id", "region_id"]], on="territory_id")
    rows = []
    for region in sorted(td.risk["region_id"].unique()):
        sub = fac[(fac["region_id"] == region) & (fac["rank"] <= n)]
        counts = sub.groupby("factor")["share"].sum().sort_values(ascending=False)
        top = [factor_label(td, f) for f in list(counts.index)[:n]]
        n_top = int(((td.risk["region_id"] == region) & (td.risk["risk_level"] == td.k)).sum())
        rows.append({_("Region"): region_name(td, region),
                     _("Territories in the highest level"): fmt_int(n_top),
                     _("Factors that weigh most"): "; ".join(top) or "—"})
    return pd.DataFrame(rows)


def warnings_text() -> list[tuple[str, str]]:
    """The three warnings (title, plain-words explanation)."""
    return [
        (_("It ranks structural risk"),
         _("A high level means the conditions that most often go with child labour are "
           "strongest there; it is a ranking of territories.")),
        (_("It does not count working children"),
         _("A high level is not a number of children: a small territory can be high and have "
           "few children.")),
        (_("It does not assign causes"),
         _("Markers such as rurality, sex or ethnicity say who is at risk; plans act on the "
           "conditions that can change.")),
    ]


def map_png(td: TrainingData, dpi: int = 150) -> bytes:
    """The map of risk levels as PNG bytes (the same map function as the chapters)."""
    from clrisk import maps

    gdf = maps.join_results(td.phase2.data.territories,
                            td.risk.drop(columns=["name", "region_id", "region_name"]))
    fig = maps.plot_territory_map(
        gdf, "risk_level", "level", lang=td.lang, k=td.k, crs=td.profile.projected_crs,
        synthetic=td.profile.synthetic,
        title=_("Risk level of child labour, {country}").format(
            country=td.profile.name(td.lang)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "clrisk"})
    return buf.getvalue()


def handout_facts(td: TrainingData) -> dict[str, Any]:
    """Everything the two-page handout and the exercise sheet print, in ``td.lang``."""
    from clrisk.training.answers import exercises

    country = td.profile.name(td.lang)
    return {
        "title": _("How to read {country}'s risk map").format(country=country),
        "country": country,
        "instrument": (_("Risk model (household survey projected onto the census)")
                       if _model(td) else _("Vulnerability index (IVTI, administrative records)")),
        "synthetic": bool(td.profile.synthetic),
        "levels": level_summary(td),
        # two factors per region while the table fits on one page, one beyond 15 regions
        "regions": region_factors(td, 2 if td.risk["region_id"].nunique() <= 15 else 1),
        "warnings": warnings_text(),
        "map_png": map_png(td),
        "exercises": [e for e in exercises(td) if e.level <= 3][:10],
    }
