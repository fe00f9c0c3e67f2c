"""Issue 14, classes 4 and 5: wrong data are refused with a message, and ``clrisk check`` and
``clrisk run`` refuse exactly the same things (one validation).

Each fault is applied to a fresh copy of the toy country. For every fault: ``check`` exits 2
and names the problem; ``run`` exits 2 with the same message, before writing anything (the
output folder does not exist afterwards); the inputs' SHA-256 are unchanged by both.
"""

from __future__ import annotations

import io
import json
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _helpers import folder_digests

from clrisk.cli import main

pytestmark = pytest.mark.usefixtures("english_messages")


# --- faults -------------------------------------------------------------------------------------
def _survey(toy: Path, fn: Callable[[pd.DataFrame], None]) -> None:
    df = pd.read_csv(toy / "survey.csv", dtype={"territory_id": str, "region_id": str})
    fn(df)
    df.to_csv(toy / "survey.csv", index=False)


def _census(toy: Path, fn: Callable[[pd.DataFrame], None]) -> None:
    df = pd.read_parquet(toy / "census.parquet")
    fn(df)
    df.to_parquet(toy / "census.parquet", index=False)


def _profile(toy: Path, fn: Callable[[dict], None]) -> None:
    prof = yaml.safe_load((toy / "profile.yaml").read_text(encoding="utf-8"))
    fn(prof)
    (toy / "profile.yaml").write_text(yaml.safe_dump(prof, allow_unicode=True), encoding="utf-8")


def _cov(prof: dict, name: str) -> dict:
    return next(c for c in prof["covariates"] if c["name"] == name)


def sex_coded_1_2(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("female", d["female"] + 1))


def dont_know_9(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("poverty", d["poverty"].where(d.index % 17 != 3, 9)))


def declared_missing_code(toy: Path) -> None:
    dont_know_9(toy)
    _profile(toy, lambda p: _cov(p, "poverty").__setitem__("missing_codes", [9]))


def code_outside_declared_domain(toy: Path) -> None:
    _profile(toy, lambda p: _cov(p, "head_schooling").__setitem__("values", list(range(0, 12))))


def census_binary_other_codes(toy: Path) -> None:
    _census(toy, lambda d: d.__setitem__("female", d["female"] + 1))


def constant_psu(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("psu", "P1"))


def one_psu_per_stratum(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("psu", d["stratum"]))


def absurd_census_value(toy: Path) -> None:
    def f(d: pd.DataFrame) -> None:
        d["head_schooling"] = d["head_schooling"].astype(float)
        d.loc[5, "head_schooling"] = 1e15
    _census(toy, f)


def huge_weights(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("weight", d["weight"] * 1e306))


def cutoffs_as_percentages(toy: Path) -> None:
    _profile(toy, lambda p: p.__setitem__("risk_levels",
                                          {"method": "fixed", "k": 3, "cutoffs": [10, 20]}))


def cutoffs_without_fixed(toy: Path) -> None:
    _profile(toy, lambda p: p.__setitem__("risk_levels",
                                          {"method": "quantiles", "k": 3, "cutoffs": [0.1, 0.2]}))


def mean_sd_k6(toy: Path) -> None:
    _profile(toy, lambda p: p.__setitem__("risk_levels", {"method": "mean_sd", "k": 6}))


def fixed_without_cutoffs(toy: Path) -> None:
    _profile(toy, lambda p: p.__setitem__("risk_levels", {"method": "fixed", "k": 3}))


def wrong_label_count(toy: Path) -> None:
    lab = {"en": "Low", "es": "Bajo", "fr": "Faible"}
    _profile(toy, lambda p: p.__setitem__("risk_levels", {"method": "quantiles", "k": 3,
                                                          "labels": [lab, lab]}))


def design_column_absent(toy: Path) -> None:
    _profile(toy, lambda p: p["design"].__setitem__("psu", "conglome"))


def todo_placeholders(toy: Path) -> None:
    def f(p: dict) -> None:
        p["names"]["en"] = "TODO"
        p["child_labour_definition"] = {"en": "TODO", "es": "PENDIENTE", "fr": "À FAIRE"}
    _profile(toy, f)


def not_confirmed(toy: Path) -> None:
    _profile(toy, lambda p: p.__setitem__("confirmed", False))


def constant_covariate(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("female", 0))


def perfect_separation(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("child_labour", d["poverty"]))


def outcome_all_zero(toy: Path) -> None:
    _survey(toy, lambda d: d.__setitem__("child_labour", 0))


