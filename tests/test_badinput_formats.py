"""Bad national-format input and mapping mistakes (issue 8).

Starting point: the tiny canonical country re-encoded as national files (Stata survey with value
labels, SPSS census, projected Shapefile) by ``write_national_sample``. Each test breaks one
thing; the DataError must name the file, the column, the rows and the fix, and no input file may
change (hashes before/after).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyreadstat
import pytest
import yaml
from _helpers import folder_digests

from clrisk.data import load_country
from clrisk.data.national_samples import write_national_sample
from clrisk.data.toy import write_toy_country
from clrisk.errors import DataError


@pytest.fixture(scope="module")
def nat_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("nat_master")
    toy = write_toy_country(base / "toy")
    return write_national_sample(toy, base / "nat").parent


@pytest.fixture
def nat(nat_master: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "nat"
    shutil.copytree(nat_master, dst)
    return dst




def expect_error(target: Path, *needles: str) -> str:
    folder = target if target.is_dir() else target.parent
    before = folder_digests(folder)
    with pytest.raises(DataError) as info:
        load_country(target)
    assert folder_digests(folder) == before, "an input file was modified"
    msg = str(info.value)
    for n in needles:
        assert n in msg, f"{n!r} not in message: {msg}"
    assert "Fix:" in msg
    return msg


def edit_profile(folder: Path, change: Callable[[dict], None], name: str = "profile.yaml") -> None:
    path = folder / name
    d = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(d)
    path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_dta(folder: Path, change: Callable[[pd.DataFrame, dict], None]) -> None:
    path = folder / "enaho_ninos.dta"
    df, meta = pyreadstat.read_dta(str(path))
    labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    change(df, labels)
    for c in df.columns:
        if c in labels or c in ("ccdd", "ccpp", "ccdi", "p208a", "trabajo_horas", "p204"):
            if df[c].notna().all():
                df[c] = df[c].astype("int64")
    pyreadstat.write_dta(df, str(path), variable_value_labels=labels, version=15)


def survey_rules(d: dict) -> dict:
    return d["mapping"]["survey"]


def test_national_sample_loads(nat: Path) -> None:
    before = folder_digests(nat)
    data = load_country(nat / "profile.yaml")
    assert folder_digests(nat) == before
    assert len(data.survey) == 240
    assert any("reprojected from EPSG:32718" in n for n in data.notes)
    assert data.value_labels["survey"]["p207"] == {1: "Hombre", 2: "Mujer"}


def test_labelled_value_not_mapped(nat: Path) -> None:
    def change(df: pd.DataFrame, labels: dict) -> None:
        df.loc[[3, 8], "p207"] = 9
        labels["p207"][9] = "No sabe"
    edit_dta(nat, change)
    expect_error(nat, "enaho_ninos.dta", "column 'p207'", "9 ('No sabe')", "rows 4, 9",
                 "default", "recode[0]")


def test_census_labelled_value_not_mapped(nat: Path) -> None:
    path = nat / "censo_ninos.sav"
    df, meta = pyreadstat.read_sav(str(path))
    labels = {k: {int(a): b for a, b in v.items()} for k, v in meta.variable_value_labels.items()}
    df.loc[5, "nbi"] = 3
    labels["nbi"][3] = "No especificado"
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    expect_error(nat, "censo_ninos.sav", "column 'nbi'", "3 ('No especificado')", "row 6")


def test_rename_source_missing(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["rename"].update({"codpersona": "child_id"}))
    expect_error(nat, "enaho_ninos.dta", "'codpersona'", "did you mean 'codperso'")


def test_derive_unknown_column(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["derive"].update(
        {"child_labour": "trabajo_hora >= 36"}))
    expect_error(nat, "enaho_ninos.dta", "derive.child_labour", "'trabajo_hora'",
                 "did you mean 'trabajo_horas'")


def test_derive_type_mismatch(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["derive"].update(
        {"child_labour": "codperso - 1 > 0"}))
    expect_error(nat, "enaho_ninos.dta", "derive.child_labour", "failed", "numbers")


def test_id_code_longer_than_width(nat: Path) -> None:
    edit_dta(nat, lambda df, labels: df.__setitem__("ccdi", df["ccdi"].where(
        df.index != 6, 123)))
    expect_error(nat, "enaho_ninos.dta", "column 'ccdi'", "'123'", "width 2", "row 7")


def test_id_code_missing(nat: Path) -> None:
    edit_dta(nat, lambda df, labels: df.__setitem__("ccpp", df["ccpp"].where(
        df.index != 2)))
    expect_error(nat, "enaho_ninos.dta", "column 'ccpp'", "missing values", "row 3")


def test_shapefile_without_crs(nat: Path) -> None:
    (nat / "distritos.prj").unlink()
    expect_error(nat, "distritos.shp", "no coordinate reference system", ".prj")


def test_corrupt_shapefile(nat: Path) -> None:
    raw = (nat / "distritos.shp").read_bytes()
    (nat / "distritos.shp").write_bytes(raw[:60])
    expect_error(nat, "distritos.shp", "truncated or corrupt")


def test_invalid_shapefile_geometry(nat: Path) -> None:
    from shapely.geometry import Polygon

    gdf = gpd.read_file(nat / "distritos.shp")
    x0, y0, x1, y1 = gdf.geometry.iloc[1].bounds
    gdf.loc[1, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    gdf.to_file(nat / "distritos.shp")
    expect_error(nat, "distritos.shp", "invalid geometries", "row 2", gdf.loc[1, "IDDIST"])


def test_corrupt_dta(nat: Path) -> None:
    raw = (nat / "enaho_ninos.dta").read_bytes()
    (nat / "enaho_ninos.dta").write_bytes(raw[: len(raw) // 3])
    expect_error(nat, "enaho_ninos.dta", "truncated or corrupt", "export the file again")


def test_corrupt_sav(nat: Path) -> None:
    raw = (nat / "censo_ninos.sav").read_bytes()
    (nat / "censo_ninos.sav").write_bytes(raw[:200])
    expect_error(nat, "censo_ninos.sav", "truncated or corrupt")


def test_unsupported_table_format(nat: Path) -> None:
    (nat / "enaho.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    edit_profile(nat, lambda d: d["files"].update({"survey": "enaho.xlsx"}))
    expect_error(nat, "enaho.xlsx", "unsupported table format", ".dta")


def test_file_not_found(nat: Path) -> None:
    edit_profile(nat, lambda d: d["files"].update({"census": "censo.sav"}))
    expect_error(nat, "censo.sav", "file not found", "relative to the profile")


def test_wrong_separator_declared(nat: Path) -> None:
    edit_profile(nat, lambda d: d["files"]["survey"].update({"sep": ","}), "profile_csv.yaml")
    expect_error(nat / "profile_csv.yaml", "enaho_ninos.csv", "separator is probably ';'",
                 "sep: ';'")


def test_wrong_encoding_declared(nat: Path) -> None:
    raw = (nat / "enaho_ninos.csv").read_bytes().replace(b"codhogar", "códhogar".encode("latin-1"))
    (nat / "enaho_ninos.csv").write_bytes(raw)
    edit_profile(nat, lambda d: d["files"]["survey"].update({"encoding": "utf-8"}),
                 "profile_csv.yaml")
    expect_error(nat / "profile_csv.yaml", "enaho_ninos.csv", "not valid utf-8", "line 1",
                 "encoding: cp1252")


def test_decimal_comma_not_declared_with_comma_separator(nat: Path) -> None:
    df = pd.read_csv(nat / "enaho_ninos.csv", sep=";", dtype=str, encoding="latin-1")
    df.to_csv(nat / "enaho_ninos.csv", index=False)  # now ',' separated, weights "12,5" quoted

    def change(d: dict) -> None:
        d["files"]["survey"] = {"path": "enaho_ninos.csv"}
    edit_profile(nat, change, "profile_csv.yaml")
    expect_error(nat / "profile_csv.yaml", "enaho_ninos.csv", "column 'weight'",
                 "decimal comma", 'decimal: ","')


def test_two_columns_renamed_to_one(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["rename"].update({"p301b_jefe": "age"}))
    expect_error(nat, "enaho_ninos.dta", "both 'p208a' and 'p301b_jefe'", "'age'")


def test_filter_drops_everything(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["filter"].append("p208a > 99"))
    expect_error(nat, "enaho_ninos.dta", "no data rows", "filter")


def test_missing_age_filter(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d).update({"filter": ["p204 == 1"]}))
    expect_error(nat, "enaho_ninos.dta", "column 'age'", "age_range [5, 17]", "filter")


def test_census_ids_lost_zero_padding(nat: Path) -> None:
    def change(d: dict) -> None:
        rules = d["mapping"]["census"]
        del rules["territory_id"]
        rules["rename"]["ubigeo"] = "territory_id"
    edit_profile(nat, change)
    expect_error(nat, "censo_ninos.sav", "leading zeros", "'10101' -> '010101'")


def test_bins_do_not_cover(nat: Path) -> None:
    edit_profile(nat, lambda d: survey_rules(d)["recode"].append(
        {"column": "age_group", "from": "p208a", "bins": [5, 12, 15], "labels": [1, 2]}))
    expect_error(nat, "enaho_ninos.dta", "column 'p208a'", "not covered by the bins",
                 "default")


def test_national_weight_not_positive(nat: Path) -> None:
    edit_dta(nat, lambda df, labels: df.__setitem__("factor07", df["factor07"].where(
        df.index != 10, -3.0)))
    msg = expect_error(nat, "enaho_ninos.dta", "column 'weight'", "> 0")
    assert "row 11" in msg or "rows 11" in msg  # file rows, even after the filters


def test_design_column_missing(nat: Path) -> None:
    edit_profile(nat, lambda d: d["design"].update({"weight": "factor7"}))
    expect_error(nat, "enaho_ninos.dta", "design.weight", "'factor7'",
                 "did you mean 'factor07'")


def test_outcome_column_missing(nat: Path) -> None:
    edit_profile(nat, lambda d: d.update({"outcome": "ti_flag"}))
    expect_error(nat, "enaho_ninos.dta", "outcome", "'ti_flag'")


def test_recode_to_missing_then_missing_covariate(nat: Path) -> None:
    def change(df: pd.DataFrame, labels: dict) -> None:
        df.loc[[0, 1], "pobreza"] = 9
        labels["pobreza"][9] = "No determinado"
    edit_dta(nat, change)
    edit_profile(nat, lambda d: survey_rules(d)["recode"][2]["map"].update({9: None}))
    expect_error(nat, "enaho_ninos.dta", "covariate 'poverty' has missing values", "filter")


def test_admin_rename_wrong(nat: Path) -> None:
    edit_profile(nat, lambda d: d["mapping"]["admin_records"].update(
        {"rename": {"ubigeo_dist": "territory_id"}}))
    expect_error(nat, "registros_admin.csv", "'ubigeo_dist'", "did you mean 'ubigeo'")


def test_territories_rename_missing_name(nat: Path) -> None:
    edit_profile(nat, lambda d: d["mapping"]["territories"]["rename"].pop("NOMBDIST"))
    expect_error(nat, "distritos.shp", "required column(s) missing", "name")


def test_unsupported_geometry_format(nat: Path) -> None:
    (nat / "distritos.kml").write_text("<kml/>")
    edit_profile(nat, lambda d: d["files"].update({"territories": "distritos.kml"}))
    expect_error(nat, "distritos.kml", "unsupported geometry format", ".gpkg")


def test_unknown_country_suggests() -> None:
    with pytest.raises(DataError, match="did you mean 'peru'"):
        load_country("peur")


def test_empty_dta_after_filters_in_census(nat: Path) -> None:
    edit_profile(nat, lambda d: d["mapping"]["census"].update({"filter": ["edad < 0"]}))
    expect_error(nat, "censo_ninos.sav", "census table has no data rows")


def test_profile_error_in_national_profile_points_at_line(nat: Path) -> None:
    text = (nat / "profile.yaml").read_text(encoding="utf-8").replace("    rename:",
                                                                      "    renames:", 1)
    (nat / "profile.yaml").write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "renames:" in t)
    expect_error(nat, "profile.yaml", f"line {line}", "did you mean 'rename'")


def test_unknown_territory_cites_file_rows_after_filters(nat: Path) -> None:
    df, _meta = pyreadstat.read_dta(str(nat / "enaho_ninos.dta"))
    row = int(df.index[(df["p204"] == 1) & (df["p208a"] <= 17)][-1])  # a kept row, late in file
    edit_dta(nat, lambda d, labels: d.__setitem__("ccdi", d["ccdi"].where(d.index != row, 99)))
    expect_error(nat, "enaho_ninos.dta", "are not in distritos.shp", f"row {row + 1}")
