"""Step 3 — territorial characterisation: a one-page profile of the chosen territory.

Why a profile built from the Phase I tables plus a local-definitions worksheet: the Mexican
pilot's lesson is that the operational and legal definition of child labour used locally must be
written down (Tuxtla's target group covered economic activities and domestic work but not the
street children, about 20% of the children at stake), and that the model's numbers need context
— how the territory compares with its region and the country, and which factors weigh most.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _, get_language
from clrisk.phase2 import worksheets as ws

DEFINITION_KEYS = ("legal_definition", "operational_definition", "target_group")
OPTIONAL_KEYS = ("exclusions", "sources", "micro_areas")
MICRO_AREA_COLUMNS = ("micro_area_id", "locality_id", "ageb", "block_id", "sector_id")


def read_definitions(path: str | Path) -> dict[str, Any]:
    """Read ``local_definitions.yaml``: the local legal and operational definition of child
    labour and the target group (each a text, or a mapping ``{en: .., es: .., fr: ..}``);
    optional ``exclusions`` (who the definition leaves out), ``sources`` (list of texts)."""
    doc = ws.read_yaml(path)
    if not isinstance(doc, dict):
        raise data_error(path, "expected a mapping of keys", "write one 'key: text' per line "
                         f"with the keys {', '.join(DEFINITION_KEYS)}")
    out: dict[str, Any] = {}
    for key in DEFINITION_KEYS:
        if key not in doc or doc[key] in (None, "", {}):
            raise data_error(path, f"key '{key}' is missing or empty",
                             f"write '{key}: <text>' (a text or en/es/fr texts)")
    for key, value in doc.items():
        if key not in DEFINITION_KEYS + OPTIONAL_KEYS:
            raise data_error(path, f"unknown key '{key}'",
                             f"use only {', '.join(DEFINITION_KEYS + OPTIONAL_KEYS)}")
        if key == "sources":
            if value is None:
                value = []
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise data_error(path, "key 'sources' must be a list", "write one '- text' "
                                 "per source")
            out[key] = [str(v) for v in value]
        elif isinstance(value, dict):
            bad = [k for k in value if k not in ("en", "es", "fr")]
            if bad:
                raise data_error(path, f"key '{key}.{bad[0]}': unknown language",
                                 "use en, es or fr")
            out[key] = {str(k): str(v) for k, v in value.items()}
        elif value is None:
            out[key] = ""
        else:
            out[key] = str(value)
    return out


def localised(value: Any, lang: str | None = None) -> str:
    """Text of a definition entry in ``lang`` (falls back to English, then to any language)."""
    if isinstance(value, dict):
        lang = lang or get_language()
        return str(value.get(lang) or value.get("en") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def micro_area_column(columns: Iterable[str]) -> str | None:
    """The census column that identifies micro-areas below the territory, if any."""
    cols = set(columns)
    return next((c for c in MICRO_AREA_COLUMNS if c in cols), None)


def _aggregate(rows: pd.DataFrame) -> dict[str, float]:
    """Children-weighted mean risk (= Σ expected / Σ children) of a group of territories."""
    children = rows["children"].astype(float)
    if children.notna().all() and children.sum() > 0 and rows["expected_children"].notna().all():
        score = rows["expected_children"].sum() / children.sum()
    elif children.notna().all() and children.sum() > 0:
        score = float(np.average(rows["risk_score"], weights=children))
    else:
        score = float(rows["risk_score"].mean())
    return {"risk_score": float(score), "children": float(children.sum(min_count=1)),
            "expected_children": float(rows["expected_children"].sum(min_count=1))
            if "expected_children" in rows else np.nan,
            "n_territories": len(rows)}


def territory_facts(risk: pd.DataFrame, territory_id: str) -> dict[str, Any]:
    """Key numbers of one territory from the Phase II risk table.

    Keys: territory_id, name, region_id, children, risk_score, ci_low, ci_high, risk_level,
    risk_label, p_top, expected_children, ci_low_children, ci_high_children, rank, n_territories,
    source ('risk_model' or 'ivti').
    """
    tid = str(territory_id)
    ids = risk["territory_id"].astype(str)
    if tid not in set(ids):
        raise data_error(None, f"territory '{tid}' is not in the risk table",
                         "choose a territory_id of the country (as text, with leading zeros)",
                         column="territory_id")
    row = risk.loc[ids == tid].iloc[0]
    order = risk["risk_score"].rank(ascending=False, method="min")
    facts: dict[str, Any] = {k: row.get(k, np.nan) for k in (
        "name", "region_id", "region_name", "children", "risk_score", "ci_low", "ci_high", "risk_level",
        "risk_label", "p_top", "expected_children")}
    facts["territory_id"] = tid
    facts["region_id"] = str(facts["region_id"])
    if not isinstance(facts.get("region_name"), str):
        facts["region_name"] = facts["region_id"]
    children = _f(facts["children"])
    facts["ci_low_children"] = children * _f(facts["ci_low"])
    facts["ci_high_children"] = children * _f(facts["ci_high"])
    facts["rank"] = int(order[ids == tid].iloc[0])
    facts["n_territories"] = len(risk)
    facts["source"] = risk.attrs.get("source", "risk_model")
    return facts


def _f(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def comparison(risk: pd.DataFrame, territory_id: str) -> pd.DataFrame:
    """Territory vs its region vs the country: risk score, children, expected children.

    The region and country values are children-weighted (Σ expected / Σ children), i.e. the
    probability that a child drawn at random from that area is in child labour — not the plain
    mean of territory probabilities, which would over-weight small territories.
    """
    facts = territory_facts(risk, territory_id)
    region = risk[risk["region_id"].astype(str) == facts["region_id"]]
    rows = [
        {"area": "territory", "label": str(facts["name"]), "risk_score": _f(facts["risk_score"]),
         "ci_low": _f(facts["ci_low"]), "ci_high": _f(facts["ci_high"]),
         "children": _f(facts["children"]), "expected_children": _f(facts["expected_children"]),
         "n_territories": 1},
        {"area": "region", "label": _("Region {region}").format(region=facts["region_name"]),
         "ci_low": np.nan, "ci_high": np.nan, **_aggregate(region)},
        {"area": "country", "label": _("Country"), "ci_low": np.nan, "ci_high": np.nan,
         **_aggregate(risk)},
    ]
    return pd.DataFrame(rows)[["area", "label", "risk_score", "ci_low", "ci_high", "children",
                               "expected_children", "n_territories"]]


def top_factors(factors: pd.DataFrame, territory_id: str, n: int = 5) -> pd.DataFrame:
    """The territory's ``n`` highest-ranked modifiable factors (instrument 2).

    Markers (sex, age, ethnicity, rurality, female headship) are never returned: they describe
    who is at risk (:func:`who_is_at_risk`), not a risk a programme reduces."""
    from clrisk.schema import NON_MODIFIABLE

    sel = factors[factors["territory_id"].astype(str) == str(territory_id)]
    if "kind" in sel.columns:
        sel = sel[sel["kind"] == "modifiable"]
    if "role" in sel.columns:  # risk model: covariates; IVTI indicators are never markers
        sel = sel[~sel["factor"].isin(NON_MODIFIABLE)]
    sort = ["rank", "delta_pp"] if "delta_pp" in sel.columns else ["rank"]
    return sel.sort_values(sort, ascending=[True, False][:len(sort)]).head(n).reset_index(
        drop=True)


def split_by_role(factors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(risk factors, protective factors). A risk factor's reference lowers risk (e.g. no
    poverty); a protective factor's reference is full coverage (e.g. every household in a
    social programme), whose gain is reported as "gain from full coverage". Without the
    ``role`` column (IVTI indicators) every row is returned as the first table."""
    if "role" not in factors.columns:
        return factors, factors.iloc[0:0]
    prot = factors["role"] == "protective"
    return factors[~prot].reset_index(drop=True), factors[prot].reset_index(drop=True)