def map_with_extra_territories(toy: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    geo = gpd.read_file(toy / "territories.geojson")
    extra = gpd.GeoDataFrame({"territory_id": ["990101"], "name": ["Nowhere"],
                              "region_id": ["99"]}, geometry=[box(-70, -10, -69.5, -9.5)],
                             crs=geo.crs)
    pd.concat([geo, extra]).to_file(toy / "territories.geojson", driver="GeoJSON")
    adm = pd.read_csv(toy / "admin_records.csv", dtype={"territory_id": str})
    adm = pd.concat([adm, pd.DataFrame({"territory_id": ["990101"], "school_dropout": [0.1],
                                        "poverty_rate": [0.3]})])
    adm.to_csv(toy / "admin_records.csv", index=False)


FAULTS = {
    "sex_coded_1_2": (sex_coded_1_2, "'female' is a yes/no covariate and must be coded 0/1"),
    "dont_know_9": (dont_know_9, "'poverty' is a yes/no covariate and must be coded 0/1 "
                                 "(found 9)"),
    "declared_missing_code": (declared_missing_code, "declares as missing"),
    "code_outside_domain": (code_outside_declared_domain, "outside the codes the profile "
                                                          "allows"),
    "census_other_codes": (census_binary_other_codes, "census.parquet, column 'female'"),
    "constant_psu": (constant_psu, "single value for every row"),
    "one_psu_per_stratum": (one_psu_per_stratum, "every stratum has a single PSU"),
    "absurd_census_value": (absurd_census_value, "implausible values 1e+15"),
    "huge_weights": (huge_weights, "weights larger than"),
    "cutoffs_percent": (cutoffs_as_percentages, "cutoffs"),
    "cutoffs_not_fixed": (cutoffs_without_fixed, "only used with method: fixed"),
    "mean_sd_k6": (mean_sd_k6, "mean_sd supports k = 2 to 5"),
    "fixed_no_cutoffs": (fixed_without_cutoffs, "cutoffs"),
    "label_count": (wrong_label_count, "risk_levels.labels has 2 entries"),
    "design_column_absent": (design_column_absent, "conglome"),
    "todo_placeholders": (todo_placeholders, "still holds placeholders"),
    "not_confirmed": (not_confirmed, "'confirmed: false'"),
    "constant_covariate": (constant_covariate, "single value in the survey"),
    "perfect_separation": (perfect_separation, "separation"),
    "outcome_all_zero": (outcome_all_zero, "the outcome is always 0"),
    "map_extra_territories": (map_with_extra_territories, "990101"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_refused_alike_by_check_and_run(fault: str, toy: Path, tmp_path: Path,
                                              capsys) -> None:
    mutate, expected = FAULTS[fault]
    mutate(toy)
    before = folder_digests(toy, recursive=True)
    out = tmp_path / "results"
    assert main(["check", "--profile", str(toy / "profile.yaml")]) == 2
    checked = capsys.readouterr().out
    assert expected in checked, checked
    assert "Everything is fine" not in checked
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), "--quiet",
                 "--no-maps", "--draws", "10"]) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err and "Fix" in err + checked
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".clrisk" in p.name] == []
    assert folder_digests(toy, recursive=True) == before


def test_clean_toy_passes_both(toy: Path, tmp_path: Path, capsys) -> None:
    assert main(["check", "--profile", str(toy / "profile.yaml")]) == 0
    assert "Everything is fine" in capsys.readouterr().out
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
                 "--quiet", "--no-maps", "--draws", "10"]) == 0


def test_declared_missing_code_names_rows(toy: Path, capsys) -> None:
    declared_missing_code(toy)
    main(["check", "--profile", str(toy / "profile.yaml")])
    text = capsys.readouterr().out
    rows = [i + 1 for i in range(len(pd.read_csv(toy / "survey.csv"))) if i % 17 == 3]
    assert f"rows {rows[0]}, {rows[1]}" in text and "more)" in text


def test_run_check_agree_on_every_sample_profile_key(toy: Path) -> None:
    """The schema's risk-level methods are all accepted by the code for their allowed k."""
    from clrisk.profile import profile_schema

    methods = profile_schema()["properties"]["risk_levels"]["properties"]["method"]["enum"]
    from clrisk.data.semantic_checks import risk_level_settings
    from clrisk.profile import load_profile

    for method in methods:
        for k in (2, 3, 4, 5):
            levels = {"method": method, "k": k}
            if method == "fixed":
                levels["cutoffs"] = [float(c) for c in np.linspace(0.1, 0.9, k - 1)]
            _profile(toy, lambda p, lv=levels: p.__setitem__("risk_levels", lv))
            assert risk_level_settings(load_profile(toy / "profile.yaml")) == [], (method, k)


