"""Phase II: the five steps on a hand-built six-territory country (numbers checkable on paper)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.i18n import set_language
from clrisk.phase2 import characterisation as ch
from clrisk.phase2 import examples, plots, steps
from clrisk.phase2 import intervention as iv
from clrisk.phase2 import liaison as li
from clrisk.phase2 import selection as se
from clrisk.phase2 import services as sv
from clrisk.phase2.export import export_table, export_workbook, markdown_table

matplotlib.use("Agg")


@pytest.fixture()
def toy(tmp_path: Path) -> steps.Country:
    inputs = examples.toy_inputs()
    folder = tmp_path / "toy" / "phase2"
    examples.write_worksheets(inputs, folder, country="toy", language="en")
    return steps.Country("toy", None, inputs, folder)


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language("en")


# --- step 1 -----------------------------------------------------------------------------------

def test_normalised_risk_is_minmax_over_the_country():
    risk = examples.toy_inputs().risk
    norm = se.normalised_risk(risk).set_index("territory_id")
    assert norm.loc["T1", "risk_score"] == pytest.approx(1.0)  # highest probability
    assert norm.loc["T4", "risk_score"] == pytest.approx(0.0)  # lowest
    assert norm.loc["T2", "risk_score"] == pytest.approx((0.20 - 0.05) / 0.25)
    assert norm.loc["T2", "risk_level"] == pytest.approx(0.5)  # level 2 of 3
    # expected children: T1 = 300 (max), T3 = 80 (min)
    assert norm.loc["T1", "expected_children"] == pytest.approx(1.0)
    assert norm.loc["T3", "expected_children"] == pytest.approx(0.0)


def test_score_is_weighted_sum_of_normalised_criteria():
    risk = examples.toy_inputs().risk
    crit = pd.DataFrame({"territory_id": ["T1", "T4"], "institutional_capacity": [1.0, 5.0],
                         "political_interest": [3.0, 3.0], "time_available": [5.0, 1.0],
                         "notes": ["", ""]})
    w = {"risk_score": 0.5, "institutional_capacity": 0.3, "political_interest": 0.0,
         "time_available": 0.2}
    out = se.score_candidates(risk, crit, w).set_index("territory_id")
    # T1: 0.5*1 + 0.3*0 + 0.2*1 = 0.7 ; T4: 0.5*0 + 0.3*1 + 0.2*0 = 0.3
    assert out.loc["T1", "score"] == pytest.approx(0.7)
    assert out.loc["T4", "score"] == pytest.approx(0.3)
    assert out.loc["T1", "rank"] == 1
    contrib = out[[c for c in out.columns if c.startswith("w_")]].sum(axis=1)
    np.testing.assert_allclose(contrib, out["score"])


def test_all_weight_on_capacity_picks_the_capital_all_on_risk_picks_the_riskiest(toy):
    sel = steps.selection(toy)
    top = sel.top.set_index("risk_weight")
    assert top.loc[0.0, "territory_id"] in {"T3", "T4"}  # the well-rated, low-risk ones
    assert top.loc[1.0, "territory_id"] == "T1"  # highest risk, level, P(high), children
    # the sensitivity has one rank per candidate per weight, ranks are a permutation
    n = len(sel.criteria)
    assert len(sel.sensitivity) == 21 * n  # the team weight (0.4) is on the grid
    for _t, grp in sel.sensitivity.groupby("risk_weight"):
        assert sorted(grp["rank"]) == list(range(1, n + 1))
    assert sel.sensitivity["risk_weight"].nunique() == 21  # 0.40 is on the grid already
    # the team's weights put 0.4 on risk: the score table and the grid agree at that point
    assert sel.risk_weight == pytest.approx(0.40)
    at = sel.sensitivity[sel.sensitivity["risk_weight"] == 0.4].sort_values("rank")
    assert at["territory_id"].iloc[0] == sel.chosen
    np.testing.assert_allclose(at["score"].to_numpy(), sel.scored["score"].to_numpy())


def test_split_weights_keeps_within_group_proportions():
    w = {"risk_level": 0.1, "p_high": 0.3, "institutional_capacity": 0.45,
         "political_interest": 0.15}
    out = se.split_weights(w, 0.8)
    assert out["risk_level"] == pytest.approx(0.2)
    assert out["p_high"] == pytest.approx(0.6)
    assert out["institutional_capacity"] == pytest.approx(0.15)
    assert out["political_interest"] == pytest.approx(0.05)
    assert sum(out.values()) == pytest.approx(1.0)
    # a group with zero weights gets equal weights over its available criteria
    out = se.split_weights({"risk_level": 0.0, "institutional_capacity": 1.0}, 0.5,
                           available=("risk_level", "risk_score"))
    assert out["risk_level"] == pytest.approx(0.5)


def test_switch_points_lists_changes_only():
    top = pd.DataFrame({"risk_weight": [0, .5, 1], "territory_id": ["A", "A", "B"],
                        "name": ["a", "a", "b"], "score": [1, 1, 1], "margin": [0, 0, 0]})
    assert se.switch_points(top)["territory_id"].tolist() == ["A", "B"]


def test_unavailable_criterion_with_weight_is_an_error():
    risk = examples.toy_inputs().risk.copy()
    risk["p_top"] = np.nan
    crit = pd.DataFrame({"territory_id": ["T1"], "institutional_capacity": [3.0],
                         "political_interest": [3.0], "time_available": [3.0]})
    with pytest.raises(ValueError, match="p_high.*not available"):
        se.score_candidates(risk, crit, {"p_high": 0.5, "institutional_capacity": 0.5,
                                         "political_interest": 0, "time_available": 0})


# --- step 2 -----------------------------------------------------------------------------------

def test_liaison_gaps_flag_missing_tripartite_parts(toy):
    res = steps.liaison(toy, "T4")
    gaps = res.gaps.set_index("check")
    assert gaps.loc["Workers' organisation involved", "status"] == "ok"
    assert gaps.loc["Formal agreement signed", "status"] == "gap"  # MoU only in negotiation
    assert "in negotiation" in gaps.loc["Formal agreement signed", "detail"]
    assert set(res.priority_sectors) == {"social_protection", "education", "labour"}


def test_liaison_gaps_sector_and_level():
    st = pd.DataFrame({"name": ["Mayor", "Union"], "type": ["government_municipal", "workers"],
                       "role": ["", ""], "competences": [("education",), ()],
                       "agreement": ["mou_signed", "none"], "focal_point": [True, False]})
    gaps = li.liaison_gaps(st, ["education", "health"]).set_index("check")
    assert gaps.loc["Employers' organisation involved", "status"] == "gap"
    assert gaps.loc["Formal agreement signed", "status"] == "ok"
    assert gaps.loc["Government level present: National government", "status"] == "gap"
    assert gaps.loc["Competent institution for a top-factor sector: Education", "status"] == "ok"
    assert gaps.loc["Competent institution for a top-factor sector: Health", "status"] == "gap"
    assert gaps.loc["Competent institution for a top-factor sector: Health", "action"]
    # a unitary country can drop the state level
    unitary = li.liaison_gaps(st, [], government_levels=("government_municipal",))
    assert not unitary["check"].str.contains("State").any()


def test_register_and_counts_are_translated(toy):
    st = li.read_stakeholders(toy.folder / "stakeholders.csv")
    counts = li.type_counts(st)
    assert counts["n"].sum() == len(st)
    set_language("es")
    table = li.register_table(st)
    assert "Organización" in table.columns
    assert li.type_label("workers") == "Organización de trabajadores"


def test_gap_table_exports_csv_and_xlsx(toy, tmp_path):
    gaps = li.gaps_table(steps.liaison(toy, "T1").gaps)
    csv = export_table(gaps, tmp_path / "gaps.csv")
    back = pd.read_csv(csv)
    assert list(back.columns) == list(gaps.columns)
    xlsx = export_table(gaps, tmp_path / "gaps.xlsx")
    assert pd.read_excel(xlsx).shape == gaps.shape
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind
    with pytest.raises(ValueError, match="unsupported output format"):
        export_table(gaps, tmp_path / "gaps.pdf")


# --- step 3 -----------------------------------------------------------------------------------

def test_facts_and_comparison_are_children_weighted(toy):
    risk = toy.inputs.risk
    facts = ch.territory_facts(risk, "T4")
    assert facts["rank"] == 6 and facts["n_territories"] == 6
    assert facts["expected_children"] == pytest.approx(250)
    assert facts["ci_low_children"] == pytest.approx(5000 * 0.03)
    comp = ch.comparison(risk, "T4").set_index("area")
    # region R2: (250 + 105 + 150) / (5000 + 700 + 600)
    assert comp.loc["region", "risk_score"] == pytest.approx(505 / 6300)
    assert comp.loc["country", "risk_score"] == pytest.approx(985 / 8600)
    assert comp.loc["country", "n_territories"] == 6
    with pytest.raises(ValueError, match="not in the risk table"):
        ch.territory_facts(risk, "T9")


def test_profile_markdown_and_html(toy):
    res = steps.characterisation(toy, "T1")
    md = res.markdown
    assert "Territorial profile: Alto" in md
    assert "synthetic" in md
    assert "no identifier below the territory" in md  # no micro-areas in the toy data
    assert "Tuxtla" in md  # exclusions from local_definitions.yaml
    html = ch.profile_html(md)
    assert html.count("<table") == 3 and "<h2>" in html
    assert not ch.profile_html(md, standalone=False).startswith("<!DOCTYPE")
    assert ch.micro_area_column(["territory_id", "ageb"]) == "ageb"


def test_localised_definitions():
    assert ch.localised({"en": "a", "es": "b"}, "es") == "b"
    assert ch.localised({"en": "a"}, "fr") == "a"
    assert ch.localised("plain", "fr") == "plain"


def test_facts_table_ivti_has_no_probability():
    risk = examples.toy_inputs().risk.copy()
    risk.attrs.update({"source": "ivti", "k": 3})
    facts = ch.territory_facts(risk, "T1")
    table = ch.facts_table(facts)
    assert table.iloc[:, 0].str.contains("IVTI").any()
    assert not table.iloc[:, 0].str.contains("Predicted probability").any()


# --- step 4 -----------------------------------------------------------------------------------

def test_factor_coverage_matches_by_factor(toy):
    inp = toy.inputs
    svc = sv.validate_services(inp.services, inp.factor_names, inp.territory_ids)
    cov = sv.factor_coverage(svc, inp.factors, "T1").set_index("factor")
    # T1: 1000 children, p = .30, half attributable: poverty .5 -> 75 children
    assert cov.loc["poverty", "children"] == pytest.approx(75)
    assert cov.loc["poverty", "capacity"] == 20
    assert cov.loc["poverty", "coverage"] == pytest.approx(20 / 75)
    assert cov.loc["poverty", "status"] == "insufficient"
    assert cov.loc["poverty", "unmet"] == pytest.approx(55)
    assert cov.loc["school_attendance", "status"] == "no_service"
    gaps = sv.coverage_gaps(sv.factor_coverage(svc, inp.factors, "T1"))
    assert len(gaps) == 3
    # T6's cash transfer addresses two factors: its capacity counts for both
    cov6 = sv.factor_coverage(svc, inp.factors, "T6").set_index("factor")
    assert cov6.loc["poverty", "capacity"] == cov6.loc["school_attendance", "capacity"] == 10


def test_coverage_by_territory(toy):
    inp = toy.inputs
    svc = sv.validate_services(inp.services, inp.factor_names, inp.territory_ids)
    by = sv.coverage_by_territory(svc, inp.factors).set_index("territory_id")
    assert by.loc["T4", "factors_without_service"] == 0
    assert by.loc["T4", "covered_share"] == pytest.approx(1.0)
    assert by.loc["T2", "covered_share"] == 0
    # T1: reach min(20, 75) of 75 + 45 + 30 = 150 attributable children
    assert by.loc["T1", "covered_share"] == pytest.approx(20 / 150)


def test_match_by_sector_for_ivti(toy):
    inp = toy.inputs
    svc = sv.validate_services(inp.services, inp.factor_names, inp.territory_ids)
    fac = inp.factors.assign(children=np.nan)
    cov = sv.factor_coverage(svc, fac, "T4", match="sector").set_index("factor")
    assert cov.loc["poverty", "status"] == "no_estimate"
    assert np.isnan(cov.loc["poverty", "coverage"])


def test_unlinked_services():
    inp = examples.toy_inputs()
    svc = pd.concat([inp.services, pd.DataFrame({
        "territory_id": ["T4"], "service": ["Sports club"], "sector": ["education"],
        "institution": ["City"], "capacity": [30.0], "factors": [()]})], ignore_index=True)
    out = sv.unlinked_services(svc, inp.factors, "T4")
    assert out["service"].tolist() == ["Sports club"]


# --- step 5 -----------------------------------------------------------------------------------

def test_costs_are_unit_cost_times_beneficiaries(toy):
    smap = steps.service_map(toy, "T1")
    plan = steps.intervention(toy, "T1", smap)
    lines = plan.action_lines
    np.testing.assert_allclose(lines["cost"], lines["unit_cost"] * lines["beneficiaries"])
    assert plan.total_cost == pytest.approx(lines["cost"].sum())
    # beneficiaries are counted in each line's own unit: the need in children converted with
    # the stated children per unit, minus the existing supply, shared among the factor's lines
    # of the same kind of unit
    pov = lines[lines["factor"] == "poverty"].iloc[0]
    assert pov["unit_kind"] == "household" and pov["children_per_unit"] == 1.8
    assert pov["beneficiaries"] == np.ceil(max(pov["need_children"] / 1.8 - pov["supply"], 0))
    assert pov["beneficiaries_source"] == "model"
    # school attendance: a per-child line and a per-household line, each sized to the need
    school = lines[lines["factor"] == "school_attendance"].set_index("unit_kind")
    need = school["need_children"].iloc[0]
    assert school.loc["child", "beneficiaries"] == np.ceil(max(need - school.loc[
        "child", "supply"], 0))
    assert school.loc["household", "beneficiaries"] == np.ceil(max(need / 1.8 - school.loc[
        "household", "supply"], 0))
    assert (lines.loc[lines["in_territory"], "beneficiaries"] > 0).all()
    assert lines["priority"].is_monotonic_increasing


def test_units_follow_the_action_and_markers_are_refused(tmp_path):
    """An adults' programme is sized in adults from the children on the risk side, never
    covered by a children's service counted in children; a marker cannot be planned."""
    cov = pd.DataFrame({"factor": ["head_schooling"], "label": ["Head's schooling"],
                        "rank": [1], "share": [1.0], "children": [12.0], "capacity": [0.0],
                        "unmet": [12.0]})
    actions = pd.DataFrame({"factor": ["head_schooling", "head_schooling"],
                            "action_line": ["Adult literacy", "Visits"],
                            "sector": ["education", "labour"], "institution": ["", ""],
                            "unit_cost": [100.0, 10.0], "unit": ["adult per year",
                                                                 "workplace visited"],
                            "beneficiaries": [np.nan, np.nan], "priority": [np.nan, np.nan],
                            "children_per_unit": [np.nan, 4.0]})
    costed = iv.cost_action_lines(actions, cov, need={"head_schooling": 360.0},
                                  roles={"head_schooling": "protective"}).set_index("unit_kind")
    assert costed.loc["adult", "beneficiaries"] == 200  # 360 children / 1.8 per adult
    assert costed.loc["workplace", "beneficiaries"] == 90  # stated: 4 children per workplace
    obj = iv.objectives("Town", costed.reset_index(), 50.0)
    assert "Extend coverage of: Head's schooling" in obj.iloc[1, 1]
    assert "gain from full coverage" in obj.iloc[1, 1]
    bad = tmp_path / "action_lines.csv"
    bad.write_text("factor,action_line,sector,institution,unit_cost,unit,beneficiaries\n"
                   "indigenous,Outreach,social_protection,City,10,household,\n")
    with pytest.raises(DataError, match="'indigenous' is a marker"):
        iv.read_action_lines(bad, ["poverty", "head_schooling"])


