"""Readers, safe expressions and mapping rules, unit by unit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clrisk.data import load_country
from clrisk.data.expressions import ExpressionError, evaluate, parse_expression
from clrisk.data.mapping import apply_mapping, build_id, recode
from clrisk.data.readers import detect_encoding, detect_separator, read_csv, read_parquet
from clrisk.data.toy import write_toy_country
from clrisk.errors import DataError

TEXT = "territory_id;nombre;peso\n010101;Año Nuevo;12,5\n020102;Peñas;3,25\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_encoding_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(TEXT.encode(encoding))
    table = read_csv(path, string_columns=["territory_id"])
    assert table.data["nombre"].tolist() == ["Año Nuevo", "Peñas"]
    assert table.data["territory_id"].tolist() == ["010101", "020102"]  # zeros kept
    assert table.sep == ";"
    expected = {"latin-1": "cp1252"}.get(encoding, encoding)  # latin-1 text decodes as cp1252
    assert table.encoding == expected


def test_cp1252_specific_bytes() -> None:
    raw = "“comillas” – guion".encode("cp1252")
    assert detect_encoding(raw, Path("x.csv")) == "cp1252"
    assert detect_encoding(b"\x81\x8d ok", Path("x.csv")) == "latin-1"  # undefined in cp1252


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separator_detected(sep: str) -> None:
    sample = sep.join(["a", "b", "c"]) + "\n" + sep.join(["1", "2", "3"]) + "\n"
    assert detect_separator(sample) == sep


def test_decimal_comma_auto_with_semicolon(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(TEXT, encoding="utf-8")
    table = read_csv(path, string_columns=["territory_id"])
    assert table.data["peso"].tolist() == [12.5, 3.25]
    assert table.decimal_comma_columns == ["peso"] and table.notes


def test_decimal_comma_declared_with_comma_separator(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('id,peso\n1,"12,5"\n2,"7"\n', encoding="utf-8")
    assert read_csv(path).data["peso"].dtype == object  # ambiguous: left as text
    assert read_csv(path, decimal=",").data["peso"].tolist() == [12.5, 7.0]


def test_parquet_numeric_ids_become_text(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"territory_id": [150101.0, 10101.0], "x": [1, 2]}).to_parquet(path)
    df = read_parquet(path, ["territory_id"]).data
    assert df["territory_id"].tolist() == ["150101", "10101"]


def test_input_bytes_unchanged_by_reading(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(TEXT.encode("cp1252"))
    before = path.read_bytes()
    read_csv(path)
    assert path.read_bytes() == before


# --- expressions ---------------------------------------------------------------------------
def test_expression_names_and_result() -> None:
    df = pd.DataFrame({"edad": [10, 15, 16, np.nan], "horas": [2, 10, 40, 50]})
    assert parse_expression("(edad < 14 & horas > 0) | horas >= 36") == {"edad", "horas"}
    out = evaluate(df, "(edad < 14 & horas > 0) | horas >= 36")
    assert out.tolist() == [True, False, True, True]
    assert evaluate(df, "edad in [10, 16]").tolist() == [True, False, True, False]


@pytest.mark.parametrize("expr", ["__import__('os')", "edad.max() > 1", "df['edad'] > 1",
                                  "@x > 1", "lambda: 1", "edad if horas else 0",
                                  "[e for e in edad]", "None == edad"])
def test_expression_refuses_code(expr: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(expr)


# --- mapping rules -------------------------------------------------------------------------
def test_build_id_zero_pads() -> None:
    df = pd.DataFrame({"dd": [1.0, 15.0], "pp": [1, 2], "di": ["1", "10"]})
    out = build_id(df, {"columns": ["dd", "pp", "di"], "widths": [2, 2, 2]}, "territory_id",
                   Path("s.dta"), "mapping")
    assert out.tolist() == ["010101", "150210"]


def test_recode_keys_as_text_or_numbers() -> None:
    df = pd.DataFrame({"p207": [1.0, 2.0, 2.0]})
    rule = {"column": "female", "from": "p207", "map": {"1": 0, 2: 1}}
    assert recode(df, rule, Path("s.dta"), "m", {}).tolist() == [0, 1, 1]


def test_recode_bins_to_categories() -> None:
    df = pd.DataFrame({"edad": [5, 11, 12, 14, 17]})
    rule = {"column": "age_group", "from": "edad", "bins": [5, 12, 15, 18],
            "labels": [1, 2, 3]}
    assert recode(df, rule, Path("s.csv"), "m", {}).tolist() == [1, 1, 2, 2, 3]


def test_recode_default_for_other_values() -> None:
    df = pd.DataFrame({"lengua": [1, 4, 7]})
    rule = {"column": "indigenous", "from": "lengua", "map": {1: 1, 4: 0}, "default": 0}
    assert recode(df, rule, Path("s.csv"), "m", {}).tolist() == [1, 0, 0]


def test_mapping_order_and_index_kept() -> None:
    df = pd.DataFrame({"edad": [4, 10, 15], "horas": [0, 5, 0], "sexo": [1, 2, 1]})
    rules = {"recode": [{"column": "female", "from": "sexo", "map": {1: 0, 2: 1}}],
             "derive": {"child_labour": "edad < 14 & horas > 0"},
             "filter": ["edad >= 5"], "rename": {"edad": "age"}}
    out, notes = apply_mapping(df, rules, Path("s.csv"), "survey")
    assert out.index.tolist() == [1, 2]  # file rows kept for later messages
    assert out[["age", "female", "child_labour"]].to_numpy().tolist() == [[10, 1, 1],
                                                                          [15, 0, 0]]
    assert "kept 2 of 3 rows" in notes[0]


# --- large census ---------------------------------------------------------------------------
def test_large_census_left_on_disk(tmp_path: Path) -> None:
    prof = write_toy_country(tmp_path / "toy")
    data = load_country(prof, max_census_rows=100)
    assert data.census is None
    assert data.census_path == (tmp_path / "toy" / "census.parquet").resolve()
    assert any("not loaded in memory" in n for n in data.notes)


def test_large_census_still_checked(tmp_path: Path) -> None:
    prof = write_toy_country(tmp_path / "toy")
    cen = pd.read_parquet(tmp_path / "toy" / "census.parquet")
    cen.loc[500, "territory_id"] = "990101"
    cen.to_parquet(tmp_path / "toy" / "census.parquet", index=False)
    with pytest.raises(DataError, match="'990101'"):
        load_country(prof, max_census_rows=100)


def test_country_by_env_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_toy_country(tmp_path / "toyland")
    monkeypatch.setenv("CLRISK_DATA", str(tmp_path))
    assert load_country("toyland").key == "toyland"
    shutil.rmtree(tmp_path / "toyland")
    with pytest.raises(DataError, match="unknown country"):
        load_country("toyland")


def test_declared_crs_differs_is_noted(tmp_path: Path) -> None:
    import yaml

    prof = write_toy_country(tmp_path / "toy")
    d = yaml.safe_load(prof.read_text(encoding="utf-8"))
    d["crs"] = "EPSG:32718"
    prof.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
    notes = load_country(prof).notes
    assert any("says crs EPSG:32718" in n and "EPSG:4326" in n for n in notes)


def test_geopackage_layer_and_projected_crs(tmp_path: Path) -> None:
    import geopandas as gpd
    import yaml

    prof = write_toy_country(tmp_path / "toy")
    gdf = gpd.read_file(tmp_path / "toy" / "territories.geojson").to_crs("EPSG:32718")
    gdf.to_file(tmp_path / "toy" / "mapa.gpkg", layer="distritos", driver="GPKG")
    d = yaml.safe_load(prof.read_text(encoding="utf-8"))
    d["files"]["territories"] = {"path": "mapa.gpkg", "layer": "distritos"}
    prof.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
    data = load_country(prof)
    assert data.territories.crs.to_epsg() == 4326
    assert any("reprojected from EPSG:32718" in n for n in data.notes)
    assert data.territories["territory_id"].tolist() == sorted(gdf["territory_id"])


def test_recode_by_value_label() -> None:
    df = pd.DataFrame({"p207": [1.0, 2.0, 2.0]})
    rule = {"column": "female", "from": "p207", "map": {"Hombre": 0, "mujer": 1}}
    labels = {"p207": {1: "Hombre", 2: "Mujer"}}
    assert recode(df, rule, Path("s.dta"), "m", labels).tolist() == [0, 1, 1]