def who_is_at_risk(markers: pd.DataFrame | None, region_id: str) -> pd.DataFrame:
    """Markers of the territory's region next to the country: for each marker group, the
    predicted rate of child labour and the group's share of the expected children.

    Why region and country, not the territory: markers.csv is computed per region (the survey
    domain); it says who is at risk, which is what the target group needs, not a ranking."""
    cols = [_("Characteristic"), _("Group"), _("Rate in the region (%)"),
            _("Rate in the country (%)"), _("Share of expected children, region (%)")]
    if markers is None or markers.empty:
        return pd.DataFrame(columns=cols)
    nat = markers[markers["level"] == "national"]
    reg = markers[(markers["level"] == "region")
                  & (markers["region_id"].astype(str) == str(region_id))]
    m = nat.merge(reg, on=["marker", "group"], how="left", suffixes=("_nat", "_reg"))
    label = m["label_nat"] if "label_nat" in m.columns else m["marker"]
    return pd.DataFrame({
        cols[0]: label, cols[1]: m["group"].map(_group_label),
        cols[2]: (100 * m["rate_reg"]).round(1), cols[3]: (100 * m["rate_nat"]).round(1),
        cols[4]: (100 * m["share_of_expected_reg"]).round(1)})


def _group_label(group: Any) -> str:
    """``1``/``0`` of a yes–no marker as yes/no; ranges (``5–11``) as they are."""
    return {"1": _("yes"), "0": _("no")}.get(str(group), str(group))