def test_team_beneficiaries_and_priority_override():
    inp = examples.toy_inputs()
    svc = sv.validate_services(inp.services, inp.factor_names, inp.territory_ids)
    cov = sv.factor_coverage(svc, inp.factors, "T1")
    actions = pd.DataFrame({"factor": ["poverty", "adult_unemployed"],
                            "action_line": ["Cash", "Jobs"], "sector": ["social_protection",
                                                                        "labour"],
                            "institution": ["", ""], "unit_cost": [10.0, 100.0],
                            "unit": ["", ""], "beneficiaries": [7.0, np.nan],
                            "priority": [2.0, 1.0]})
    costed = iv.cost_action_lines(actions, cov)
    assert costed["action_line"].tolist() == ["Jobs", "Cash"]  # team priority 1 first
    assert costed.set_index("action_line").loc["Cash", "cost"] == 70
    assert costed.set_index("action_line").loc["Cash", "beneficiaries_source"] == "team"


def test_factor_absent_from_territory_gets_no_demand():
    inp = examples.toy_inputs()
    svc = sv.validate_services(inp.services, inp.factor_names, inp.territory_ids)
    cov = sv.factor_coverage(svc, inp.factors, "T1")
    cov = cov[cov["factor"] != "adult_unemployed"]
    actions = pd.DataFrame({"factor": ["adult_unemployed"], "action_line": ["Jobs"],
                            "sector": ["labour"], "institution": [""], "unit_cost": [5.0],
                            "unit": [""], "beneficiaries": [np.nan], "priority": [np.nan]})
    costed = iv.cost_action_lines(actions, cov)
    assert not costed["in_territory"].iloc[0]
    assert costed["cost"].iloc[0] == 0


