"""National-format Peru files load to the SAME canonical tables as data_samples/peru.

Also exercises the CLI: ``clrisk check`` on the national files and ``clrisk init-profile``.
"""

from __future__ import annotations

import io
from argparse import Namespace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _helpers import folder_digests

from clrisk.cli import main
from clrisk.commands import check as check_cmd
from clrisk.commands import init_profile
from clrisk.data import load_country
from clrisk.data.country import data_root
from clrisk.data.national_samples import write_national_sample
from clrisk.i18n import set_language
from clrisk.profile import load_profile

pytestmark = pytest.mark.skipif(not (data_root() / "peru" / "profile.yaml").is_file(),
                                reason="data_samples/peru not generated")


@pytest.fixture(scope="module")
def peru_national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_national_sample("peru", tmp_path_factory.mktemp("peru_nat"))


@pytest.fixture(scope="module")
def canonical():
    return load_country("peru")


def _sorted(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return df.sort_values(key).reset_index(drop=True)[sorted(df.columns)]




def test_national_files_written(peru_national: Path) -> None:
    folder = peru_national.parent
    for name in ("enaho_ninos.dta", "enaho_ninos.csv", "censo_ninos.sav", "distritos.shp",
                 "distritos.prj", "registros_admin.csv", "profile.yaml", "profile_csv.yaml"):
        assert (folder / name).is_file(), name
    prof = load_profile(peru_national)
    assert prof.design == {"weight": "factor07", "stratum": "estrato", "psu": "conglome"}
    rules = prof.table_mapping("survey")
    assert rules["territory_id"] == {"columns": ["ccdd", "ccpp", "ccdi"], "widths": [2, 2, 2]}
    assert "trabajo_horas" in rules["derive"]["child_labour"]
    raw = pd.read_csv(folder / "enaho_ninos.csv", sep=";", dtype=str, encoding="latin-1")
    assert raw["factor07"].str.contains(",").any()  # decimal comma in the CSV variant
    assert (raw["ccdd"].str.len() == 1).any()  # codes stored without zero padding


def test_same_canonical_tables(peru_national: Path, canonical) -> None:
    folder = peru_national.parent
    before = folder_digests(folder)
    nat = load_country(peru_national)
    assert folder_digests(folder) == before
    pd.testing.assert_frame_equal(_sorted(nat.survey, ["child_id"]),
                                  _sorted(canonical.survey, ["child_id"]))
    cols = sorted(canonical.census.columns)
    pd.testing.assert_frame_equal(
        nat.census[cols].sort_values(cols).reset_index(drop=True),
        canonical.census[cols].sort_values(cols).reset_index(drop=True))
    a = nat.territories.sort_values("territory_id").reset_index(drop=True)
    b = canonical.territories.sort_values("territory_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")), check_dtype=False)
    assert a.crs.to_epsg() == 4326
    # Shapefiles store rings clockwise: compare normalised shapes, to ~0.1 mm after reprojection
    assert a.geometry.normalize().geom_equals_exact(b.geometry.normalize(), tolerance=1e-6).all()
    pd.testing.assert_frame_equal(_sorted(nat.admin_records, ["territory_id"]),
                                  _sorted(canonical.admin_records, ["territory_id"]))
    assert nat.profile.covariates == canonical.profile.covariates
    assert set(vars(nat)) == set(vars(canonical))  # same CountryData shape


def test_csv_variant_same_survey(peru_national: Path, canonical) -> None:
    nat = load_country(peru_national.parent / "profile_csv.yaml")
    pd.testing.assert_frame_equal(_sorted(nat.survey, ["child_id"]),
                                  _sorted(canonical.survey, ["child_id"]))
    assert any("decimal commas converted" in n for n in nat.notes)


def test_check_cli_on_national(peru_national: Path) -> None:
    out = io.StringIO()
    code = check_cmd.run(Namespace(profile=str(peru_national), country=None,
                                   max_census_rows=2_000_000), out)
    text = out.getvalue()
    assert code == 0, text
    assert "✓ survey:" in text and "✓ covariates in both survey and census" in text
    assert "Everything is fine" in text


def test_check_cli_reports_failure(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from clrisk.data.toy import write_toy_country

    prof = write_toy_country(tmp_path / "toy")
    df = pd.read_csv(tmp_path / "toy" / "survey.csv", dtype=str)
    df.loc[0, "child_labour"] = "5"
    df.to_csv(tmp_path / "toy" / "survey.csv", index=False)
    assert main(["check", "--profile", str(prof)]) == 2
    text = capsys.readouterr().out
    assert "✗ survey.csv, column 'child_labour'" in text and "1 problem(s) found" in text
    try:
        assert main(["--lang", "es", "check", "--country", "peru"]) == 0
        assert "Todo está bien" in capsys.readouterr().out
    finally:
        set_language("en")


def test_init_profile_from_national_files(peru_national: Path, tmp_path: Path) -> None:
    folder = peru_national.parent
    before = folder_digests(folder)
    out_path = tmp_path / "starter" / "profile.yaml"
    args = Namespace(survey=str(folder / "enaho_ninos.dta"), census=str(folder / "censo_ninos.sav"),
                     territories=str(folder / "distritos.shp"),
                     admin_records=str(folder / "registros_admin.csv"), out=str(out_path),
                     force=False)
    assert init_profile.run(args, io.StringIO()) == 0
    assert folder_digests(folder) == before
    text = out_path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["design"] == {"weight": "factor07", "stratum": "estrato", "psu": "conglome"}
    assert data["crs"] == "EPSG:32718"
    assert data["files"]["survey"] == "../../" + folder.name + "/enaho_ninos.dta" or \
        data["files"]["survey"].endswith("enaho_ninos.dta")
    assert "p207: number, 2 values, labels {1=Hombre, 2=Mujer}" in text
    assert "TODO" in text
    assert data["mapping"]["territories"]["rename"]["IDDIST"] == "territory_id"
    assert "territory_id: {columns: [ccdd, ccpp, ccdi], widths: [2, 2, 2]}" in text
    load_profile(out_path)  # the starter profile is structurally valid
    with pytest.raises(Exception, match="already exists"):
        init_profile.run(args, io.StringIO())


def test_init_profile_writes_csv_conventions(peru_national: Path, tmp_path: Path) -> None:
    folder = peru_national.parent
    out_path = tmp_path / "profile.yaml"
    args = Namespace(survey=str(folder / "enaho_ninos.csv"), census=str(folder / "censo_ninos.sav"),
                     territories=str(folder / "distritos.shp"), admin_records=None,
                     out=str(out_path), force=False)
    assert init_profile.run(args, io.StringIO()) == 0
    entry = yaml.safe_load(out_path.read_text(encoding="utf-8"))["files"]["survey"]
    assert entry["sep"] == ";" and entry["decimal"] == "," and entry["encoding"] == "cp1252"
    assert entry["path"].endswith("enaho_ninos.csv")
    load_profile(out_path)