def facts_table(facts: Mapping[str, Any]) -> pd.DataFrame:
    """Two-column table (indicator, value) with every number formatted and explained."""
    from clrisk.i18n import format_number as num
    from clrisk.i18n import format_percent as pct

    model = facts.get("source", "risk_model") == "risk_model"
    rows: list[tuple[str, str]] = [
        (_("Territory"), f"{facts['name']} ({facts['territory_id']})"),
        (_("Region"), f"{facts['region_name']} ({facts['region_id']})"),
    ]
    if np.isfinite(_f(facts.get("children"))):
        rows.append((_("Children in the age range"), num(_f(facts["children"]))))
    if model:
        rows += [
            (_("Predicted probability of child labour"),
             f"{pct(_f(facts['risk_score']))} ({_('95% CI')} {pct(_f(facts['ci_low']))}–"
             f"{pct(_f(facts['ci_high']))})"),
            (_("Expected children in child labour"),
             f"{num(_f(facts['expected_children']))} ({_('95% CI')} "
             f"{num(_f(facts['ci_low_children']))}–{num(_f(facts['ci_high_children']))})"),
        ]
    else:
        rows.append((_("Child labour vulnerability index (IVTI)"),
                     num(_f(facts["risk_score"]), 3)))
    rows.append((_("Risk level"), str(facts["risk_label"])))
    if np.isfinite(_f(facts.get("p_top"))):
        rows.append((_("Probability of being in the top level"), pct(_f(facts["p_top"]), 0)))
    rows.append((_("Rank in the country (1 = highest risk)"),
                 f"{facts['rank']} / {facts['n_territories']}"))
    return pd.DataFrame(rows, columns=[_("Indicator"), _("Value")])


def profile_markdown(facts: Mapping[str, Any], comp: pd.DataFrame, factors: pd.DataFrame,
                     definitions: Mapping[str, Any], micro_areas: str | None,
                     synthetic: bool = True, markers: pd.DataFrame | None = None) -> str:
    """The printable profile as MyST/markdown (sections: key figures, comparison, risk
    factors, protective factors, who is at risk, definitions, micro-areas)."""
    from clrisk.phase2.export import localised as local_numbers
    from clrisk.phase2.export import markdown_table

    model = facts.get("source", "risk_model") == "risk_model"
    lines = [f"## {_('Territorial profile: {name}').format(name=facts['name'])}", ""]
    if synthetic:
        lines += [f"*{_('Sample data: synthetic, for demonstration only.')}*", ""]
    lines += [f"### {_('Key figures')}", "", markdown_table(facts_table(facts)), ""]
    lines += [f"### {_('Comparison with the region and the country')}", "",
              markdown_table(local_numbers(comparison_table(comp, model))), ""]
    if model:
        risk_f, prot_f = split_by_role(factors)
        lines += [f"### {_('Risk factors to reduce')}", "",
                  _("Each weight is the factor's part of the fall in the probability of child "
                    "labour if every modifiable factor were at its protective reference; the "
                    "weights add up to that joint effect. Children represented = children in "
                    "the territory × weight. Factors with the same rank cannot be told apart "
                    "(their 95% intervals overlap too much)."), ""]
        lines += ([markdown_table(local_numbers(factor_table(risk_f, model)))] if len(risk_f)
                  else [_("No risk factor has a positive weight here.")]) + [""]
        lines += [f"### {_('Protective factors: gain from full coverage')}", ""]
        lines += ([markdown_table(local_numbers(factor_table(prot_f, model)))] if len(prot_f)
                  else [_("No protective factor has a positive weight here.")]) + [""]
        lines += [f"### {_('Who is at risk')}", "",
                  _("Characteristics such as sex, age, ethnicity, rurality or female headship "
                    "are markers: they say who is at risk, so that services reach them; they "
                    "are never a risk to reduce, a plan objective or a monitoring target."), ""]
        who = who_is_at_risk(markers, str(facts.get("region_id", "")))
        if len(who):
            lines += [markdown_table(local_numbers(who)), ""]
    else:
        lines += [f"### {_('Indicators that weigh most in the index')}", "",
                  markdown_table(local_numbers(factor_table(factors, model))), ""]
    lines += [f"### {_('Local definition of child labour')}", ""]
    for key, title in (("legal_definition", _("Legal definition")),
                       ("operational_definition", _("Operational definition")),
                       ("target_group", _("Target group")),
                       ("exclusions", _("Not covered"))):
        text = localised(definitions.get(key))
        if text:
            lines += [f"**{title}.** {text}", ""]
    if definitions.get("sources"):
        # The sample worksheet's sources are catalog msgids (English); a team's own texts
        # have no msgid and are shown as written.
        lines += [f"**{_('Sources')}.** " + "; ".join(_(s) for s in definitions["sources"]), ""]
    lines += [f"### {_('Micro-areas')}", ""]
    lines.append(_("The census identifies micro-areas in column '{column}'.").format(
        column=micro_areas) if micro_areas else
        _("The data have no identifier below the territory, so micro-areas cannot be "
          "characterised from them; use local records (e.g. school or health-centre "
          "catchment areas)."))
    return "\n".join(lines) + "\n"


