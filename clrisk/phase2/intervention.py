"""Step 5 — intervention design: objectives, target population, action lines, costs, monitoring.

Why costs and beneficiaries come from a worksheet: the unit cost of a household visit or a school
grant is local knowledge, and the Mexican pilot designed its intervention with the resources
already available, refocused on child labour. The model supplies the demand (children
attributable to each factor, instrument 2) and step 4 the existing supply (service capacity);
the team supplies what each action line costs per beneficiary. When a team leaves
``beneficiaries`` blank, the action line is sized to the unmet demand (attributable children not
yet reached by existing services), so the default plan closes the gaps found in step 4.

Units (issue 13): an action line is costed per *its* unit (a child, a household, an adult, a
workplace). The children an action must reach are the children on the risk side of its factor
(instrument 2's ``children_moved``: poor children for a cash transfer, children whose household
head has less schooling than the reference for adult education); they are converted to the
line's unit with a stated number of children per unit (``children_per_unit`` in the worksheet,
else a default per kind of unit), so a household programme is never sized in children and an
adults' programme is never "covered" by a children's service counted in another unit.
Only modifiable factors can be planned: a marker (sex, age, ethnicity, rurality, female
headship) is rejected with a message saying it describes who is at risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase2 import export
from clrisk.phase2 import worksheets as ws
from clrisk.schema import SECTORS

ACTION_COLUMNS = ("factor", "action_line", "sector", "institution", "unit_cost", "unit",
                  "beneficiaries")
MONITORING_COLUMNS = ("indicator", "factor", "baseline", "target", "unit", "frequency",
                      "source", "responsible")
# Children aged 5–17 per unit of an action, when the worksheet does not state it. Households
# and adults: about 1.8 children of the age range per household with children (one head per
# household); workplaces: a labour-inspection visit reaches about 3 children.
CHILDREN_PER_UNIT = {"child": 1.0, "household": 1.8, "adult": 1.8, "workplace": 3.0}
UNIT_WORDS = {
    "child": ("child", "niñ", "nin", "enfant", "adolesc", "student", "alumn", "élève", "pupil",
              "estudiant"),
    "household": ("household", "hogar", "ménage", "menage", "famil"),
    "adult": ("adult", "parent", "padre", "madre", "head", "jefe", "chef", "worker",
              "trabajador", "travailleu", "person", "persona"),
    "workplace": ("workplace", "workshop", "farm", "firm", "business", "empresa", "taller",
                  "finca", "establec", "entreprise", "exploitation", "atelier", "visit"),
}


def unit_kind(unit: str) -> str:
    """``child``, ``household``, ``adult`` or ``workplace`` from the worksheet's unit text (en,
    es, fr words); a blank unit is a child (the model's unit)."""
    text = str(unit or "").lower()
    if not text.strip():
        return "child"
    for kind in ("workplace", "household", "adult", "child"):
        if any(w in text for w in UNIT_WORDS[kind]):
            return kind
    return "child"


def _marker_message(names: Iterable[str]) -> str:
    """The fix for a worksheet that names a marker where a factor is expected."""
    from clrisk.schema import NON_MODIFIABLE

    bad = [n for n in names if n in NON_MODIFIABLE]
    if not bad:
        return ""
    return _("'{name}' is a marker: it describes who is at risk (reach these children through "
             "the target population), it is not a risk a programme reduces, so it cannot be an "
             "objective, an action line's factor or a monitoring target").format(name=bad[0])


def read_action_lines(path: str | Path, factors: Iterable[str]) -> pd.DataFrame:
    """Read ``action_lines.csv``.

    Columns: ``factor`` (a factor name of instrument 2, e.g. ``school_attendance``);
    ``action_line`` (what is done); ``sector`` (education / social_protection / labour / health);
    ``institution`` (who does it); ``unit_cost`` (cost per beneficiary, local currency, ≥ 0);
    ``unit`` (what a beneficiary is, e.g. "child per year"); ``beneficiaries`` (number, or blank to
    size the line to the unmet demand); optional ``priority`` (1 = first; blank = factor rank).
    """
    df = ws.read_table(path, ACTION_COLUMNS)
    if df.empty:
        raise data_error(path, "no action lines", "add at least one action line")
    known = sorted(set(factors))
    bad = ~df["factor"].str.lower().isin(known)
    if bad.any():
        marker = _marker_message(df.loc[bad, "factor"].str.lower())
        raise data_error(path, "unknown factor(s) "
                         + ", ".join(repr(v) for v in df.loc[bad, "factor"].head(3)),
                         (marker + "; " if marker else "")
                         + f"use one of the factor names: {', '.join(known)}", column="factor",
                         rows=ws.rows_where(bad))
    blank = df["action_line"] == ""
    if blank.any():
        raise data_error(path, "empty action line", "describe the action", column="action_line",
                         rows=ws.rows_where(blank))
    out = pd.DataFrame({"factor": df["factor"].str.lower(), "action_line": df["action_line"]})
    out["sector"] = ws.choice_column(df, "sector", path, SECTORS)
    out["institution"] = df["institution"]
    out["unit_cost"] = ws.numeric_column(df, "unit_cost", path, minimum=0)
    out["unit"] = df["unit"]
    out["beneficiaries"] = ws.numeric_column(df, "beneficiaries", path, minimum=0,
                                             allow_blank=True)
    out["priority"] = (ws.numeric_column(df, "priority", path, minimum=1, integer=True,
                                         allow_blank=True) if "priority" in df.columns
                       else np.nan)
    out["children_per_unit"] = (ws.numeric_column(df, "children_per_unit", path, minimum=0,
                                                  allow_blank=True)
                                if "children_per_unit" in df.columns else np.nan)
    return out


def read_monitoring(path: str | Path, factors: Iterable[str]) -> pd.DataFrame:
    """Read ``monitoring.csv``.

    ``baseline``: a number, or ``auto`` (filled from the model: the territory's expected children
    in child labour when ``factor`` is blank, the children attributable to the factor otherwise).
    ``target``: a number, or a relative change such as ``-20%`` of the baseline.
    """
    df = ws.read_table(path, MONITORING_COLUMNS)
    known = set(factors)
    bad = ~(df["factor"].str.lower().isin(known) | (df["factor"] == ""))
    if bad.any():
        marker = _marker_message(df.loc[bad, "factor"].str.lower())
        raise data_error(path, "unknown factor(s) "
                         + ", ".join(repr(v) for v in df.loc[bad, "factor"].head(3)),
                         (marker + "; " if marker else "")
                         + f"leave blank or use one of: {', '.join(sorted(known))}",
                         column="factor", rows=ws.rows_where(bad))
    blank = df["indicator"] == ""
    if blank.any():
        raise data_error(path, "empty indicator name", "name each indicator",
                         column="indicator", rows=ws.rows_where(blank))
    base = df["baseline"].str.lower()
    auto = base == "auto"
    numbers = ws.numeric_column(df.assign(baseline=df["baseline"].where(~auto, "0")), "baseline",
                                path, fix="write a number or 'auto' (filled from the model)")
    target_raw = df["target"].str.replace(" ", "", regex=False)
    pct = target_raw.str.endswith("%")
    target_num = ws.numeric_column(df.assign(target=target_raw.str.rstrip("%")), "target", path,
                                   fix="write a number or a relative change such as -20%")
    out = df[["indicator", "unit", "frequency", "source", "responsible"]].copy()
    out.insert(1, "factor", df["factor"].str.lower())
    out["baseline_auto"] = auto
    out["baseline"] = numbers.where(~auto, np.nan)
    out["target_relative"] = pct
    out["target_value"] = target_num
    return out


@dataclass
class InterventionPlan:
    """The designed intervention: each table is ready for display and export."""

    territory_id: str
    name: str
    objectives: pd.DataFrame
    target_population: pd.DataFrame
    action_lines: pd.DataFrame
    capacity: pd.DataFrame
    monitoring: pd.DataFrame
    total_cost: float

    def tables(self) -> dict[str, pd.DataFrame]:
        """Translated display tables keyed by (translated) sheet title."""
        return {
            _("Objectives"): self.objectives,
            _("Target population"): self.target_population,
            _("Action lines"): action_lines_table(self.action_lines),
            _("Supply and demand"): self.capacity,
            _("Monitoring"): monitoring_table(self.monitoring),
        }


def cost_action_lines(actions: pd.DataFrame, coverage: pd.DataFrame,
                      need: Mapping[str, float] | None = None,
                      roles: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Join action lines to the territory's factor coverage and cost them.

    ``coverage`` is step 4's :func:`clrisk.phase2.services.factor_coverage` for the territory.
    ``need`` maps a factor to the children on its risk side in the territory (instrument 2's
    ``children_moved``, who the action must reach); without it the children represented are
    used. ``roles`` maps a factor to ``risk`` or ``protective``.
    Adds ``label, rank, share, demand`` (children represented), ``need_children``,
    ``unit_kind``, ``children_per_unit`` (team's, else the default of the kind of unit),
    ``need_units`` (need in the line's unit), ``supply`` (existing capacity, in the line's
    unit), ``unmet`` (in the line's unit), ``beneficiaries`` (team's, else the unmet need
    shared among the factor's lines of the same kind of unit), ``beneficiaries_source``,
    ``cost``, ``priority`` and ``role``; sorted by priority. Lines whose factor has no
    positive weight in the territory get demand 0 (``in_territory`` False).
    """
    cov = coverage.set_index("factor")
    out = actions.copy()
    if "children_per_unit" not in out.columns:
        out["children_per_unit"] = np.nan
    # A line for a factor with no positive weight in this territory is kept (the team may have
    # reasons) but the model gives it no demand: it ranks last and is sized 0 unless the team
    # writes its own beneficiaries.
    out["in_territory"] = out["factor"].isin(cov.index)
    extra = sorted(set(out.loc[~out["in_territory"], "factor"]))
    if extra:
        last = int(cov["rank"].max()) + 1 if len(cov) else 1
        filler = pd.DataFrame({"label": extra, "rank": last, "share": 0.0, "children": 0.0,
                               "capacity": 0.0, "unmet": 0.0}, index=pd.Index(extra))
        cov = pd.concat([cov, filler])
    out["label"] = out["factor"].map(cov["label"])
    out["rank"] = out["factor"].map(cov["rank"]).astype(int)
    out["share"] = out["factor"].map(cov["share"])
    out["demand"] = out["factor"].map(cov["children"])
    out["role"] = out["factor"].map(lambda f: (roles or {}).get(f, "risk"))
    if need is not None:
        need_children = out["factor"].map(lambda f: float(need.get(f, np.nan)))
        need_children = need_children.where(out["in_territory"], 0.0)
    else:
        need_children = out["demand"]
    out["need_children"] = need_children
    out["unit_kind"] = out["unit"].map(unit_kind)
    out["children_per_unit"] = out["children_per_unit"].where(
        out["children_per_unit"] > 0, out["unit_kind"].map(CHILDREN_PER_UNIT))
    out["need_units"] = out["need_children"] / out["children_per_unit"]
    out["supply"] = out["factor"].map(cov["capacity"]).fillna(0.0)
    out["unmet"] = (out["need_units"] - out["supply"]).clip(lower=0)
    n_lines = out.groupby(["factor", "unit_kind"])["factor"].transform("size")
    auto = out["beneficiaries"].isna()
    no_estimate = auto & out["unmet"].isna()
    if no_estimate.any():
        raise data_error("action_lines.csv", "blank beneficiaries but the model gives no "
                         "estimate of children for this factor (IVTI countries)",
                         "write the number of beneficiaries", column="beneficiaries",
                         rows=ws.rows_where(no_estimate))
    out.loc[auto, "beneficiaries"] = np.ceil(out.loc[auto, "unmet"] / n_lines[auto])
    out["beneficiaries_source"] = np.where(auto, "model", "team")
    out["cost"] = out["unit_cost"] * out["beneficiaries"]
    out["priority"] = out["priority"].fillna(out["rank"]).astype(int)
    return out.sort_values(["priority", "rank", "action_line"]).reset_index(drop=True)


def supply_demand(costed: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Per factor and kind of unit: children represented, children to reach (risk side), the
    need in the action's unit, existing supply, planned beneficiaries, and the coverage of the
    need before and after the plan (all in the action's unit, with the conversion stated)."""
    from clrisk.i18n import format_number

    g = costed.groupby(["factor", "unit_kind"], sort=False)
    first = g.first()
    planned = g["beneficiaries"].sum()
    cost = g["cost"].sum()
    need = first["need_units"].to_numpy(dtype=float)
    supply = first["supply"].to_numpy(dtype=float)
    new = planned.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(need > 0, supply / need, np.nan)
        after = np.where(need > 0, (supply + new) / need, np.nan)
    units = {"child": _("child"), "household": _("household"), "adult": _("adult"),
             "workplace": _("workplace")}
    conv = [_("1 {unit} = {n} children").format(unit=units[k], n=format_number(c, 1))
            for k, c in zip(first.index.get_level_values(1), first["children_per_unit"],
                            strict=True)]
    return pd.DataFrame({
        _("Factor"): first["label"].to_numpy(),
        _("Children represented (model)"): np.round(first["demand"].to_numpy(dtype=float), 0),
        _("Children to reach (risk side)"): np.round(first["need_children"].to_numpy(
            dtype=float), 0),
        _("Unit of the action"): [units[k] for k in first.index.get_level_values(1)],
        _("Conversion"): conv,
        _("Need (units)"): np.round(need, 0),
        _("Existing supply (capacity)"): np.round(supply, 0),
        _("Planned beneficiaries"): np.round(new, 0),
        _("Coverage before"): np.round(before, 2),
        _("Coverage after"): np.round(after, 2),
        _("Cost"): np.round(cost.to_numpy(dtype=float), 0),
    })


def resolve_monitoring(monitoring: pd.DataFrame, baselines: Mapping[str, float]) -> pd.DataFrame:
    """Fill ``auto`` baselines and compute targets.

    ``baselines`` maps ``""`` to the territory-level baseline (expected children in child labour,
    or the IVTI score) and each factor name to its baseline (children attributable).
    """
    out = monitoring.copy()
    auto_values = out["factor"].map(lambda f: baselines.get(f, np.nan))
    out["baseline"] = out["baseline"].where(~out["baseline_auto"], auto_values)
    missing = out["baseline_auto"] & out["baseline"].isna()
    if missing.any():
        raise data_error("monitoring.csv", "'auto' baseline but the model has no value for this "
                         "indicator", "write the baseline as a number", column="baseline",
                         rows=ws.rows_where(missing))
    rel = out["baseline"] * (1 + out["target_value"] / 100)
    out["target"] = out["target_value"].where(~out["target_relative"], rel)
    # A model-based indicator changes only when the model is re-estimated on new survey and
    # census data; measuring it yearly would report the same number. Process indicators
    # (services delivered, meetings) keep the team's cadence, yearly when left blank.
    model_based = out["baseline_auto"] | (out["factor"] != "")
    out["kind"] = np.where(model_based, "model", "process")
    out["frequency"] = np.where(
        model_based, _("with each new survey and census (model update)"),
        out["frequency"].where(out["frequency"].astype(str).str.strip() != "", _("yearly")))
    return out[["indicator", "factor", "baseline", "target", "unit", "frequency", "source",
                "responsible", "baseline_auto", "kind"]]


def objectives(territory_name: str, costed: pd.DataFrame, expected: float | None) -> pd.DataFrame:
    """General objective plus one specific objective per prioritised modifiable factor.

    Worded by direction: a risk factor is reduced ("Reduce: household in poverty"); a
    protective factor is extended ("Extend coverage of: health insurance"), with its gain
    from full coverage in children. Generated from the plan so that they stay consistent with
    it; a team rewrites the wording in its own document — the numbers are what matter here.
    """
    from clrisk.i18n import format_number

    rows = [{
        _("Level"): _("General"),
        _("Objective"): _("Prevent child labour in {name} by reducing the modifiable risk "
                          "factors identified by the model").format(name=territory_name)
        + (_(" (about {n:,.0f} children expected in child labour)").format(n=expected)
           if expected is not None and np.isfinite(expected) else ""),
    }]
    for _fac, grp in costed.groupby("factor", sort=False):
        first = grp.iloc[0]
        lines = "; ".join(grp["action_line"])
        gain = float(first.demand) if np.isfinite(_num(first.demand)) else None
        if getattr(first, "role", "risk") == "protective":
            text = _("Extend coverage of: {factor} — {lines}").format(factor=first.label,
                                                                     lines=lines)
            if gain is not None:
                text += _(" (gain from full coverage: about {n} fewer children in child "
                          "labour)").format(n=format_number(gain, 0))
        else:
            text = _("Reduce: {factor} — {lines}").format(factor=first.label, lines=lines)
            if gain is not None:
                text += _(" (about {n} fewer children in child labour)").format(
                    n=format_number(gain, 0))
        rows.append({_("Level"): _("Specific ({priority})").format(priority=int(first.priority)),
                     _("Objective"): text})
    return pd.DataFrame(rows)


def design_intervention(actions: pd.DataFrame, coverage: pd.DataFrame,
                        monitoring: pd.DataFrame, facts: Mapping[str, object],
                        baselines: Mapping[str, float],
                        need: Mapping[str, float] | None = None,
                        roles: Mapping[str, str] | None = None) -> InterventionPlan:
    """Assemble the plan for one territory.

    ``facts``: the characterisation facts of the territory (``territory_id``, ``name``,
    ``children``, ``expected_children``, ``ci_low_children``, ``ci_high_children``);
    ``need``/``roles``: see :func:`cost_action_lines`.
    """
    costed = cost_action_lines(actions, coverage, need, roles)
    expected = _num(facts.get("expected_children"))
    target = pd.DataFrame({
        _("Group"): [_("Children in the age range (census)"),
                     _("Expected children in child labour (model)"),
                     _("Children represented by the factors in the plan (model; "
                       "Shapley weights add up)")],
        _("Number"): np.round([_num(facts.get("children")), expected,
                               float(coverage.loc[coverage["factor"].isin(costed["factor"]),
                                                  "children"].sum(min_count=1))], 0),
    })
    return InterventionPlan(
        territory_id=str(facts.get("territory_id", "")), name=str(facts.get("name", "")),
        objectives=objectives(str(facts.get("name", "")), costed, expected),
        target_population=target, action_lines=costed,
        capacity=supply_demand(costed, coverage),
        monitoring=resolve_monitoring(monitoring, baselines),
        total_cost=float(costed["cost"].sum()))


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def action_lines_table(costed: pd.DataFrame) -> pd.DataFrame:
    from clrisk.phase2.liaison import sector_label

    return pd.DataFrame({
        _("Priority"): costed["priority"],
        _("Factor"): costed["label"],
        _("Action line"): costed["action_line"],
        _("Sector"): costed["sector"].map(sector_label),
        _("Institution"): costed["institution"],
        _("Beneficiaries"): costed["beneficiaries"].round(0),
        _("Beneficiaries from"): costed["beneficiaries_source"].map(
            {"model": _("model (unmet demand)"), "team": _("team")}),
        _("Unit"): costed["unit"],
        _("Children per unit"): costed["children_per_unit"].round(1)
        if "children_per_unit" in costed.columns else np.nan,
        _("Unit cost"): costed["unit_cost"],
        _("Cost"): costed["cost"].round(0),
    })


def monitoring_table(monitoring: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        _("Indicator"): monitoring["indicator"],
        _("Baseline"): monitoring["baseline"].round(1),
        _("Baseline from"): monitoring["baseline_auto"].map(
            {True: _("model"), False: _("team")}),
        _("Target"): monitoring["target"].round(1),
        _("Unit"): monitoring["unit"],
        _("Frequency"): monitoring["frequency"],
        _("Source"): monitoring["source"],
        _("Responsible"): monitoring["responsible"],
    })


def export_plan(plan: InterventionPlan, path: str | Path) -> Path:
    """Write the plan to ``.xlsx`` (one sheet per table) or ``.md`` (one section per table)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return export.export_workbook(plan.tables(), path)
    if path.suffix.lower() == ".md":
        from clrisk.io import atomic_write

        with atomic_write(path) as fh:
            fh.write(plan_markdown(plan))
        return path
    raise data_error(path, f"unsupported output format '{path.suffix}'",
                     "use a file name ending in .xlsx or .md")


def plan_markdown(plan: InterventionPlan) -> str:
    """The whole plan as a markdown document (headings + pipe tables)."""
    from clrisk.i18n import format_number

    title = _("Intervention plan: {name} ({code})").format(name=plan.name,
                                                          code=plan.territory_id)
    parts = [f"# {title}", ""]
    for title, table in plan.tables().items():
        parts += [f"## {title}", "", export.markdown_table(export.localised(table)), ""]
    parts += [f"**{_('Total cost: {cost}').format(cost=format_number(plan.total_cost))}**", ""]
    return "\n".join(parts)
