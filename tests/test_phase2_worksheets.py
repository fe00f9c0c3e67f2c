"""Phase II worksheets: bad files give DataErrors that name file, column/key, rows and fix, and
the input files are never modified; a team can replace the worksheets and rerun."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.phase2 import characterisation as ch
from clrisk.phase2 import examples, steps
from clrisk.phase2 import intervention as iv
from clrisk.phase2 import liaison as li
from clrisk.phase2 import selection as se
from clrisk.phase2 import services as sv
from clrisk.phase2 import worksheets as ws

IDS = ["T1", "T2", "T3", "T4", "T5", "T6"]
FACTORS = ["adult_unemployed", "poverty", "school_attendance"]


@pytest.fixture()
def toy(tmp_path: Path) -> steps.Country:
    inputs = examples.toy_inputs()
    folder = tmp_path / "toy" / "phase2"
    examples.write_worksheets(inputs, folder, country="toy", language="en")
    return steps.Country("toy", None, inputs, folder)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raises(path: Path, func, *patterns: str) -> str:
    """Call ``func``; assert a DataError whose message matches every pattern and that the
    worksheet is byte-for-byte unchanged."""
    before = _digest(path)
    with pytest.raises(DataError) as info:
        func()
    msg = str(info.value)
    assert path.name in msg
    assert "Fix:" in msg
    for p in patterns:
        assert p in msg, msg
    assert _digest(path) == before
    return msg


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- selection ---------------------------------------------------------------------------------

def test_criteria_missing_column(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest\nT1,3,3\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "column 'time_available'", "missing column")


def test_criteria_rating_out_of_range(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "T1,3,3,3\nT2,6,3,3\nT3,0,3,3\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "column 'institutional_capacity'",
            "rows 2, 3", "between 1 and 5")


def test_criteria_rating_not_whole_or_text(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "T1,3,2.5,3\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "political_interest", "whole numbers", "row 1")
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "T1,3,3,high\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "time_available", "non-numeric", "'high'")


def test_criteria_unknown_and_duplicated_territory(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "T1,3,3,3\nT99,3,3,3\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "unknown territory id", "'T99'", "row 2",
            "leading zeros")
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "T1,3,3,3\nT1,3,3,3\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "duplicated", "rows 1, 2")


def test_criteria_keep_leading_zeros(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available\n"
               "010101,3,3,3\n")
    out = se.read_criteria(p, ["010101"])
    assert out["territory_id"].tolist() == ["010101"]


def test_criteria_model_column_rejected(tmp_path):
    p = _write(tmp_path / "selection_criteria.csv",
               "territory_id,institutional_capacity,political_interest,time_available,p_high\n"
               "T1,3,3,3,0.5\n")
    _raises(p, lambda: se.read_criteria(p, IDS), "p_high", "Phase I")


RATINGS = ["institutional_capacity", "political_interest", "time_available"]


def test_weights_not_summing_to_one(tmp_path):
    p = _write(tmp_path / "selection_weights.yaml",
               "weights:\n  risk_level: 0.5\n  institutional_capacity: 0.3\n"
               "  political_interest: 0.1\n  time_available: 0.0\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "sum to 0.9", "add up to exactly 1")


def test_weights_negative(tmp_path):
    p = _write(tmp_path / "selection_weights.yaml",
               "weights:\n  risk_level: 1.2\n  institutional_capacity: -0.2\n"
               "  political_interest: 0\n  time_available: 0\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "weights.institutional_capacity",
            "negative")


def test_weights_unknown_key_missing_rating_and_bad_yaml(tmp_path):
    p = _write(tmp_path / "selection_weights.yaml",
               "weights:\n  capacity: 1\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "weights.capacity", "unknown criterion")
    p = _write(tmp_path / "selection_weights.yaml", "weights:\n  risk_level: 1\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "no weight for the rating column")
    p = _write(tmp_path / "selection_weights.yaml", "weights:\n  risk_level: [1\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "invalid YAML", "line")
    p = _write(tmp_path / "selection_weights.yaml", "risk_level: 1\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "'weights'")
    p = _write(tmp_path / "selection_weights.yaml",
               "weights:\n  risk_level: lots\n")
    _raises(p, lambda: se.read_weights(p, RATINGS), "not a number")


def test_missing_worksheet(tmp_path):
    p = tmp_path / "selection_criteria.csv"
    with pytest.raises(DataError, match="worksheet not found"):
        se.read_criteria(p, IDS)
    assert not p.exists()


# --- liaison -----------------------------------------------------------------------------------

HEADER = "name,type,role,competences,agreement,focal_point\n"


def test_stakeholders_unknown_type_and_sector(tmp_path):
    p = _write(tmp_path / "stakeholders.csv",
               HEADER + "Mayor,government-municipal,lead,education,none,yes\n"
               "Church,religious,outreach,,none,no\n")
    _raises(p, lambda: li.read_stakeholders(p), "column 'type'", "'religious'", "row 2",
            "government_national")
    p = _write(tmp_path / "stakeholders.csv",
               HEADER + "Mayor,municipal,lead,education;sport,none,yes\n")
    _raises(p, lambda: li.read_stakeholders(p), "column 'competences'", "sport", "row 1")


def test_stakeholders_bad_agreement_focal_point_and_missing_column(tmp_path):
    p = _write(tmp_path / "stakeholders.csv", HEADER + "Mayor,municipal,lead,,maybe,yes\n")
    _raises(p, lambda: li.read_stakeholders(p), "column 'agreement'", "mou_signed")
    p = _write(tmp_path / "stakeholders.csv", HEADER + "Mayor,municipal,lead,,none,perhaps\n")
    _raises(p, lambda: li.read_stakeholders(p), "column 'focal_point'", "yes or no")
    p = _write(tmp_path / "stakeholders.csv", "name,type\nMayor,municipal\n")
    _raises(p, lambda: li.read_stakeholders(p), "missing column", "role")


def test_stakeholders_aliases_are_normalised(tmp_path):
    p = _write(tmp_path / "stakeholders.csv",
               HEADER + "Mayor,Government-Municipal,lead,Education; Health,MoU signed,Sí\n"
               "CUT,trade union,,labour,,no\n")
    st = li.read_stakeholders(p)
    assert st["type"].tolist() == ["government_municipal", "workers"]
    assert st["competences"].iloc[0] == ("education", "health")
    assert st["agreement"].tolist() == ["mou_signed", "none"]
    assert st["focal_point"].tolist() == [True, False]


# --- characterisation ----------------------------------------------------------------------------

def test_definitions_missing_and_unknown_keys(tmp_path):
    p = _write(tmp_path / "local_definitions.yaml", "legal_definition: x\ntarget_group: y\n")
    _raises(p, lambda: ch.read_definitions(p), "'operational_definition'")
    p = _write(tmp_path / "local_definitions.yaml",
               "legal_definition: x\noperational_definition: y\ntarget_group: z\nnote: w\n")
    _raises(p, lambda: ch.read_definitions(p), "unknown key 'note'")
    p = _write(tmp_path / "local_definitions.yaml",
               "legal_definition: {en: x, pt: y}\noperational_definition: y\ntarget_group: z\n")
    _raises(p, lambda: ch.read_definitions(p), "legal_definition.pt", "unknown language")


# --- services ------------------------------------------------------------------------------------

def test_services_unknown_sector_factor_territory_and_capacity():
    base = examples.toy_inputs().services.copy()
    bad = base.copy()
    bad.loc[1, "sector"] = "sports"
    with pytest.raises(DataError, match=r"services.csv, column 'sector'.*'sports'.*row 2"):
        sv.validate_services(bad, FACTORS, IDS)
    bad = base.copy()
    bad["factors"] = bad["factors"].map(lambda t: ";".join(t))
    bad.loc[0, "factors"] = "poverty;hunger"
    with pytest.raises(DataError, match=r"unknown factor\(s\) hunger.*row 1"):
        sv.validate_services(bad, FACTORS, IDS)
    bad = base.copy()
    bad.loc[2, "territory_id"] = "X"
    with pytest.raises(DataError, match=r"unknown territory.*'X'.*row 3"):
        sv.validate_services(bad, FACTORS, IDS)
    bad = base.copy()
    bad["capacity"] = bad["capacity"].astype(object)
    bad.loc[0, "capacity"] = "many"
    with pytest.raises(DataError, match=r"column 'capacity'.*'many'"):
        sv.validate_services(bad, FACTORS, IDS)
    with pytest.raises(DataError, match="missing column"):
        sv.validate_services(base.drop(columns=["capacity"]), FACTORS, IDS)


# --- intervention --------------------------------------------------------------------------------

AL = "factor,action_line,sector,institution,unit_cost,unit,beneficiaries\n"


def test_action_lines_non_numeric_and_negative_cost(tmp_path):
    p = _write(tmp_path / "action_lines.csv", AL + "poverty,Cash,social_protection,M,300,hh,\n"
               "poverty,Visits,social_protection,M,\"1.200,50\",hh,\n")
    _raises(p, lambda: iv.read_action_lines(p, FACTORS), "column 'unit_cost'", "'1.200,50'",
            "row 2", "dot as decimal separator")
    p = _write(tmp_path / "action_lines.csv", AL + "poverty,Cash,social_protection,M,-3,hh,\n")
    _raises(p, lambda: iv.read_action_lines(p, FACTORS), "unit_cost", "at least 0")


def test_action_lines_unknown_factor_and_sector(tmp_path):
    p = _write(tmp_path / "action_lines.csv", AL + "hunger,Food,social_protection,M,3,hh,\n")
    _raises(p, lambda: iv.read_action_lines(p, FACTORS), "column 'factor'", "'hunger'",
            "poverty")
    p = _write(tmp_path / "action_lines.csv", AL + "poverty,Food,welfare,M,3,hh,\n")
    _raises(p, lambda: iv.read_action_lines(p, FACTORS), "column 'sector'", "'welfare'",
            "social_protection")
    p = _write(tmp_path / "action_lines.csv", AL + "poverty,Food,health,M,3,hh,-5\n")
    _raises(p, lambda: iv.read_action_lines(p, FACTORS), "beneficiaries")


def test_monitoring_bad_baseline_and_target(tmp_path):
    head = "indicator,factor,baseline,target,unit,frequency,source,responsible\n"
    p = _write(tmp_path / "monitoring.csv", head + "Visits,,some,10,,,,\n")
    _raises(p, lambda: iv.read_monitoring(p, FACTORS), "column 'baseline'", "'auto'")
    p = _write(tmp_path / "monitoring.csv", head + "Visits,,0,ten,,,,\n")
    _raises(p, lambda: iv.read_monitoring(p, FACTORS), "column 'target'", "-20%")
    p = _write(tmp_path / "monitoring.csv", head + "Visits,hunger,0,1,,,,\n")
    _raises(p, lambda: iv.read_monitoring(p, FACTORS), "column 'factor'", "'hunger'")


def test_auto_baseline_without_model_value_is_an_error(tmp_path):
    head = "indicator,factor,baseline,target,unit,frequency,source,responsible\n"
    p = _write(tmp_path / "monitoring.csv", head + "Dropout,poverty,auto,-10%,,,,\n")
    mon = iv.read_monitoring(p, FACTORS)
    with pytest.raises(DataError, match="monitoring.csv, column 'baseline'.*row 1"):
        iv.resolve_monitoring(mon, {"": 3.0})
    out = iv.resolve_monitoring(mon, {"": 3.0, "poverty": 50.0})
    assert out["target"].iloc[0] == pytest.approx(45.0)


def test_blank_beneficiaries_without_estimate_is_an_error():
    inp = examples.toy_inputs()
    svc = sv.validate_services(inp.services, FACTORS, IDS)
    cov = sv.factor_coverage(svc, inp.factors.assign(children=float("nan")), "T1",
                             match="sector")
    actions = pd.DataFrame({"factor": ["poverty"], "action_line": ["Cash"],
                            "sector": ["social_protection"], "institution": [""],
                            "unit_cost": [1.0], "unit": [""], "beneficiaries": [float("nan")],
                            "priority": [float("nan")]})
    with pytest.raises(DataError, match="write the number of beneficiaries"):
        iv.cost_action_lines(actions, cov)


# --- a team replaces the worksheets and reruns ---------------------------------------------------

def test_team_edits_worksheets_and_results_change(toy):
    before_sel = steps.selection(toy)
    chosen = before_sel.chosen
    assert chosen == "T4"  # the default weights favour capacity, as in Tuxtla
    plan_before = steps.intervention(toy, chosen)

    # 1) the team moves all the weight to model risk: the riskiest candidate is chosen
    ws_path = toy.folder / ws.SELECTION_WEIGHTS
    ws_path.write_text("weights:\n  risk_level: 0.25\n  risk_score: 0.25\n  p_high: 0.25\n"
                       "  expected_children: 0.25\n  institutional_capacity: 0\n"
                       "  political_interest: 0\n  time_available: 0\n")
    after_sel = steps.selection(toy)
    assert after_sel.chosen == "T1"
    assert steps.characterisation(toy, after_sel.chosen).facts["name"] == "Alto"

    # 2) the team doubles every unit cost: total cost doubles for the same territory
    al = pd.read_csv(toy.folder / ws.ACTION_LINES, dtype=str, keep_default_na=False)
    al["unit_cost"] = (al["unit_cost"].astype(float) * 2).map(str)
    al.to_csv(toy.folder / ws.ACTION_LINES, index=False)
    plan_after = steps.intervention(toy, chosen)
    assert plan_after.total_cost == pytest.approx(2 * plan_before.total_cost)

    # 3) the team signs the MoU: the agreement gap closes
    st = pd.read_csv(toy.folder / ws.STAKEHOLDERS, dtype=str, keep_default_na=False)
    assert steps.liaison(toy, chosen).gaps.set_index("check").loc[
        "Formal agreement signed", "status"] == "gap"
    st.loc[st["type"] == "government_municipal", "agreement"] = "mou_signed"
    st.to_csv(toy.folder / ws.STAKEHOLDERS, index=False)
    assert steps.liaison(toy, chosen).gaps.set_index("check").loc[
        "Formal agreement signed", "status"] == "ok"


def test_example_worksheets_are_reproducible(tmp_path):
    inputs = examples.toy_inputs()
    a = examples.write_worksheets(inputs, tmp_path / "a", country="toy", language="es")
    b = examples.write_worksheets(inputs, tmp_path / "b", country="toy", language="es")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert sorted(p.name for p in a) == sorted([*ws.WORKSHEETS, "README.md"])
