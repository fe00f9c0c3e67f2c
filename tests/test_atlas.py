"""The regional atlas (issue 16 item 5): summaries from the samples, cached, one table row and
one panel per country."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clrisk.atlas import atlas_png, comparison_table, regional_summaries


@pytest.fixture(scope="module")
def summaries(tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLRISK_CACHE", str(cache))
        first = regional_summaries(["chile", "jamaica"])
        files = list(Path(cache).rglob("*.json"))
        assert len(files) == 1  # cached once, keyed by the input files
        again = regional_summaries(["chile", "jamaica"])
        assert json.dumps(again, sort_keys=True) == json.dumps(first, sort_keys=True)
        png = atlas_png(first, "es")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and atlas_png(first, "es") == png
    return first


def test_summaries_are_consistent(summaries: dict) -> None:
    chile, jamaica = summaries["chile"], summaries["jamaica"]
    assert chile["route"] == "model" and jamaica["route"] == "ivti"
    assert chile["mean_risk_low"] <= chile["mean_risk"] <= chile["mean_risk_high"]
    assert 0 < chile["top_share"] < 1
    assert set(chile["levels"].values()) == set(range(1, chile["k"] + 1))
    assert len(jamaica["levels"]) == jamaica["n_territories"] == 14
    assert chile["top_factor"]


def test_comparison_table_in_three_languages(summaries: dict) -> None:
    for lang in ("en", "es", "fr"):
        t = comparison_table(summaries, lang)
        assert len(t) == 2 and t.shape[1] == 6
        assert t.iloc[1, 2] == "—"  # Jamaica: IVTI route, no children count
    assert "Chili" in comparison_table(summaries, "fr").iloc[:, 0].tolist()
