"""Ratio benchmarking is a profile option; when on, the run writes its before/after table
(issue 12 item 5: "with a before/after table") next to territories.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from clrisk.cli import main


def _set_benchmark(toy: Path, level: str) -> None:
    path = toy / "profile.yaml"
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    profile["small_area"] = {**(profile.get("small_area") or {}), "benchmark": level}
    path.write_text(yaml.safe_dump(profile, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")


def test_national_benchmark_table_is_written_and_reproduces_the_direct_estimate(
        toy: Path, tmp_path: Path, english_messages) -> None:
    _set_benchmark(toy, "national")
    out = tmp_path / "r"
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), "--quiet",
                 "--no-maps"]) == 0
    table = pd.read_csv(out / "benchmark.csv", dtype={"group": str})
    assert list(table.columns) == ["group", "direct", "model_before", "model_after", "factor",
                                   "territories"]
    assert table["group"].tolist() == ["national"]
    row = table.iloc[0]
    assert np.isclose(row["model_after"], row["direct"], rtol=1e-9)
    assert np.isclose(row["factor"], row["direct"] / row["model_before"], rtol=1e-4)  # CSV: 6 dp
    # the territories the run published are the benchmarked ones
    terr = pd.read_csv(out / "territories.csv", dtype={"territory_id": str})
    rate = (terr["children"] * terr["mean_probability"]).sum() / terr["children"].sum()
    assert np.isclose(rate, row["direct"], rtol=1e-4)
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert "benchmark.csv" in manifest


def test_no_benchmark_table_by_default(toy: Path, tmp_path: Path, english_messages) -> None:
    out = tmp_path / "r"
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), "--quiet",
                 "--no-maps"]) == 0
    assert not (out / "benchmark.csv").exists()