def test_init_profile_starter_is_refused_until_confirmed(toy: Path, tmp_path: Path,
                                                         capsys) -> None:
    from clrisk.commands import init_profile

    out_path = tmp_path / "starter" / "profile.yaml"
    args = Namespace(survey=str(toy / "survey.csv"), census=str(toy / "census.parquet"),
                     territories=str(toy / "territories.geojson"),
                     admin_records=str(toy / "admin_records.csv"), out=str(out_path),
                     force=False)
    assert init_profile.run(args, io.StringIO()) == 0
    text = out_path.read_text(encoding="utf-8")
    assert "confirmed: false" in text
    assert main(["check", "--profile", str(out_path)]) == 2
    checked = capsys.readouterr().out
    assert "'confirmed: false'" in checked and "placeholders" in checked
    assert main(["run", "--profile", str(out_path), "--out", str(tmp_path / "r"), "--quiet",
                 "--no-maps"]) == 2
    assert "placeholders" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_manifest_records_the_profile_and_methods(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), "--quiet",
                 "--no-maps", "--draws", "10", "--seed", "7"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["seed"] == 7 and manifest["parameters"]["draws"] == 10
    assert manifest["methods"]["risk_levels"] == {"k": 3, "method": "quantiles"}
    assert manifest["profile"] == "../toy/profile.yaml"  # relative: no local path published
    assert manifest["input_root"] == "../toy"


def test_harmonisation_difference_is_a_note_not_a_refusal(toy: Path, tmp_path: Path,
                                                          capsys) -> None:
    """A covariate whose census mean is far from the survey's is reported (survey engineer's
    harmonisation check) but not refused: the difference may be real."""
    _census(toy, lambda d: d.__setitem__("poverty", (d.index % 10 != 0).astype(int)))
    before = folder_digests(toy, recursive=True)
    assert main(["check", "--profile", str(toy / "profile.yaml")]) == 0
    out = capsys.readouterr().out
    note = [line for line in out.splitlines() if line.strip().startswith("i ")]
    assert any("'poverty'" in line for line in note), out
    assert folder_digests(toy, recursive=True) == before


@pytest.mark.parametrize("fault", ["absurd_census_value", "census_other_codes",
                                   "map_extra_territories"])
def test_census_on_disk_checked_in_batches(fault: str, toy: Path, monkeypatch,
                                           capsys) -> None:
    """A census too large to load is checked batch by batch with the same messages and the
    file's own row numbers."""
    from clrisk.data import semantic_checks

    monkeypatch.setattr(semantic_checks, "BATCH_ROWS", 128)
    FAULTS[fault][0](toy)
    assert main(["check", "--profile", str(toy / "profile.yaml"),
                 "--max-census-rows", "100"]) == 2
    text = capsys.readouterr().out
    assert FAULTS[fault][1] in text, text
    if fault == "absurd_census_value":
        assert "— row 6." in text


def test_run_prints_the_harmonisation_note_as_a_warning(toy: Path, tmp_path: Path,
                                                        capsys) -> None:
    _census(toy, lambda d: d.__setitem__("poverty", (d.index % 10 != 0).astype(int)))
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
                 "--quiet", "--no-maps", "--draws", "10", "--lang", "es"]) == 0
    err = capsys.readouterr().err
    assert any(line.startswith("Advertencia: ") and "'poverty'" in line
               for line in err.splitlines()), err
    assert "DataWarning" not in err


@pytest.mark.parametrize("weights,code", [("pca", 0), ("equal", 0),
                                          ({"education": 0, "poverty": 0}, 2)])
def test_ivti_weights_the_schema_allows_are_run_or_refused_alike(
        weights, code: int, toy: Path, tmp_path: Path, capsys) -> None:
    """dimension_weights: equal | pca (schema) are weighting schemes the code runs; all-zero
    weights are refused by check and run with the same message."""
    _profile(toy, lambda p: p["ivti"].__setitem__("dimension_weights", weights))
    assert main(["check", "--profile", str(toy / "profile.yaml")]) == code
    checked = capsys.readouterr().out
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
                 "--quiet", "--no-maps", "--draws", "10"]) == code
    err = capsys.readouterr().err
    if code:
        assert "dimension_weights are all 0" in checked and "dimension_weights are all 0" in err
        assert not (tmp_path / "r").exists()
    else:
        assert (tmp_path / "r" / "ivti.csv").is_file()
