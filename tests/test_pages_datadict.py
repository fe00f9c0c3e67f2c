"""Data dictionary (issue 15 item 5): every column of a fresh ``clrisk run`` is documented.

Why run the CLI rather than list columns: the output files are what a country team downloads,
so the test reads the files a run actually wrote — for a survey–census country and for an
IVTI-only country, whose tables differ — and asks ``clrisk/output_columns.yaml`` for an en/es/fr
description of each column (patterns such as ``dimension_*`` cover profile-named columns).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clrisk.cli import main as clrisk_main
from clrisk_book import datadict


@pytest.fixture(scope="module", params=["peru", "jamaica"])
def run_folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"run-{request.param}")
    assert clrisk_main(["run", "--country", request.param, "--out", str(out), "--no-maps",
                        "--quiet"]) == 0
    return out


def test_every_output_column_is_documented(run_folder: Path) -> None:
    tables = [p for p in run_folder.iterdir() if p.suffix in datadict.TABLE_SUFFIXES]
    assert tables, f"clrisk run wrote no table in {run_folder}"
    missing = datadict.undocumented(run_folder)
    assert not missing, ("add these columns to clrisk/output_columns.yaml (en, es, fr): "
                         + ", ".join(missing))


def test_checker_reports_a_new_column(tmp_path: Path) -> None:
    (tmp_path / "territories.csv").write_text("territory_id,brand_new\n01,1\n", encoding="utf-8")
    (tmp_path / "unknown.csv").write_text("a\n1\n", encoding="utf-8")
    missing = datadict.undocumented(tmp_path)
    assert "territories.csv: brand_new (en)" in missing and "unknown.csv: *" in missing
    assert not any("territory_id" in m for m in missing)


def test_patterns_and_languages() -> None:
    cols = datadict.load()
    assert datadict.describe(cols, "ivti.csv", "dimension_health", "fr")
    assert datadict.describe(cols, "ivti.csv", "no_such_column") is None
    page = datadict.render_markdown("es", cols)
    assert "`p_top`" in page and "## `territories.csv`" in page
    assert datadict.describe(cols, "territories.csv", "p_top", "es") in page
