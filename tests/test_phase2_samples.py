"""Phase II on the sample countries: the shipped worksheets are valid, and a team that copies a
country folder, edits its worksheets and reruns gets results that change accordingly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from clrisk.phase2 import examples, steps
from clrisk.phase2 import worksheets as ws

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
COUNTRIES = sorted(p.name for p in SAMPLES.iterdir() if (p / "profile.yaml").is_file()) \
    if SAMPLES.is_dir() else []

pytestmark = pytest.mark.skipif(not COUNTRIES, reason="data_samples not generated")


def _copy(country: str, tmp_path: Path) -> Path:
    dest = tmp_path / country
    shutil.copytree(SAMPLES / country, dest)
    return dest


def _run(country: steps.Country) -> dict:
    sel = steps.selection(country)
    tid = sel.chosen
    smap = steps.service_map(country, tid)
    return {"chosen": tid, "selection": sel, "liaison": steps.liaison(country, tid),
            "profile": steps.characterisation(country, tid), "services": smap,
            "plan": steps.intervention(country, tid, smap)}


@pytest.mark.parametrize("country", ["jamaica"])
def test_team_replaces_worksheets_ivti_country(country, tmp_path):
    folder = _copy(country, tmp_path)
    before_files = {p.name: p.read_bytes() for p in (folder / "phase2").iterdir()}
    C = steps.load(data_dir=folder, cache=False)
    assert C.inputs.source == "ivti"
    first = _run(C)
    # running never modifies the worksheets
    assert {p.name: p.read_bytes() for p in (folder / "phase2").iterdir()} == before_files

    # the team rates the last-ranked candidate 5 everywhere and puts all weight on its ratings
    last = first["selection"].scored["territory_id"].iloc[-1]
    crit = pd.read_csv(folder / "phase2" / ws.SELECTION_CRITERIA, dtype=str,
                       keep_default_na=False)
    rating_cols = ["institutional_capacity", "political_interest", "time_available"]
    crit[rating_cols] = "1"
    crit.loc[crit["territory_id"] == last, rating_cols] = "5"
    crit.to_csv(folder / "phase2" / ws.SELECTION_CRITERIA, index=False)
    (folder / "phase2" / ws.SELECTION_WEIGHTS).write_text(
        "weights:\n  risk_level: 0\n  risk_score: 0\n  p_high: 0\n  expected_children: 0\n"
        "  institutional_capacity: 0.5\n  political_interest: 0.3\n  time_available: 0.2\n")
    # and halves every unit cost
    al = pd.read_csv(folder / "phase2" / ws.ACTION_LINES, dtype=str, keep_default_na=False)
    al["unit_cost"] = (al["unit_cost"].astype(float) / 2).map(repr)
    al.to_csv(folder / "phase2" / ws.ACTION_LINES, index=False)

    second = _run(C)
    assert second["chosen"] == last != first["chosen"]
    assert second["profile"].facts["territory_id"] == last
    assert second["plan"].territory_id == last
    # IVTI: beneficiaries are the team's, so half the unit costs = half the cost
    assert second["plan"].total_cost == pytest.approx(first["plan"].total_cost / 2)


@pytest.mark.slow
def test_team_replaces_worksheets_model_country(tmp_path):
    folder = _copy("peru", tmp_path)
    C = steps.load(data_dir=folder, cache=False)
    assert C.inputs.source == "risk_model"
    first = _run(C)
    plan = first["plan"]
    # unit costs x3: same beneficiaries (same territory), three times the cost
    al = pd.read_csv(folder / "phase2" / ws.ACTION_LINES, dtype=str, keep_default_na=False)
    al["unit_cost"] = (al["unit_cost"].astype(float) * 3).map(repr)
    al.to_csv(folder / "phase2" / ws.ACTION_LINES, index=False)
    assert steps.intervention(C, first["chosen"]).total_cost == pytest.approx(
        3 * plan.total_cost)
    # all weight on model risk: the candidate with the highest normalised risk is chosen
    (folder / "phase2" / ws.SELECTION_WEIGHTS).write_text(
        "weights:\n  risk_level: 0.25\n  risk_score: 0.25\n  p_high: 0.25\n"
        "  expected_children: 0.25\n  institutional_capacity: 0\n  political_interest: 0\n"
        "  time_available: 0\n")
    sel = steps.selection(C)
    risk = C.inputs.risk.set_index("territory_id").loc[sel.scored["territory_id"]]
    assert sel.chosen == sel.top.iloc[-1]["territory_id"]  # = the pure-risk choice
    assert risk.loc[sel.chosen, "risk_level"] == risk["risk_level"].max()
    # the model's baselines follow the chosen territory
    head = steps.intervention(C, sel.chosen).monitoring.iloc[0]
    assert head["baseline"] == pytest.approx(
        C.inputs.risk.set_index("territory_id").loc[sel.chosen, "expected_children"])


@pytest.mark.slow
@pytest.mark.parametrize("country", COUNTRIES)
def test_shipped_worksheets_validate(country):
    """Cheap structural check of every sample's worksheets (no Phase I run)."""
    from clrisk.data import load_country
    from clrisk.phase2 import characterisation as ch
    from clrisk.phase2 import intervention as iv
    from clrisk.phase2 import liaison as li
    from clrisk.phase2 import selection as se

    data = load_country(SAMPLES / country)
    folder = ws.worksheet_dir(data.root)
    ids = data.territories["territory_id"].astype(str)
    crit = se.read_criteria(folder / ws.SELECTION_CRITERIA, ids)
    assert len(crit) >= 3
    weights = se.read_weights(folder / ws.SELECTION_WEIGHTS,
                              [c for c in crit.columns if c not in ("territory_id", "notes")])
    if not data.profile.has_risk_model:
        assert weights["p_high"] == weights["expected_children"] == 0
    assert len(li.read_stakeholders(folder / ws.STAKEHOLDERS)) >= 5
    ch.read_definitions(folder / ws.LOCAL_DEFINITIONS)
    factors = (list(data.profile.factors) if data.profile.has_risk_model
               else data.profile.ivti_indicators)
    assert len(iv.read_action_lines(folder / ws.ACTION_LINES, factors)) >= 3
    iv.read_monitoring(folder / ws.MONITORING, factors)


