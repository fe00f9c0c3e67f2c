"""``clrisk phase2``: the Phase II steps on a results folder, files in the chosen language.

The results folder is built from the Phase I results the Phase II chapters use (cached by
``clrisk.phase2.steps.load``), written in the shape ``clrisk run`` writes (``territories.csv``,
``factor_weights.csv``, ``manifest.json`` naming the data folder), so the test does not rerun
Phase I.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from clrisk import cli
from clrisk.i18n import gettext, set_language
from clrisk.phase2 import steps


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    set_language("en")
    country = steps.load("peru")
    folder = tmp_path_factory.mktemp("run")
    risk = country.inputs.risk.rename(columns={"risk_score": "mean_probability"})
    risk.drop(columns=["region_name"]).to_csv(folder / "territories.csv", index=False)
    country.inputs.factors.to_csv(folder / "factor_weights.csv", index=False)
    (folder / "manifest.json").write_text(
        json.dumps({"input_root": str(country.data.root)}), encoding="utf-8")
    return folder


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_phase2_command_writes_translated_workbooks(results: Path, tmp_path: Path,
                                                     lang: str) -> None:
    out = tmp_path / "p2"
    try:
        code = cli.main(["--lang", lang, "phase2", str(results), "--out", str(out), "--quiet"])
    finally:
        set_language("en")
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert {"1_selection.xlsx", "2_liaison.xlsx", "3_characterisation.xlsx",
            "4_services.xlsx"} <= set(names)
    plan = [n for n in names if n.startswith("5_intervention_") and n.endswith(".xlsx")]
    assert len(plan) == 1 and (out / plan[0].replace(".xlsx", ".md")).is_file()
    # headers and the worked examples' text are in the chosen language
    wb = openpyxl.load_workbook(out / "2_liaison.xlsx")
    assert wb.sheetnames[0] == gettext("Stakeholders", lang) != "Stakeholders"
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][2] == gettext("Role", lang) != "Role"
    organisations = [r[0] for r in rows[1:]]
    assert gettext("Ministry of Labour (national child labour committee)", lang) in organisations
    assert "Ministry of Labour (national child labour committee)" not in organisations
    wb = openpyxl.load_workbook(out / plan[0])
    lines = wb[gettext("Action lines", lang)]
    values = [c for row in lines.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    english = {"child per year", "household", "adult per year", "household per year"}
    assert not english & set(values), english & set(values)


def test_phase2_command_names_a_missing_results_folder(tmp_path: Path, capsys) -> None:
    code = cli.main(["phase2", str(tmp_path), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "territories.csv" in capsys.readouterr().err


def test_phase2_command_rejects_an_unknown_territory(results: Path, tmp_path: Path,
                                                     capsys) -> None:
    code = cli.main(["phase2", str(results), "--out", str(tmp_path / "o"),
                     "--territory", "no-such-id", "--format", "md"])
    assert code == 2
    assert "no-such-id" in capsys.readouterr().err
