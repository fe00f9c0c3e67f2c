"""Step 5 — intervention design: objectives, target population, action lines, costs, monitoring.

Why costs and beneficiaries come from a worksheet: the unit cost of a household visit or a school
grant is local knowledge, and the Mexican pilot designed its intervention with the resources
already available, refocused on child labour. The model supplies the demand (children
attributable to each factor, instrument 2) and step 4 the existing supply (service capacity);
the team supplies what each action line costs per beneficiary. When a team leaves
``beneficiaries`` blank, the action line is sized to the unmet demand (attributable children not
yet reached by existing services), so the default plan closes the gaps found in step 4.
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
        raise data_error(path, "unknown factor(s) "
                         + ", ".join(repr(v) for v in df.loc[bad, "factor"].head(3)),
                         f"use one of the factor names: {', '.join(known)}", column="factor",
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
        raise data_error(path, "unknown factor(s) "
                         + ", ".join(repr(v) for v in df.loc[bad, "factor"].head(3)),
                         f"leave blank or use one of: {', '.join(sorted(known))}",
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


def cost_action_lines(actions: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Join action lines to the territory's factor coverage and cost them.

    ``coverage`` is step 4's :func:`clrisk.phase2.services.factor_coverage` for the territory.
    Adds ``label, rank, share, demand`` (children attributable), ``supply`` (existing capacity),
    ``unmet``, ``beneficiaries`` (team's, else the unmet demand shared among the factor's action
    lines), ``beneficiaries_source``, ``cost`` and ``priority``; sorted by priority.
    Lines whose factor has no positive weight in the territory get demand 0 (``in_territory``
    False). Raises if a line has no beneficiaries and the model has no estimate for its factor.
    """
    cov = coverage.set_index("factor")
    out = actions.copy()
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
    out["supply"] = out["factor"].map(cov["capacity"])
    out["unmet"] = out["factor"].map(cov["unmet"])
    n_lines = out.groupby("factor")["factor"].transform("size")
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
    """Per factor: demand (children attributable), existing supply, planned new supply, and the
    coverage ratio before and after the plan."""
    planned = costed.groupby("factor")["beneficiaries"].sum()
    cost = costed.groupby("factor")["cost"].sum()
    cov = coverage[coverage["factor"].isin(planned.index)].sort_values("rank")
    demand = cov["children"].to_numpy()
    supply = cov["capacity"].to_numpy()
    new = cov["factor"].map(planned).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(demand > 0, supply / demand, np.nan)
        after = np.where(demand > 0, (supply + new) / demand, np.nan)
    return pd.DataFrame({
        _("Factor"): cov["label"].to_numpy(),
        _("Demand (children attributable)"): np.round(demand, 0),
        _("Existing supply (capacity)"): np.round(supply, 0),
        _("Planned beneficiaries"): np.round(new, 0),
        _("Coverage before"): np.round(before, 2),
        _("Coverage after"): np.round(after, 2),
        _("Cost"): np.round(cov["factor"].map(cost).to_numpy(), 0),
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
    return out[["indicator", "factor", "baseline", "target", "unit", "frequency", "source",
                "responsible", "baseline_auto"]]


def objectives(territory_name: str, costed: pd.DataFrame, expected: float | None) -> pd.DataFrame:
    """General objective plus one specific objective per prioritised factor.

    Generated from the plan so that they stay consistent with it; a team rewrites the wording in
    its own document — the numbers are what matter here.
    """
    rows = [{
        _("Level"): _("General"),
        _("Objective"): _("Prevent child labour in {name} by reducing the structural risk "
                          "factors identified by the model").format(name=territory_name)
        + (_(" (about {n:,.0f} children expected in child labour)").format(n=expected)
           if expected is not None and np.isfinite(expected) else ""),
    }]
    for _fac, grp in costed.groupby("factor", sort=False):
        first = grp.iloc[0]
        lines = "; ".join(grp["action_line"])
        rows.append({_("Level"): _("Specific ({priority})").format(priority=int(first.priority)),
                     _("Objective"): _("Reduce the risk linked to: {factor} — {lines}").format(
                         factor=first.label, lines=lines)})
    return pd.DataFrame(rows)


def design_intervention(actions: pd.DataFrame, coverage: pd.DataFrame,
                        monitoring: pd.DataFrame, facts: Mapping[str, object],
                        baselines: Mapping[str, float]) -> InterventionPlan:
    """Assemble the plan for one territory.

    ``facts``: the characterisation facts of the territory (``territory_id``, ``name``,
    ``children``, ``expected_children``, ``ci_low_children``, ``ci_high_children``).
    """
    costed = cost_action_lines(actions, coverage)
    expected = _num(facts.get("expected_children"))
    target = pd.DataFrame({
        _("Group"): [_("Children in the age range (census)"),
                     _("Expected children in child labour (model)"),
                     _("Children attributable to the factors in the plan (model)")],
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