def test_monitoring_auto_baselines_and_relative_targets(toy):
    plan = steps.intervention(toy, "T1")
    mon = plan.monitoring.set_index("indicator")
    head = mon.loc["Expected children in child labour (model)"]
    assert head["baseline"] == pytest.approx(300)
    assert head["target"] == pytest.approx(240)  # -20%
    visits = mon.loc["Households visited by the municipal team"]
    assert visits["baseline"] == 0 and visits["target"] == 400 and not visits["baseline_auto"]


def test_supply_demand_table(toy):
    plan = steps.intervention(toy, "T1")
    cap = plan.capacity
    after = cap["Coverage after"].to_numpy()
    before = cap["Coverage before"].to_numpy()
    assert (after >= before).all()
    # the default plan closes the gaps: coverage after >= 1 for every factor
    assert (after >= 0.99).all()


def test_plan_exports(toy, tmp_path):
    plan = steps.intervention(toy, "T1")
    xlsx = iv.export_plan(plan, tmp_path / "plan.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"Objectives", "Target population", "Action lines",
                           "Supply and demand", "Monitoring"}
    md = iv.export_plan(plan, tmp_path / "plan.md").read_text()
    assert "## Action lines" in md and f"{plan.total_cost:,.0f}" in md
    set_language("fr")
    assert "Lignes d’action" in iv.plan_markdown(plan)


