"""Synthetic administrative geography: outline, territories, regions, names and codes.

Why Voronoi cells of clustered seeds inside the real outline: real administrative units are
small and many near cities and large and few in the hinterland, with irregular shared borders.
Voronoi cells of seed points that are denser around the main city and two other real cities,
clipped to the country's real outline (Natural Earth, :mod:`clrisk.synth.outlines`), reproduce
that look (and the area-density gradient that makes small units urban) without any real inner
boundary: every inner boundary is synthetic. Regions are contiguous unions of territories found by
k-means on the seed points, repaired so every region is one connected piece.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.ops import unary_union

from clrisk.synth import outlines
from clrisk.synth.countries import CountryParams


@dataclass
class Geography:
    """Territories in planar kilometres (for areas) and in lon/lat (for files)."""

    outline_km: Polygon | MultiPolygon
    cells_km: list[Polygon | MultiPolygon]  # one per territory, same order as other arrays
    cells_lonlat: list[Polygon | MultiPolygon]
    seeds_km: np.ndarray  # (n, 2)
    capital_km: np.ndarray  # (2,)
    region_index: np.ndarray  # (n,) 0..n_regions-1, ordered north to south
    territory_id: list[str]
    territory_name: list[str]
    region_id: list[str]  # per territory
    region_name: dict[str, str]  # region_id -> name
    area_km2: np.ndarray


def _sample_inside(rng: np.random.Generator, outline, n: int,
                   center: np.ndarray | None = None, sd: float = 0.0) -> np.ndarray:
    """``n`` points inside ``outline``: uniform (center None) or Gaussian around ``center``."""
    minx, miny, maxx, maxy = outline.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        m = max(4 * (n - got), 16)
        if center is None:
            cand = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        else:
            cand = center + rng.normal(0.0, sd, size=(m, 2))
        keep = shapely.contains_xy(outline, cand[:, 0], cand[:, 1])
        cand = cand[keep][: n - got]
        out.append(cand)
        got += len(cand)
    return np.vstack(out)


def seed_points(rng: np.random.Generator, outline, n: int, cities: np.ndarray) -> np.ndarray:
    """Seeds clustered near the main city and two other real cities, spread elsewhere.

    Shares: 25 % around the main city, 2 x 10 % around the others, 55 % uniform. A minimum
    spacing (a fraction of the mean spacing) avoids slivers from near-duplicate seeds.
    """
    scale = math.sqrt(outline.area)
    n_cap = int(round(0.25 * n))
    n_city = int(round(0.10 * n))
    pools = [
        _sample_inside(rng, outline, 3 * n_cap, cities[0], 0.07 * scale),
        _sample_inside(rng, outline, 3 * n_city, cities[1], 0.05 * scale),
        _sample_inside(rng, outline, 3 * n_city, cities[2], 0.05 * scale),
        _sample_inside(rng, outline, 6 * n, None),
    ]
    quotas = [n_cap, n_city, n_city, n - n_cap - 2 * n_city]
    d_min = 0.125 * math.sqrt(outline.area / n)
    chosen = np.empty((n, 2))
    k = 0

    def far_enough(p: np.ndarray) -> bool:
        return k == 0 or float(np.min(np.hypot(*(chosen[:k] - p).T))) >= d_min

    for pool, quota in zip(pools, quotas, strict=True):
        taken = 0
        for p in pool:
            if taken >= quota:
                break
            if far_enough(p):
                chosen[k] = p
                k += 1
                taken += 1
    pool = _sample_inside(rng, outline, 20 * n, None)
    i = 0
    while k < n:  # top up from uniform if spacing rejected too many
        p = pool[i]
        i += 1
        if far_enough(p):
            chosen[k] = p
            k += 1
    return chosen


def voronoi_cells(points: np.ndarray, outline) -> list[Polygon | MultiPolygon]:
    """Voronoi cells of ``points`` clipped to ``outline``, in input order, one geometry each.

    Clipping to a non-convex outline can cut a cell in pieces; a stray piece is merged into the
    neighbouring cell with the longest shared border, so the cells still tile the outline. A
    piece that touches no other cell (an island) stays with its own cell (a MultiPolygon).
    """
    vor = shapely.voronoi_polygons(MultiPoint(points), extend_to=outline, ordered=True)
    raw = shapely.intersection(np.asarray(vor.geoms), outline)
    mains: list[Polygon] = []
    strays: list[tuple[int, Polygon]] = []
    for i, g in enumerate(raw):
        parts = [p for p in getattr(g, "geoms", [g]) if isinstance(p, Polygon) and p.area > 0]
        parts.sort(key=lambda p: -p.area)
        mains.append(parts[0])
        strays.extend((i, p) for p in parts[1:])
    cells: list[Polygon | MultiPolygon] = list(mains)
    pending = sorted(strays, key=lambda t: -t[1].area)
    while pending:  # a stray may only touch another stray: repeat until nothing moves
        tree = shapely.STRtree(cells)
        left: list[tuple[int, Polygon]] = []
        for owner, piece in pending:
            best, best_len = -1, 0.0
            for j in tree.query(piece, predicate="intersects").tolist():
                shared = cells[j].boundary.intersection(piece.boundary).length
                if shared > best_len:
                    best, best_len = j, shared
            if best < 0:
                left.append((owner, piece))
            else:
                cells[best] = unary_union([cells[best], piece])
        if len(left) == len(pending):
            break
        pending = left
    for owner, piece in pending:  # islands: they stay with the cell of their nearest seed
        cells[owner] = unary_union([cells[owner], piece])
    return cells


def adjacency(cells: list[Polygon], tol: float = 1e-6) -> list[set[int]]:
    """Rook-style neighbours: cells that share a border of positive length."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    nb: list[set[int]] = [set() for _ in cells]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j and cells[i].boundary.intersection(cells[j].boundary).length > tol:
            nb[i].add(j)
            nb[j].add(i)
    return nb


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50) -> np.ndarray:
    """Plain Lloyd's k-means (deterministic given ``rng``); returns labels 0..k-1, none empty."""
    centers = points[rng.choice(len(points), size=k, replace=False)]
    labels = np.zeros(len(points), dtype=int)
    for _ in range(iters):
        d = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
        labels = d.argmin(1)
        for c in range(k):
            members = points[labels == c]
            if len(members):
                centers[c] = members.mean(0)
            else:  # re-seed an empty cluster at the point farthest from its centre
                far = d[np.arange(len(points)), labels].argmax()
                centers[c] = points[far]
    return labels


