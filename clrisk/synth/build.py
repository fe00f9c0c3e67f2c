"""Assemble one synthetic country in memory and write its sample folder.

Why a separate assembly step: ``simulate_country`` returns frames (for tests and benchmarks
that never touch disk); ``write_country`` turns them into the canonical files with
deterministic writers, so a regeneration is byte-identical.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from clrisk.io import atomic_path, atomic_write, write_csv, write_json
from clrisk.synth import admin, design, dgp, geography
from clrisk.synth.countries import CORE_COVARIATES, COUNTRIES, CountryParams
from clrisk.synth.profile_yaml import build_profile, dump_profile, indicator_names

DEFAULT_SEED = 2017  # the year of the Brasilia technical meeting on the risk model
SURVEY_FRONT = ["child_id", "household_id", "territory_id", "region_id", "weight", "stratum",
                "psu", "child_labour"]


@dataclass
class SyntheticCountry:
    """In-memory synthetic sample. ``population`` is every child with its true probability
    (``p``), outcome (``child_labour``) and household row (``household``); the published census
    is its covariate columns."""

    params: CountryParams
    seed: int
    profile: dict[str, Any]
    territories: gpd.GeoDataFrame
    population: pd.DataFrame
    census: pd.DataFrame | None
    survey: pd.DataFrame | None
    admin_records: pd.DataFrame
    services: pd.DataFrame
    truth: dict[str, Any]


def _rngs(key: str, seed: int, n: int) -> list[np.random.Generator]:
    ss = np.random.SeedSequence([seed, zlib.crc32(key.encode())])
    return [np.random.default_rng(s) for s in ss.spawn(n)]


def _std(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-12)


def simulate_country(key: str, seed: int = DEFAULT_SEED, scale: float = 1.0) -> SyntheticCountry:
    """Generate country ``key`` (see ``COUNTRIES``); ``scale`` multiplies children per territory."""
    if key not in COUNTRIES:
        raise ValueError(f"Unknown country {key!r}; choose one of {', '.join(sorted(COUNTRIES))}")
    if not scale > 0:
        raise ValueError(f"scale must be positive (got {scale!r}); 1.0 gives the published size")
    c = COUNTRIES[key]
    r_geo, r_pop, r_beta, r_out, r_des, r_adm = _rngs(key, seed, 6)

    geo = geography.build_geography(c, r_geo)
    n = c.n_territories
    urbanity = _std(-0.7 * _std(np.log(geo.area_km2)) - 0.3 * _std(geography.capital_distance(geo)))
    lo, hi = c.children_per_territory
    target = lo + (hi - lo) * dgp.expit(0.9 * urbanity + r_pop.normal(0.0, 0.7, n))
    target = np.maximum(20, np.rint(target * scale)).astype(np.int64)
    lat = dgp.territory_latents(r_pop, urbanity, geo.region_index, c.rural_share,
                                c.indigenous_share, weights=target.astype(float))
    n_hh = np.ceil(target / 2.05).astype(np.int64)
    terr_hh = np.repeat(np.arange(n), n_hh)
    hh, _ = dgp.draw_households(r_pop, terr_hh, lat, poverty_share=c.poverty_share)
    ch, owner = dgp.draw_children(r_pop, hh)
    terr_ch = terr_hh[owner]

    # Survey segments exist before the outcome: the outcome has a segment (PSU) effect.
    tid = np.asarray(geo.territory_id, dtype=object)
    frame = pd.DataFrame({"territory": terr_hh, "territory_id": tid[terr_hh],
                          "region": geo.region_index[terr_hh], "rural": hh["rural"]})
    frame = design.segment_frame(frame, list(c.region_codes))
    seg_effect = design.segment_effects(r_out, frame)  # per household, centred in its area

    beta = dgp.country_beta(c, r_beta)
    lp = dgp.linear_predictor(ch, beta) + lat.effect[terr_ch] + seg_effect[owner]
    if c.mean_territory_risk is not None:
        const = round(dgp.solve_intercept_territory_mean(lp, terr_ch, c.mean_territory_risk), 4)
    else:
        const = round(dgp.solve_intercept(lp, c.prevalence), 4)
    p = dgp.expit(const + lp)
    y = (r_out.random(len(p)) < p).astype(np.int8)
    dgp_coefficients = {"const": const, **beta}

    rid = np.asarray(geo.region_id, dtype=object)
    covs = list(c.covariates or CORE_COVARIATES)
    pop = pd.DataFrame({"territory": terr_ch, "territory_id": tid[terr_ch],
                        "region_id": rid[terr_ch], "household": owner})
    for name in dict.fromkeys(covs + ["school_attendance", "health_insurance"]):
        pop[name] = ch[name].astype(np.int8)
    pop["p"] = p
    pop["child_labour"] = y
    pop = pop.sort_values(["territory_id", "household"], kind="stable").reset_index(drop=True)

    tprob = pop.groupby("territory_id", sort=True)["p"].mean()
    order = np.argsort(tid, kind="stable")  # territory indices in id order
    terr_df = gpd.GeoDataFrame(
        {"territory_id": tid[order], "name": np.asarray(geo.territory_name, dtype=object)[order],
         "region_id": rid[order],
         "region_name": [geo.region_name[r] for r in rid[order]]},
        geometry=[shapely.orient_polygons(geo.cells_lonlat[i]) for i in order], crs="EPSG:4326")

    # census aggregates for the administrative records
    hh_df = pd.DataFrame({"territory_id": tid[terr_hh], "persons": hh["household_size"],
                          **{k: hh[k] for k in ("rural", "poverty", "social_programme",
                                                "health_insurance", "adult_unemployed")}})
    stats = hh_df.groupby("territory_id", sort=True).agg(
        rural=("rural", "mean"), poverty=("poverty", "mean"),
        social_programme=("social_programme", "mean"),
        health_insurance=("health_insurance", "mean"), persons=("persons", "sum"),
        adult_unemployed=("adult_unemployed", "mean"))
    stats["children"] = pop.groupby("territory_id", sort=True).size()
    stats["school_attendance"] = pop.groupby("territory_id", sort=True)["school_attendance"].mean()
    stats = stats.reset_index()
    v = admin.latent_vulnerability(tprob.to_numpy())
    drivers = pd.DataFrame({"territory_id": tid, "deprivation": lat.deprivation,
                            "rural_share": lat.rural_share}).sort_values("territory_id")
    records = admin.admin_records(r_adm, stats, drivers, indicator_names(c))
    services = admin.services_inventory(
        r_adm, stats["territory_id"].to_numpy(), stats["children"].to_numpy(), c.language, c.key,
        with_indigenous=c.indigenous_share >= 0.05)

    census = survey = None
    design_info: dict[str, Any] = {}
    census_info: dict[str, Any] = {}
    coefficients = dgp_coefficients
    if "risk_model" in c.instruments:
        covs_x = list(c.covariates)
        coefficients = dgp.population_logit(pop, covs_x)
        census, census_info = _census_sample(r_des, pop, covs, c.census_households)
        fraction = min(1.0, c.survey_children / len(pop))
        sample = design.draw_sample(r_des, frame, fraction, c.households_per_psu,
                                    c.singleton_stratum)
        survey = _survey_children(sample, frame, pop, covs)
        n_psu = survey.groupby("stratum")["psu"].nunique()
        design_info = {"n_strata": int(len(n_psu)), "n_psu": int(n_psu.sum()),
                       "singleton_strata": sorted(n_psu[n_psu == 1].index.tolist()),
                       "households": int(survey["household_id"].nunique()),
                       "children": int(len(survey)),
                       "sigma_psu": design.SIGMA_PSU,
                       "deff_prevalence": round(design.design_effect(survey), 3)}

    truth = {
        "seed": seed,
        "country": key,
        "coefficients": {k: round(float(b), 4) for k, b in coefficients.items()},
        "coefficients_definition": (
            "census parameter: logistic regression of the true probability on the covariates "
            "over the whole synthetic population (what a design-based fit estimates)"),
        "dgp_coefficients": dgp_coefficients,
        "sigma_u": dgp.SIGMA_U,
        "territory_probability": {t: round(float(q), 6) for t, q in tprob.items()},
        "territory_effect": {t: round(float(u), 6)
                             for t, u in sorted(zip(tid, lat.effect, strict=True))},
        "ivti_truth": {"latent_vulnerability": {t: round(float(x), 6) for t, x in
                                                zip(tprob.index, v, strict=True)},
                       "definition": "standardised logit of territory_probability"},
        "prevalence": {"target": c.prevalence, "population_mean_probability":
                       round(float(p.mean()), 6), "population_realised": round(float(y.mean()), 6)},
        "population": {"children": int(len(pop)), "households": int(len(terr_hh))},
        "design": design_info,
        "census": census_info,
        "mean_territory_probability": round(float(tprob.mean()), 6),
    }
    if survey is not None:
        w = survey["weight"].to_numpy()
        truth["prevalence"]["survey_weighted"] = round(
            float(np.sum(w * survey["child_labour"]) / w.sum()), 6)
    return SyntheticCountry(c, seed, build_profile(c), terr_df, pop, census, survey, records,
                            services, truth)


def _census_sample(rng: np.random.Generator, pop: pd.DataFrame, covs: list[str],
                   per_territory: int | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The published census: the full count, or a weighted sample of ``per_territory``
    households per territory (simple random sampling; weight = households / sampled)."""
    if per_territory is None:
        return pop[["territory_id", *covs]].copy(), {"kind": "full count", "rows": len(pop)}
    hh = pop[["territory_id", "household"]].drop_duplicates("household")
    hh = hh.assign(u=rng.random(len(hh)))
    hh["rank"] = hh.groupby("territory_id", sort=False)["u"].rank(method="first")
    size = hh.groupby("territory_id", sort=False)["household"].transform("size")
    hh["weight"] = size / np.minimum(size, per_territory)
    chosen = hh[hh["rank"] <= per_territory].set_index("household")["weight"]
    rows = pop[pop["household"].isin(chosen.index)]
    out = rows[["territory_id", *covs]].copy()
    out["weight"] = np.round(rows["household"].map(chosen).to_numpy(float), 4)
    return out.reset_index(drop=True), {
        "kind": "weighted sample", "households_per_territory": per_territory,
        "rows": int(len(out)), "population_children": int(len(pop))}


