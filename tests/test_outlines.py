"""The samples are drawn inside the real national outlines (issue 16).

Why: a reader compares a sample map with the published national map; the outer boundary must be
the real one (Natural Earth, vendored in ``clrisk/synth/outlines``) and every inner boundary is
synthetic. The TopoJSON decoder that produced the vendored file is checked on a hand-made
topology whose answer is known.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon
from shapely.ops import unary_union

from clrisk.synth import COUNTRY_KEYS
from clrisk.synth.outlines import (
    ISO_NUMERIC,
    OUTLINE_FILE,
    _decode_arcs,
    outline,
    to_km,
    topo_geometry,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


@pytest.mark.parametrize("key", COUNTRY_KEYS)
def test_sample_outer_boundary_is_the_vendored_outline(key: str) -> None:
    g = gpd.read_file(SAMPLES / key / "territories.geojson")
    union = unary_union(list(g.geometry))
    ref = outline(key)
    c = ref.centroid
    a, b = to_km(union, c.y, c.x), to_km(ref, c.y, c.x)
    assert a.symmetric_difference(b).area / b.area < 0.01


def test_vendored_file_is_small_and_documented() -> None:
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    assert OUTLINE_FILE.stat().st_size < 1_000_000
    assert "Natural Earth" in data["source"]["name"]
    assert sorted(f["properties"]["country"] for f in data["features"]) == sorted(ISO_NUMERIC)
    assert set(ISO_NUMERIC) == set(COUNTRY_KEYS)


@pytest.mark.parametrize("key,km2", [("brazil", 8.5e6), ("jamaica", 1.1e4), ("peru", 1.29e6),
                                     ("costa_rica", 5.1e4), ("mexico", 1.96e6)])
def test_outline_areas_are_the_countries(key: str, km2: float) -> None:
    """Published land areas (km²): the outline is the country, not a blob of similar size."""
    g = outline(key)
    c = g.centroid
    assert abs(to_km(g, c.y, c.x).area / km2 - 1) < 0.04


def test_topojson_decoder_on_a_known_topology() -> None:
    # Two squares sharing an edge; arc 0 is the shared edge, quantised with delta encoding.
    topo = {"transform": {"scale": [0.5, 0.5], "translate": [10.0, 20.0]},
            "arcs": [[[2, 0], [0, 2]],                      # (11,20) -> (11,21)
                     [[2, 2], [-2, 0], [0, -2], [2, 0]],    # (11,21) (10,21) (10,20) (11,20)
                     [[2, 0], [2, 0], [0, 2], [-2, 0]]]}    # (11,20) (12,20) (12,21) (11,21)
    arcs = _decode_arcs(topo)
    assert arcs[0].tolist() == [[11.0, 20.0], [11.0, 21.0]]
    left = topo_geometry({"type": "Polygon", "arcs": [[0, 1]]}, arcs)
    right = topo_geometry({"type": "Polygon", "arcs": [[2, ~0]]}, arcs)  # ~0: arc 0 reversed
    assert left.equals(Polygon([(10, 20), (11, 20), (11, 21), (10, 21)]))
    assert right.equals(Polygon([(11, 20), (12, 20), (12, 21), (11, 21)]))
    both = topo_geometry({"type": "MultiPolygon", "arcs": [[[0, 1]], [[2, ~0]]]}, arcs)
    assert both.area == 2.0