def make_contiguous(labels: np.ndarray, nb: list[set[int]]) -> np.ndarray:
    """Reassign detached pieces of a region to the neighbouring region they touch most."""
    labels = labels.copy()
    for _ in range(20):
        changed = False
        for r in np.unique(labels):
            members = set(np.flatnonzero(labels == r).tolist())
            comps: list[list[int]] = []
            seen: set[int] = set()
            for s in sorted(members):
                if s in seen:
                    continue
                stack, comp = [s], []
                seen.add(s)
                while stack:
                    v = stack.pop()
                    comp.append(v)
                    for w in nb[v]:
                        if w in members and w not in seen:
                            seen.add(w)
                            stack.append(w)
                comps.append(comp)
            if len(comps) <= 1:
                continue
            comps.sort(key=lambda c: (-len(c), min(c)))
            for comp in comps[1:]:
                votes: dict[int, int] = {}
                for v in comp:
                    for w in nb[v]:
                        if labels[w] != r:
                            votes[int(labels[w])] = votes.get(int(labels[w]), 0) + 1
                if votes:
                    target = max(sorted(votes), key=lambda q: votes[q])
                    labels[comp] = target
                    changed = True
        if not changed:
            break
    return labels


# --- names ---------------------------------------------------------------------------------
_SYLLABLES = {
    "es": ["ca", "la", "ma", "pa", "ta", "ri", "co", "lo", "mi", "va", "sa", "te", "ro", "nu",
           "che", "que", "llo", "ña", "ba", "do", "le", "bo", "ci", "pi", "na", "ya", "gua",
           "hua", "cho", "ran", "mar", "sol", "tor", "cal"],
    "pt": ["ca", "ra", "pi", "ta", "gua", "ju", "ma", "bo", "ti", "po", "ri", "sa", "ja", "cu",
           "xi", "ba", "ne", "lu", "go", "ro", "que", "nho", "lha", "ça", "mi", "to"],
    "en": ["bel", "mor", "lin", "hal", "spal", "ken", "rich", "gran", "whit", "ash", "bram",
           "cla", "har", "don", "mar", "ald", "bur", "wes", "ches", "lyn"],
}
_ENDINGS = {
    "es": ["", "", "", "al", "ar", "es", "illa", "ito", "ón", "ca", "nes", "ay"],
    "pt": ["", "", "", "ópolis", "inha", "ema", "aba", "ara", "ão", "ense", "al"],
    "en": ["ton", "field", "wood", "ville", "mount", "brook", "hill", "dale", "ham", "bury"],
}
_PREFIXES = {
    "es": ["San ", "Santa ", "Villa ", "Puerto ", "Nueva ", "La ", "El ", "Santo Tomás de "],
    "pt": ["São ", "Santa ", "Nova ", "Porto ", "Vila ", "Rio ", "Bom Jesus do "],
    "en": ["St ", "Port ", "Old ", "New "],
}
_EXTRA = {  # local flavour: Andean and Mayan syllables
    "peru": ["hua", "cha", "qui", "pam", "llac", "cco", "ya", "mar", "pu"],
    "guatemala": ["tz", "xa", "chi", "ix", "qui", "ja", "cum", "tep", "zun"],
    "mexico": ["tla", "xo", "co", "pan", "tzin", "hua", "te", "mil"],
}