def _survey_children(sample: pd.DataFrame, frame: pd.DataFrame, pop: pd.DataFrame,
                     covs: list[str]) -> pd.DataFrame:
    """Children of the selected households, with ids, design variables and the outcome."""
    frame = frame.copy()
    frame["hh_in_psu"] = frame.groupby("psu").cumcount() + 1
    sample = sample.join(frame["hh_in_psu"])
    sample["household_id"] = sample["psu"] + "-" + sample["hh_in_psu"].map("{:03d}".format)
    kids = pop[pop["household"].isin(sample.index)].copy()
    kids = kids.join(sample[["household_id", "psu", "stratum", "weight"]], on="household")
    kids["child_id"] = kids["household_id"] + "-" + (
        kids.groupby("household").cumcount() + 1).map("{:02d}".format)
    out = kids[[*SURVEY_FRONT, *covs]]
    return out.sort_values("child_id", kind="stable").reset_index(drop=True)


# --- writers -------------------------------------------------------------------------------
def _round_coords(geom) -> Any:
    return json.loads(json.dumps(shapely.geometry.mapping(geom)),
                      parse_float=lambda s: round(float(s), 5))


def write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Deterministic GeoJSON (RFC 7946, lon/lat), one feature per line."""
    lines = []
    props = [col for col in gdf.columns if col != "geometry"]
    for row in gdf.itertuples(index=False):
        d = row._asdict()
        feature = {"type": "Feature", "properties": {k: d[k] for k in props},
                   "geometry": _round_coords(d["geometry"])}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    with atomic_write(path) as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        fh.write(",\n".join(lines))
        fh.write("\n]}\n")


def write_census(census: pd.DataFrame, path: Path) -> None:
    """Parquet without pandas metadata: zstd, fixed row groups, int8 covariates."""
    arrays = {"territory_id": pa.array(census["territory_id"].astype(str).tolist(), pa.string())}
    for col in census.columns[1:]:
        if col == "weight":
            arrays[col] = pa.array(census[col].to_numpy(np.float64))
        else:
            arrays[col] = pa.array(census[col].to_numpy().astype(np.int8))
    table = pa.table(arrays)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=dgp.PARQUET_ROW_GROUP)


def write_country(sc: SyntheticCountry, out_dir: str | Path) -> Path:
    """Write the sample folder ``out_dir/<country>/``; returns the folder."""
    folder = Path(out_dir) / sc.params.key
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / "profile.yaml") as fh:
        fh.write(dump_profile(sc.profile))
    if sc.survey is not None and sc.census is not None:
        write_csv(sc.survey, folder / "survey.csv")
        write_census(sc.census, folder / "census.parquet")
    write_geojson(sc.territories, folder / "territories.geojson")
    write_csv(sc.admin_records, folder / "admin_records.csv", float_format="%.1f")
    write_csv(sc.services, folder / "services.csv")
    write_json(sc.truth, folder / "truth.json")
    return folder