# --- plots, export helpers ----------------------------------------------------------------------

def test_every_figure_draws(toy):
    import matplotlib.pyplot as plt

    inp = toy.inputs
    sel = steps.selection(toy)
    t = sel.chosen
    res = steps.characterisation(toy, t)
    smap = steps.service_map(toy, t)
    plan = steps.intervention(toy, t, smap)
    figs = [plots.plot_selection_scores(sel.scored),
            plots.plot_rank_sensitivity(sel.sensitivity, sel.risk_weight),
            plots.plot_score_map(inp.geo, sel.scored),
            plots.plot_stakeholder_types(li.type_counts(steps.liaison(toy, t).stakeholders)),
            plots.profile_panel(inp.geo, inp.risk, res.facts, res.comparison, res.factors),
            plots.plot_coverage(smap.coverage),
            plots.plot_coverage_map(inp.geo, smap.by_territory, t),
            plots.plot_costs(plan.action_lines)]
    for fig in figs:
        assert fig.axes
        plt.close(fig)


def test_figure_labels_follow_language(toy):
    import matplotlib.pyplot as plt

    set_language("es")
    sel = steps.selection(toy)
    fig = plots.plot_rank_sensitivity(sel.sensitivity, sel.risk_weight)
    assert fig.axes[0].get_ylabel() == "Posición (1 = seleccionado)"
    plt.close(fig)


