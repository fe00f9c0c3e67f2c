"""A large national-format census is mapped in batches into a canonical Parquet cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from clrisk.data import load_country
from clrisk.data.census_stream import map_census_to_cache
from clrisk.data.national_samples import write_national_sample
from clrisk.data.toy import write_toy_country
from clrisk.errors import DataError


@pytest.mark.parametrize("fmt", ["sav", "parquet"])
def test_streamed_census_equals_in_memory(fmt: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLRISK_CACHE", str(tmp_path / "cache"))
    toy = write_toy_country(tmp_path / "toy")
    prof = write_national_sample(toy, tmp_path / "nat", census_format=fmt)
    raw = next((tmp_path / "nat").glob(f"censo_ninos.{fmt}"))
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    small = load_country(prof)
    big = load_country(prof, max_census_rows=100)
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == digest
    assert big.census is None and big.census_path is not None
    assert big.census_path.parent == tmp_path / "cache"
    streamed = pd.read_parquet(big.census_path)
    streamed["territory_id"] = streamed["territory_id"].astype(object)
    cols = sorted(small.census.columns)
    pd.testing.assert_frame_equal(
        streamed[cols].sort_values(cols).reset_index(drop=True),
        small.census[cols].sort_values(cols).reset_index(drop=True))
    again = load_country(prof, max_census_rows=100)
    assert again.census_path == big.census_path
    assert any("cache reused" in n for n in again.notes)


def test_streamed_census_reports_bad_rows(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import pyreadstat

    monkeypatch.setenv("CLRISK_CACHE", str(tmp_path / "cache"))
    toy = write_toy_country(tmp_path / "toy")
    prof = write_national_sample(toy, tmp_path / "nat")
    path = tmp_path / "nat" / "censo_ninos.sav"
    df, meta = pyreadstat.read_sav(str(path))
    labels = {k: {int(a): b for a, b in v.items()} for k, v in meta.variable_value_labels.items()}
    df.loc[700, "sexo"] = 9
    labels["sexo"][9] = "Ignorado"
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    with pytest.raises(DataError, match=r"9 \('Ignorado'\).*row 701"):
        load_country(prof, max_census_rows=100)
    assert not list((tmp_path / "cache").glob("*.parquet"))  # no half-written cache
    assert map_census_to_cache  # public helper importable