def test_phase1_cache_is_reused_and_keyed(tmp_path, monkeypatch):
    """The Phase I cache returns identical inputs and is invalidated when a data file changes."""
    monkeypatch.setenv("CLRISK_CACHE", str(tmp_path / "cache"))
    folder = _copy("jamaica", tmp_path)
    a = steps.load(data_dir=folder)
    files = list((tmp_path / "cache" / "phase2").glob("*.pkl"))
    assert len(files) == 1
    b = steps.load(data_dir=folder)
    pd.testing.assert_frame_equal(a.inputs.risk, b.inputs.risk)
    with (folder / "admin_records.csv").open("a") as fh:
        fh.write("")  # same content, new modification time -> new key
    import os

    st = (folder / "admin_records.csv").stat()
    os.utime(folder / "admin_records.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    steps.load(data_dir=folder)
    assert len(list((tmp_path / "cache" / "phase2").glob("*.pkl"))) == 2


def test_generator_candidates_mimic_the_pilot():
    """The default candidates include high-risk territories and lower-risk, well-rated ones."""
    inputs = examples.toy_inputs()
    cand = examples.candidates(inputs.risk)
    assert set(cand["kind"]) == {"high_risk", "capacity"}
    assert (cand.loc[cand["kind"] == "capacity", "risk_level"] == 1).all()
    crit = examples.selection_criteria(inputs, 1)
    strong = crit[crit["notes"].str.startswith("urban")]
    weak = crit[~crit["notes"].str.startswith("urban")]
    assert strong["institutional_capacity"].min() > weak["institutional_capacity"].max()


def test_starting_worksheets_for_a_team_folder(tmp_path):
    """A team folder without phase2/ gets a clear error, then default worksheets on request."""
    from clrisk.errors import DataError

    folder = _copy("jamaica", tmp_path)
    shutil.rmtree(folder / "phase2")
    C = steps.load(data_dir=folder, cache=False)
    with pytest.raises(DataError, match="worksheet not found.*clrisk.phase2.examples"):
        steps.selection(C)
    written = examples.generate(folder)
    assert {p.name for p in written} == {*ws.WORKSHEETS, "README.md"}
    assert all(p.parent == folder / "phase2" for p in written)
    assert steps.selection(C).chosen in C.inputs.territory_ids