def test_markdown_table_and_workbook(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.5], "b": ["x|y", "z"]})
    md = markdown_table(df)
    assert "| 1 | x\\|y |" in md and "2.50" in md
    path = export_workbook({"one": df, "one ": df, "a/b:c": df}, tmp_path / "w.xlsx")
    assert len(pd.read_excel(path, sheet_name=None)) == 3


def test_localised_numbers_follow_language():
    from clrisk.phase2.export import localised

    df = pd.DataFrame({"a": [1234.5, np.nan], "n": [3, 4], "t": ["x", "y"]})
    set_language("es")
    out = localised(df)
    assert out["a"].tolist() == ["1.234,5", "—"]
    assert out["n"].tolist() == ["3", "4"] and out["t"].tolist() == ["x", "y"]
    assert df["a"].iloc[0] == 1234.5  # the input is not modified


def test_display_tables_have_translated_headers(toy):
    sel = steps.selection(toy)
    table = se.selection_table(sel.scored)
    assert list(table.columns[:3]) == ["Rank", "Territory", "Risk level"]
    assert table["Selection score (0–1)"].is_monotonic_decreasing
    assert se.weights_table(sel.weights)["Weight"].sum() == pytest.approx(1.0)
    top = se.top_choices_table(sel.top, sel.risk_weight)
    assert top["Weight on model risk"].tolist() == [0.0, 0.25, 0.4, 0.5, 0.75, 1.0]
    ivti = se.selection_table(sel.scored, model=False)
    assert "Child labour vulnerability index (IVTI)" in ivti.columns
    cov = sv.coverage_table(steps.service_map(toy, "T1").coverage)
    assert "Coverage ratio" in cov.columns and len(cov) == 3
    set_language("fr")
    assert "Rang" in se.selection_table(sel.scored).columns


