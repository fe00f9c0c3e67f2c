"""Bad input for the canonical loader (issue 3): one broken thing at a time.

Each test starts from a valid tiny country (clrisk.data.toy), breaks one file, and asserts that
``load_country`` raises a DataError naming the file, the column, the first offending rows and
the fix — and that no input file was modified (hash before == after).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from _helpers import folder_digests
from shapely.geometry import Polygon

from clrisk.data import inspect_country, load_country
from clrisk.data.toy import write_toy_country
from clrisk.errors import DataError


@pytest.fixture(scope="module")
def toy_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_country(tmp_path_factory.mktemp("toy_master") / "toy").parent


@pytest.fixture
def toy(toy_master: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "toy"
    shutil.copytree(toy_master, dst)
    return dst




def expect_error(folder: Path, *needles: str) -> str:
    """Load, expect a DataError containing every needle; inputs must be unchanged."""
    before = folder_digests(folder)
    with pytest.raises(DataError) as info:
        load_country(folder)
    assert folder_digests(folder) == before, "an input file was modified"
    msg = str(info.value)
    for n in needles:
        assert n in msg, f"{n!r} not in message: {msg}"
    assert "Fix:" in msg
    return msg


def survey(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "survey.csv", dtype=str)


def write_survey(folder: Path, df: pd.DataFrame) -> None:
    df.to_csv(folder / "survey.csv", index=False)


def test_valid_toy_loads(toy: Path) -> None:
    before = folder_digests(toy)
    data = load_country(toy)
    assert folder_digests(toy) == before
    assert len(data.survey) == 240 and len(data.census) == 900
    assert data.survey["territory_id"].str.len().eq(6).all()
    assert data.census_path == (toy / "census.parquet").resolve()
    assert data.territories.crs.to_epsg() == 4326


def test_missing_required_column(toy: Path) -> None:
    write_survey(toy, survey(toy).drop(columns=["weight"]))
    expect_error(toy, "survey.csv", "'weight'", "required column")


def test_non_numeric_covariate(toy: Path) -> None:
    df = survey(toy)
    df.loc[[2, 9], "poverty"] = "yes"
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'poverty'", "rows 3, 10", "recode")


def test_child_labour_not_binary(toy: Path) -> None:
    df = survey(toy)
    df.loc[4, "child_labour"] = "2"
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'child_labour'", "row 5", "0 or 1")


def test_child_labour_missing(toy: Path) -> None:
    df = survey(toy)
    df.loc[0, "child_labour"] = None
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'child_labour'", "row 1")


def test_weight_zero(toy: Path) -> None:
    df = survey(toy)
    df.loc[[5, 6], "weight"] = "0"
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'weight'", "rows 6, 7", "> 0")


def test_weight_missing(toy: Path) -> None:
    df = survey(toy)
    df.loc[11, "weight"] = None
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'weight'", "row 12", "missing")


def test_weight_decimal_comma_text(toy: Path) -> None:
    df = survey(toy)
    df["weight"] = df["weight"].str.replace(".", ",", regex=False)
    write_survey(toy, df)  # comma-separated file: "12,5" is quoted text, ambiguous
    expect_error(toy, "survey.csv", "column 'weight'", "decimal comma", 'decimal: ","',
                 "rows 1, 2, 3, 4, 5 (and 235 more)")


def test_age_outside_range(toy: Path) -> None:
    df = survey(toy)
    df.loc[7, "age"] = "3"
    df.loc[8, "age"] = "21"
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "column 'age'", "rows 8, 9", "age_range [5, 17]")


def test_territory_not_in_geometry(toy: Path) -> None:
    df = survey(toy)
    df.loc[3, "territory_id"] = "999999"
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "'999999'", "territories.geojson", "row 4")


def test_territory_lost_zero_padding(toy: Path) -> None:
    df = survey(toy)
    df["territory_id"] = df["territory_id"].str.lstrip("0")
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "leading zeros", "widths: [6]", "column 'territory_id'")


def test_duplicated_child_id(toy: Path) -> None:
    df = survey(toy)
    df.loc[20, "child_id"] = df.loc[10, "child_id"]
    write_survey(toy, df)
    expect_error(toy, "survey.csv", "child_id is not unique", "rows 11, 21")


def test_duplicated_children_rows(toy: Path) -> None:
    df = survey(toy)
    write_survey(toy, pd.concat([df, df.iloc[[0, 1]]], ignore_index=True))
    expect_error(toy, "survey.csv", "repeat an earlier row", "rows 241, 242")


def test_duplicated_territory_in_geometry(toy: Path) -> None:
    gdf = gpd.read_file(toy / "territories.geojson")
    gdf.loc[1, "territory_id"] = gdf.loc[0, "territory_id"]
    gdf.to_file(toy / "territories.geojson", driver="GeoJSON")
    expect_error(toy, "territories.geojson", "territory_id is not unique", "rows 1, 2")


def test_covariate_missing_in_census(toy: Path) -> None:
    cen = pd.read_parquet(toy / "census.parquet").drop(columns=["poverty"])
    cen.to_parquet(toy / "census.parquet", index=False)
    msg = expect_error(toy, "census.parquet", "missing in the census", "poverty",
                       "in both files")
    assert "missing in the survey" not in msg


def test_covariate_missing_in_survey(toy: Path) -> None:
    write_survey(toy, survey(toy).drop(columns=["head_schooling"]))
    expect_error(toy, "survey.csv", "missing in the survey", "head_schooling")


def test_invalid_geometry(toy: Path) -> None:
    gdf = gpd.read_file(toy / "territories.geojson")
    bowtie = Polygon([(-75, -12), (-74.5, -11.5), (-74.5, -12), (-75, -11.5)])
    gdf.loc[2, "geometry"] = bowtie
    gdf.to_file(toy / "territories.geojson", driver="GeoJSON")
    expect_error(toy, "territories.geojson", "invalid geometries", "row 3", "make_valid")


def test_empty_geometry(toy: Path) -> None:
    gdf = gpd.read_file(toy / "territories.geojson")
    gdf.loc[4, "geometry"] = Polygon()
    gdf.to_file(toy / "territories.geojson", driver="GeoJSON")
    expect_error(toy, "territories.geojson", "empty or missing geometries", "row 5")


def test_empty_survey_file(toy: Path) -> None:
    (toy / "survey.csv").write_bytes(b"")
    expect_error(toy, "survey.csv", "empty")


def test_header_only_survey(toy: Path) -> None:
    (toy / "survey.csv").write_text(",".join(survey(toy).columns) + "\n")
    expect_error(toy, "survey.csv", "no data rows")


def test_truncated_parquet(toy: Path) -> None:
    raw = (toy / "census.parquet").read_bytes()
    (toy / "census.parquet").write_bytes(raw[: len(raw) // 2])
    expect_error(toy, "census.parquet", "truncated or corrupt")


def test_census_at_another_level(toy: Path) -> None:
    cen = pd.read_parquet(toy / "census.parquet")
    cen["territory_id"] = [f"{i % 150:06d}x" for i in range(len(cen))]
    cen.to_parquet(toy / "census.parquet", index=False)
    expect_error(toy, "census.parquet", "150 distinct territories", "only 12",
                 "different administrative levels")


def test_wrong_declared_encoding(toy: Path) -> None:
    df = survey(toy)
    df.loc[0, "child_id"] = "Ñandú"
    (toy / "survey.csv").write_bytes(df.to_csv(index=False).encode("latin-1"))
    prof = yaml.safe_load((toy / "profile.yaml").read_text())
    prof["files"]["survey"] = {"path": "survey.csv", "encoding": "utf-8"}
    (toy / "profile.yaml").write_text(yaml.safe_dump(prof, sort_keys=False))
    expect_error(toy, "survey.csv", "encoding utf-8", "line 2", "encoding: cp1252")


def test_covariate_with_missing_values(toy: Path) -> None:
    cen = pd.read_parquet(toy / "census.parquet")
    cen["female"] = cen["female"].astype("float64")
    cen.loc[[3, 4], "female"] = float("nan")
    cen.to_parquet(toy / "census.parquet", index=False)
    expect_error(toy, "census.parquet", "column 'female'", "missing values", "rows 4, 5")


def test_admin_records_missing_indicator(toy: Path) -> None:
    adm = pd.read_csv(toy / "admin_records.csv", dtype={"territory_id": str})
    adm.drop(columns=["poverty_rate"]).to_csv(toy / "admin_records.csv", index=False)
    expect_error(toy, "admin_records.csv", "poverty_rate", "ivti.indicators")


def test_services_unknown_factor(toy: Path) -> None:
    svc = pd.read_csv(toy / "services.csv", dtype={"territory_id": str})
    svc.loc[1, "factors"] = "povrety"
    svc.to_csv(toy / "services.csv", index=False)
    expect_error(toy, "services.csv", "column 'factors'", "'povrety'", "did you mean 'poverty'",
                 "row 2")


def test_check_lists_all_problems(toy: Path) -> None:
    df = survey(toy)
    df.loc[0, "weight"] = "-1"
    df.loc[1, "child_labour"] = "7"
    write_survey(toy, df)
    before = folder_digests(toy)
    data, report = inspect_country(toy)
    assert folder_digests(toy) == before
    text = " | ".join(map(str, report.errors))
    assert "weight" in text and "child_labour" in text and len(report.errors) == 2
    with pytest.raises(DataError, match="1 more problem"):
        load_country(toy)
