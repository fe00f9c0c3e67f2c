"""Same inputs and seed => identical outputs, byte for byte, for every file `clrisk run` writes
(tables, GeoPackage, model JSON, PNG/SVG maps, report)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import folder_digests

from clrisk.cli import main


@pytest.mark.slow
def test_two_runs_write_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        assert main(["run", "--country", "chile", "--out", str(out), "--quiet"]) == 0
    a, b = folder_digests(first, recursive=True), folder_digests(second, recursive=True)
    assert {"territories.csv", "territories.gpkg", "model.json", "factor_weights.csv"} <= set(a)
    assert any(name.endswith(".svg") for name in a) and any(name.endswith(".png") for name in a)
    assert a == b
    # No temporary files are left behind by the atomic writers.
    assert not [name for name in a if name.startswith(".") or name.endswith(".tmp")]