def test_sheet_names_are_valid():
    from clrisk.phase2.export import sheet_name

    assert sheet_name("a/b:c?") == "a b c"
    assert len(sheet_name("x" * 40)) == 31
    assert sheet_name("[]") == "Sheet"


def test_ivti_child_population_is_picked_up_when_present():
    from clrisk.phase2.inputs import _children_column, finish_factors, finish_risk

    admin = pd.DataFrame({"territory_id": ["01", "02"], "child_population": ["10", "x"]})
    kids = _children_column(admin)
    assert kids.loc["01"] == 10 and np.isnan(kids.loc["02"])
    assert _children_column(admin.drop(columns="child_population")) is None
    # finish_* keep ids as text, drop non-positive factors and re-rank
    risk = finish_risk(pd.DataFrame({"territory_id": [1], "region_id": [2], "risk_score": [.1],
                                     "risk_level": [1]}), "ivti", 3)
    assert risk["territory_id"].tolist() == ["1"] and risk.attrs == {"source": "ivti", "k": 3}
    fac = finish_factors(pd.DataFrame({"territory_id": ["1", "1", "1"], "factor": list("abc"),
                                       "delta_pp": [1.0, -1.0, 3.0]}))
    assert fac["factor"].tolist() == ["c", "a"] and fac["share"].tolist() == [0.75, 0.25]


def test_profile_panel_lists_risk_factors_only():
    """The characterisation figure's "main risk factors" panel (and its alt text) leave out
    protective factors, whose gain from full coverage is not a share of the risk."""
    from clrisk import alttext

    matplotlib.use("Agg")
    inp = examples.toy_inputs()
    factors = pd.DataFrame({"label": ["Attends school", "Household in poverty"],
                            "rank": [1, 2], "share": [0.6, 0.4],
                            "role": ["protective", "risk"]})
    facts = {"territory_id": "T1", "name": "Alto", "risk_score": 0.30, "source": "risk_model"}
    comp = pd.DataFrame({"label": ["Alto", "R1", "Country"], "risk_score": [0.3, 0.2, 0.15],
                         "ci_low": [0.28, np.nan, np.nan], "ci_high": [0.32, np.nan, np.nan]})
    fig = plots.profile_panel(inp.geo, inp.risk, facts, comp, factors)
    bars = [t.get_text() for t in fig.axes[2].get_yticklabels()]
    assert bars == ["Household in poverty"]
    text = alttext.profile_panel(facts, comp, factors, inp.risk, "en")
    assert "Household in poverty first" in text and "Attends school" not in text