def synthetic_names(rng: np.random.Generator, n: int, country: CountryParams) -> list[str]:
    """``n`` distinct, pronounceable place names in the country's language."""
    lang = country.language
    syl = _SYLLABLES[lang] + _EXTRA.get(country.key, [])
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        k = int(rng.integers(2, 4))
        stem = "".join(syl[int(i)] for i in rng.integers(0, len(syl), size=k))
        stem += _ENDINGS[lang][int(rng.integers(0, len(_ENDINGS[lang])))]
        name = stem.capitalize()
        if rng.random() < (0.2 if lang == "en" else 0.3):
            name = _PREFIXES[lang][int(rng.integers(0, len(_PREFIXES[lang])))] + name
        if lang == "en" and rng.random() < 0.3:
            name += " " + ["North", "South", "East", "West", "Central"][int(rng.integers(0, 5))]
        if name not in seen and len(stem) >= 4:
            seen.add(name)
            names.append(name)
    return names


def _ibge_check(code6: str) -> str:
    """IBGE municipality check digit (weights 1,2,1,2,1,2; digits of products summed)."""
    total = 0
    for i, ch in enumerate(code6):
        prod = int(ch) * (1 if i % 2 == 0 else 2)
        total += prod // 10 + prod % 10
    return str((10 - total % 10) % 10)


def territory_code(style: str, region_code: str, k: int, size: int = 1) -> str:
    """National-style code of the ``k``-th (0-based) of ``size`` territories of a region.

    Steps between codes shrink when a region has many territories, so codes stay unique and
    within the national width.
    """
    size = max(size, 1)
    if style == "ubigeo6":
        per = max(6, -(-size // 99))
        return f"{region_code}{k // per + 1:02d}{k % per + 1:02d}"
    if style == "uf2_mun4_check1":
        base = f"{region_code}{100 + min(37, 9800 // size) * k:04d}"
        return base + _ibge_check(base)
    if style == "prov2_dep3_step7":
        return f"{region_code}{min(7, 998 // size) * (k + 1):03d}"
    if style == "reg2_prov1_com2":
        per = max(9, -(-size // 9))
        return f"{region_code}{k // per + 1}{k % per + 1:02d}"
    if style == "dep2_mun3":
        return f"{region_code}{1 + min(3, 998 // size) * k:03d}"
    if style == "ent2_mun3":
        return f"{region_code}{k + 1:03d}"
    if style in ("prov1_can2", "dep2_mun2", "cty1_par2"):
        return f"{region_code}{k + 1:02d}"
    raise ValueError(f"unknown id style {style!r}")


def build_geography(country: CountryParams, rng: np.random.Generator) -> Geography:
    """Real outline -> seeds -> clipped Voronoi cells -> contiguous regions -> ids and names."""
    outline_ll = outlines.outline(country.key)
    c = outline_ll.centroid
    lon0, lat0 = c.x, c.y
    outline = outlines.to_km(outline_ll, lat0, lon0)
    shapely.prepare(outline)
    n = country.n_territories
    cities = np.asarray([[p.x, p.y] for p in (
        outlines.to_km(Point(lon, lat), lat0, lon0) for lon, lat in country.cities)])
    seeds = seed_points(rng, outline, n, cities)
    cells = voronoi_cells(seeds, outline)
    nb = adjacency(cells)
    labels = make_contiguous(kmeans(seeds, country.n_regions, rng), nb)
    # Order regions north to south (then west to east), territories by distance to the
    # region's most central seed, so codes read like a national list.
    regions = sorted(np.unique(labels).tolist(),
                     key=lambda r: (-round(seeds[labels == r, 1].mean(), 3),
                                    seeds[labels == r, 0].mean()))
    codes = country.region_codes
    region_index = np.empty(n, dtype=int)
    territory_ids: list[str] = [""] * n
    region_ids: list[str] = [""] * n
    for ri, r in enumerate(regions):
        members = np.flatnonzero(labels == r)
        centre = seeds[members].mean(0)
        order = members[np.argsort(np.hypot(*(seeds[members] - centre).T), kind="stable")]
        for k, t in enumerate(order.tolist()):
            region_index[t] = ri
            territory_ids[t] = territory_code(country.id_style, codes[ri], k, len(members))
            region_ids[t] = codes[ri]
    if len(set(territory_ids)) != n:
        raise ValueError(f"{country.key}: territory codes are not unique")
    names = synthetic_names(rng, n + len(regions), country)
    region_name = {codes[ri]: names[n + ri] for ri in range(len(regions))}
    cells_lonlat = [shapely.set_precision(outlines.to_lonlat(g, lat0, lon0), 1e-5)
                    for g in cells]
    return Geography(
        outline_km=outline, cells_km=cells, cells_lonlat=cells_lonlat, seeds_km=seeds,
        capital_km=cities[0], region_index=region_index, territory_id=territory_ids,
        territory_name=names[:n], region_id=region_ids, region_name=region_name,
        area_km2=np.array([g.area for g in cells]),
    )


def capital_distance(geo: Geography) -> np.ndarray:
    """Distance (km) from each territory's seed to the capital."""
    return np.array([Point(p).distance(Point(geo.capital_km)) for p in geo.seeds_km])
