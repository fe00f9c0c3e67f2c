"""Real national outlines (Natural Earth, public domain) for the synthetic samples.

Why vendored and simplified: the samples must be recognisable at a glance (a researcher
compares a sample map with the published national map), yet the package must not download
anything at run time and ``data_samples/`` must stay small. The nine outlines are cut once from
Natural Earth's 1:50m Admin-0 countries, as shipped in TopoJSON by the npm package
``world-atlas``, reduced to the mainland and the main islands, simplified and rounded to 5
decimals, and stored in ``clrisk/synth/outlines/natural_earth_50m.geo.json``. Only the *outer*
boundary is real: every inner boundary drawn inside it is synthetic.

Regenerate (see ``book/outlines.md``)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python -m clrisk.synth.outlines package/countries-50m.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

OUTLINE_FILE = Path(__file__).resolve().parent / "outlines" / "natural_earth_50m.geo.json"
SOURCE = {
    "name": "Natural Earth Admin 0 - Countries, 1:50m (public domain)",
    "via": "npm package world-atlas 2.0.2 (countries-50m.json, TopoJSON, ISC licence)",
    "url": "https://www.naturalearthdata.com/ ; https://github.com/topojson/world-atlas",
}
# ISO 3166-1 numeric codes, as used for the TopoJSON object ids.
ISO_NUMERIC: dict[str, str] = {
    "argentina": "032", "brazil": "076", "chile": "152", "colombia": "170", "costa_rica": "188",
    "guatemala": "320", "jamaica": "388", "mexico": "484", "peru": "604",
}
MIN_PART_SHARE = 0.003  # keep islands holding at least 0.3% of the national area
SIMPLIFY_SHARE = 0.0015  # tolerance as a share of sqrt(national area)
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQUATOR = 111.32


# --- TopoJSON decoding ---------------------------------------------------------------------
def _decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Absolute lon/lat coordinates of every arc (delta-decoding the quantised positions)."""
    tr = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=float)
        if tr is not None:
            a = np.cumsum(a, axis=0) * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
        arcs.append(a)
    return arcs


def _ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """Join arcs into one ring; a negative index ~i means arc i reversed."""
    pts: list[np.ndarray] = []
    for i in indices:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.append(a if not pts else a[1:])
    return np.vstack(pts)


def topo_geometry(geom: dict[str, Any], arcs: list[np.ndarray]) -> Polygon | MultiPolygon:
    """One TopoJSON Polygon/MultiPolygon object as a shapely geometry."""
    polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
    out = [Polygon(_ring(p[0], arcs), [_ring(h, arcs) for h in p[1:]]) for p in polys]
    g = MultiPolygon(out) if len(out) > 1 else out[0]
    return shapely.make_valid(g) if not g.is_valid else g


# --- local planar frame ----------------------------------------------------------------------
def to_km(geom, lat0: float, lon0: float):
    """Equirectangular projection around (lon0, lat0), in km (areas good to ~1% per country)."""
    kx = KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    return shapely.transform(geom, lambda c: np.column_stack(
        [(c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * KM_PER_DEG_LAT]))


def to_lonlat(geom, lat0: float, lon0: float):
    """Inverse of :func:`to_km`."""
    kx = KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    return shapely.transform(geom, lambda c: np.column_stack(
        [lon0 + c[:, 0] / kx, lat0 + c[:, 1] / KM_PER_DEG_LAT]))


def _parts(geom) -> list[Polygon]:
    return [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]


def clean_outline(geom) -> Polygon | MultiPolygon:
    """Mainland + main islands, simplified in km, back to lon/lat rounded to 1e-5 degrees."""
    c = geom.centroid
    km = to_km(geom, c.y, c.x)
    total = km.area
    keep = [p for p in _parts(km) if p.area >= MIN_PART_SHARE * total]
    tol = SIMPLIFY_SHARE * math.sqrt(total)
    simple = [shapely.simplify(Polygon(p.exterior), tol, preserve_topology=True) for p in keep]
    merged = shapely.union_all([shapely.make_valid(p) for p in simple])
    out = shapely.set_precision(to_lonlat(merged, c.y, c.x), 1e-5)
    parts = sorted(_parts(out), key=lambda p: -p.area)
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def vendor(topojson_path: str | Path, out: str | Path = OUTLINE_FILE) -> Path:
    """Write the nine cleaned outlines as one GeoJSON FeatureCollection (deterministic)."""
    topology = json.loads(Path(topojson_path).read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    by_id = {g.get("id"): g for g in topology["objects"]["countries"]["geometries"]}
    lines = []
    for key in sorted(ISO_NUMERIC):
        g = by_id[ISO_NUMERIC[key]]
        geom = shapely.orient_polygons(clean_outline(topo_geometry(g, arcs)))
        feature = {"type": "Feature",
                   "properties": {"country": key, "iso_numeric": ISO_NUMERIC[key],
                                  "name": g.get("properties", {}).get("name", key)},
                   "geometry": json.loads(json.dumps(mapping(geom)),
                                          parse_float=lambda s: round(float(s), 5))}
        lines.append(json.dumps(feature, separators=(",", ":")))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps(SOURCE, separators=(",", ":"))
    out.write_text('{"type":"FeatureCollection","source":' + meta + ',"features":[\n'
                   + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    return out


@cache
def _all_outlines() -> dict[str, Polygon | MultiPolygon]:
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    return {f["properties"]["country"]: shape(f["geometry"]) for f in data["features"]}


def outline(key: str) -> Polygon | MultiPolygon:
    """The vendored lon/lat outline of sample country ``key``."""
    return _all_outlines()[key]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clrisk.synth.outlines",
                                     description="Vendor the nine Natural Earth outlines.")
    parser.add_argument("topojson", type=Path, help="world-atlas countries-50m.json")
    parser.add_argument("--out", type=Path, default=OUTLINE_FILE)
    args = parser.parse_args(argv)
    path = vendor(args.topojson, args.out)
    print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