def profile_html(markdown_text: str, standalone: bool = True) -> str:
    """A minimal, printable HTML page from the markdown profile (headings, tables, emphasis).

    ``standalone=False`` returns only the body fragment (to display inside a notebook page).
    """
    body: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if table:
            rows = [[c.strip() for c in r.strip().strip("|").split(" | ")]
                    for r in table if not r.startswith("| ---")]
            head, *rest = rows
            body.append('<table class="clrisk-table"><thead><tr>'
                        + "".join(f"<th>{html.escape(c)}</th>" for c in head)
                        + "</tr></thead><tbody>" + "".join(
                            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                            for r in rest) + "</tbody></table>")
            table.clear()

    for line in markdown_text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("### "):
            body.append(f"<h3>{html.escape(line[4:])}</h3>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.strip():
            text = html.escape(line)
            if text.startswith("**") and "**" in text[2:]:
                end = text.index("**", 2)
                text = f"<strong>{text[2:end]}</strong>{text[end + 2:]}"
            elif text.startswith("*") and text.endswith("*"):
                text = f"<em>{text[1:-1]}</em>"
            body.append(f"<p>{text}</p>")
    flush()
    if not standalone:
        return f'<div class="clrisk-profile">{"".join(body)}</div>'
    style = ("body{font-family:sans-serif;max-width:50em;margin:auto}"
             "table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #999;padding:.2em .5em;text-align:left}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>")


def comparison_table(comp: pd.DataFrame, model: bool = True) -> pd.DataFrame:
    if model:
        return pd.DataFrame({
            _("Area"): comp["label"],
            _("Probability of child labour (%)"): (100 * comp["risk_score"]).round(1),
            _("Children in the age range"): comp["children"].round(0),
            _("Expected children in child labour"): comp["expected_children"].round(0),
            _("Territories"): comp["n_territories"],
        })
    return pd.DataFrame({_("Area"): comp["label"],
                         _("Child labour vulnerability index (IVTI)"): comp["risk_score"].round(3),
                         _("Territories"): comp["n_territories"]})


def factor_table(factors: pd.DataFrame, model: bool = True) -> pd.DataFrame:
    """Display table of ranked factors; with instrument 2's columns: reference, weight with
    its 95% interval, children represented, P(ranked first); ties marked."""
    from clrisk.i18n import format_number as num
    from clrisk.phase2.liaison import sector_label

    rank = factors["rank"]
    if "tie" in factors.columns:
        rank = [_("{rank} (tie)").format(rank=int(r)) if t else str(int(r))
                for r, t in zip(factors["rank"], factors["tie"].astype(bool), strict=True)]
    out = pd.DataFrame({_("Rank"): rank, _("Factor"): factors["label"],
                        _("Sector"): factors["sector"].map(sector_label)})
    if model and "reference" in factors.columns:
        out[_("Protective reference")] = [num(float(v), 0 if float(v).is_integer() else 1)
                                          for v in factors["reference"]]
    if model:
        out[_("Weight (percentage points)")] = factors["delta_pp"].round(2)
        if "ci_low_pp" in factors.columns:
            out[_("95% interval")] = [f"{num(lo, 2)} – {num(hi, 2)}" for lo, hi in zip(
                factors["ci_low_pp"], factors["ci_high_pp"], strict=True)]
        out[_("Children represented")] = factors["children"].round(0)
        if "p_rank1" in factors.columns:
            out[_("Probability of ranking first (%)")] = (100 * factors["p_rank1"]).round(0)
    out[_("Share (%)")] = (100 * factors["share"]).round(1)
    return out
