"""``clrisk run`` end to end on small sample countries."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from clrisk.cli import main
from clrisk.i18n import set_language

ROOT = Path(__file__).resolve().parents[1] / "data_samples"


def _country(key: str, tmp_path_factory) -> Path:
    if (ROOT / key / "profile.yaml").exists():
        return ROOT / key
    from clrisk.synth.build import simulate_country, write_country

    return write_country(simulate_country(key), tmp_path_factory.mktemp(key))


@pytest.mark.slow
def test_run_risk_model_country_writes_everything(tmp_path, tmp_path_factory):
    src = _country("chile", tmp_path_factory)
    out = tmp_path / "out"
    try:
        code = main(["--lang", "es", "run", "--data-dir", str(src), "--out", str(out),
                     "--draws", "50", "--quiet"])
    finally:
        set_language("en")
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    for f in ("territories.csv", "territories.gpkg", "factor_weights.csv", "model.json",
              "coefficients.csv", "national_factors.csv", "ivti.csv", "report.md",
              "map_probability.png", "map_probability.svg", "map_risk_level.png",
              "map_risk_level.svg", "map_p_top.png", "map_ivti.svg"):
        assert f in names, f
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]
    terr = pd.read_csv(out / "territories.csv", dtype={"territory_id": str, "region_id": str})
    geo = gpd.read_file(out / "territories.gpkg")
    assert len(terr) == len(geo) == len(gpd.read_file(src / "territories.geojson"))
    assert terr["territory_id"].is_monotonic_increasing
    assert set(terr["risk_label"]) == {"Bajo", "Medio", "Alto"}
    assert terr["p_top"].between(0, 1).all()
    fw = pd.read_csv(out / "factor_weights.csv", dtype={"territory_id": str})
    assert set(fw["territory_id"]) == set(terr["territory_id"])
    from clrisk.phase1.model import RiskModel

    model = RiskModel.from_json((out / "model.json").read_text(encoding="utf-8"))
    coef = pd.read_csv(out / "coefficients.csv")
    assert list(coef["term"]) == list(model.params.index)
    assert (out / "map_probability.png").stat().st_size > 10_000
    assert "Alto" in (out / "report.md").read_text(encoding="utf-8")


def test_run_ivti_only_country(tmp_path, tmp_path_factory):
    src = _country("jamaica", tmp_path_factory)
    out = tmp_path / "jm"
    assert main(["run", "--profile", str(src / "profile.yaml"), "--out", str(out),
                 "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"ivti.csv", "territories.gpkg", "map_ivti.png", "map_ivti_level.svg",
            "report.md"} <= names
    assert "model.json" not in names and "territories.csv" not in names
    ivti = pd.read_csv(out / "ivti.csv", dtype={"territory_id": str})
    contrib = ivti.filter(like="contribution_").sum(axis=1)
    assert ((contrib - ivti["ivti"]).abs() < 1e-5).all()


def test_run_bad_folder_reports_error(tmp_path, capsys):
    code = main(["run", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"),
                 "--quiet"])
    assert code == 2
    assert "Error" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
