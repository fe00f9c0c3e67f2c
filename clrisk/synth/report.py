"""The samples next to the published national figures they were calibrated to.

Why generated from the files: the synthetic-data page promises that a sample has the structure
of its country (territory count, national rate, design effect). The table is computed from the
committed ``data_samples/`` files, written into ``book/synthetic_data.md`` between markers by
``python -m clrisk.synth.report``, and a test recomputes it, so the page can never drift from
the data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from clrisk.synth.countries import COUNTRIES, COUNTRY_KEYS

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
PAGE = Path(__file__).resolve().parents[2] / "book" / "synthetic_data.md"
START, END = "<!-- samples-table:start -->", "<!-- samples-table:end -->"

# Published figures (shared/METHODOLOGY.md, "Published national results"; the counts).
PUBLISHED: dict[str, dict[str, str]] = {
    "argentina": {"units": "511 departments", "rate": "mean territory risk 6.54%"},
    "brazil": {"units": "5,570 municipalities", "rate": "—"},
    "chile": {"units": "345 communes", "rate": "—"},
    "colombia": {"units": "1,046–1,120 municipalities", "rate": "Chocó lowest department 1.3%"},
    "costa_rica": {"units": "81 cantons", "rate": "—"},
    "guatemala": {"units": "340 municipalities", "rate": "98 high / 132 medium / 110 low"},
    "jamaica": {"units": "14 parishes", "rate": "high: St Thomas, Portland, Trelawny"},
    "mexico": {"units": "2,246–2,450 municipalities", "rate": "—"},
    "peru": {"units": "about 1,870 districts", "rate": "—"},
}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def samples_table(samples: Path = SAMPLES) -> pd.DataFrame:
    """One row per country, computed from ``truth.json`` and the territory file."""
    rows = []
    for key in COUNTRY_KEYS:
        t = json.loads((samples / key / "truth.json").read_text(encoding="utf-8"))
        c = COUNTRIES[key]
        design, census = t.get("design") or {}, t.get("census") or {}
        prev = t["prevalence"]
        if census.get("kind") == "weighted sample":
            census_txt = f"{census['rows']} (sample, {census['households_per_territory']} hh)"
        elif census:
            census_txt = f"{census['rows']} (full count)"
        else:
            census_txt = "—"
        rows.append({
            "Country": c.names["en"],
            "Territories": str(len(t["territory_probability"])),
            "Published units": PUBLISHED[key]["units"],
            "Children (population)": str(t["population"]["children"]),
            "Prevalence": _pct(prev["population_mean_probability"]),
            "Mean territory risk": _pct(t["mean_territory_probability"]),
            "Published rates": PUBLISHED[key]["rate"],
            "Survey children": str(design.get("children", "—")),
            "Design effect": (f"{design['deff_prevalence']:.2f}" if design else "—"),
            "Census rows": census_txt,
        })
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A plain pipe table (each cell a catalog entry for the es/fr sites)."""
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in table.itertuples(index=False)]
    return "\n".join(lines)


def update_page(page: Path = PAGE, samples: Path = SAMPLES) -> bool:
    """Rewrite the table between the markers; returns True when the page changed."""
    text = page.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{markdown(samples_table(samples))}\n{END}{tail}"
    if new != text:
        page.write_text(new, encoding="utf-8")
    return new != text


def page_table(page: Path = PAGE) -> str:
    """The table currently on the page (between the markers)."""
    return page.read_text(encoding="utf-8").split(START, 1)[1].split(END, 1)[0].strip()


if __name__ == "__main__":
    changed = update_page()
    print(f"{PAGE}: {'updated' if changed else 'already current'}")
    sys.exit(0)
