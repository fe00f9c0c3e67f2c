"""Issue 8 acceptance: national-format files reach the same territory table as the canonical
sample, through the same commands a country team runs (`clrisk check`, `clrisk run --profile`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _helpers import folder_digests

from clrisk.cli import main
from clrisk.data.national_samples import write_national_sample


@pytest.mark.slow
def test_national_files_give_the_canonical_territory_table(tmp_path: Path) -> None:
    national = tmp_path / "peru_national"
    write_national_sample("peru", national)
    before = folder_digests(national)

    assert main(["check", "--profile", str(national / "profile.yaml")]) == 0

    out_national, out_canonical = tmp_path / "out_national", tmp_path / "out_canonical"
    assert main(["run", "--profile", str(national / "profile.yaml"), "--out",
                 str(out_national), "--no-maps", "--quiet"]) == 0
    assert main(["run", "--country", "peru", "--out", str(out_canonical), "--no-maps",
                 "--quiet"]) == 0

    for table in ("territories.csv", "factor_weights.csv", "coefficients.csv"):
        national_table = pd.read_csv(out_national / table, dtype={"territory_id": str})
        canonical_table = pd.read_csv(out_canonical / table, dtype={"territory_id": str})
        assert len(canonical_table) > 0
        pd.testing.assert_frame_equal(national_table, canonical_table)
    # Raw national inputs are read-only to us.
    assert folder_digests(national) == before
