"""A tiny canonical country written on demand, for tests and examples.

Why: bad-input tests must start from a known-good country and break one thing at a time, in a
temporary folder, without depending on the (larger) generated samples. Deterministic (seeded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

TOY_COVARIATES = ("age", "female", "poverty", "head_schooling")


def toy_profile(instruments: tuple[str, ...] = ("risk_model", "ivti")) -> dict:
    files = {"territories": "territories.geojson", "admin_records": "admin_records.csv",
             "services": "services.csv"}
    if "risk_model" in instruments:
        files = {"survey": "survey.csv", "census": "census.parquet", **files}
    labels = {
        "age": ("Age", "Edad", "Âge"), "female": ("Girl", "Niña", "Fille"),
        "poverty": ("Household in poverty", "Hogar en pobreza", "Ménage pauvre"),
        "head_schooling": ("Head's years of schooling", "Años de estudio del jefe",
                           "Années d'études du chef"),
    }
    factors = {"poverty": {"reference": 0, "sector": "social_protection"},
               "head_schooling": {"reference": 11, "sector": "education"}}
    signs = {"age": 1, "female": -1, "poverty": 1, "head_schooling": -1}
    return {
        "country": "toyland",
        "names": {"en": "Toyland", "es": "Juguetelandia", "fr": "Jouetland"},
        "admin_levels": {"region": {"en": "Department", "es": "Departamento",
                                    "fr": "Département"},
                         "territory": {"en": "District", "es": "Distrito", "fr": "District"}},
        "age_range": [5, 17],
        "instruments": list(instruments),
        "crs": "EPSG:4326",
        "projected_crs": "EPSG:32718",
        "synthetic": True,
        "files": files,
        "design": {"weight": "weight", "stratum": "stratum", "psu": "psu"},
        "outcome": "child_labour",
        "child_labour_definition": {"en": "Work below the minimum age or over 36 hours",
                                    "es": "Trabajo bajo la edad mínima o más de 36 horas",
                                    "fr": "Travail sous l'âge minimum ou plus de 36 heures"},
        "covariates": [
            {"name": c, "labels": dict(zip(("en", "es", "fr"), labels[c], strict=True)),
             "expected_sign": signs[c], "factor": factors.get(c)}
            for c in TOY_COVARIATES],
        "risk_levels": {"method": "quantiles", "k": 3},
        "ivti": {"indicators": [
            {"name": "school_dropout", "dimension": "education", "direction": 1,
             "labels": {"en": "School dropout", "es": "Deserción escolar",
                        "fr": "Décrochage scolaire"}},
            {"name": "poverty_rate", "dimension": "poverty", "direction": 1,
             "labels": {"en": "Poverty rate", "es": "Tasa de pobreza",
                        "fr": "Taux de pauvreté"}}],
            "dimension_weights": None},
        "mapping": {},
    }


def _people(rng: np.random.Generator, tids: list[str], n: int) -> pd.DataFrame:
    tid = rng.choice(tids, size=n)
    return pd.DataFrame({
        "territory_id": tid,
        "age": rng.integers(5, 18, size=n),
        "female": rng.integers(0, 2, size=n),
        "poverty": rng.integers(0, 2, size=n),
        "head_schooling": rng.integers(0, 17, size=n),
    })


def write_toy_country(out_dir: str | Path, seed: int = 7, n_survey: int = 240,
                      n_census: int = 900, instruments: tuple[str, ...] = ("risk_model", "ivti")
                      ) -> Path:
    """Write a small valid canonical country into ``out_dir``; return the profile path."""
    import geopandas as gpd
    from shapely.geometry import box

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tids = [f"{d:02d}01{k:02d}" for d in (1, 2) for k in range(1, 7)]
    geo = gpd.GeoDataFrame({
        "territory_id": tids,
        "name": [f"District {t}" for t in tids],
        "region_id": [t[:2] for t in tids],
    }, geometry=[box(-75 + (i % 4) * 0.5, -12 + (i // 4) * 0.5,
                     -74.5 + (i % 4) * 0.5, -11.5 + (i // 4) * 0.5)
                 for i in range(len(tids))], crs="EPSG:4326")
    geo.to_file(out / "territories.geojson", driver="GeoJSON")
    if "risk_model" in instruments:
        s = _people(rng, tids, n_survey)
        hh = np.arange(n_survey) // 2
        s.insert(0, "child_id", [f"C{i:05d}" for i in range(n_survey)])
        s.insert(1, "household_id", [f"H{h:05d}" for h in hh])
        s.insert(3, "region_id", s["territory_id"].str[:2])
        s["stratum"] = s["region_id"]
        s["psu"] = [f"P{h // 4:04d}" for h in hh]
        s["weight"] = np.round(rng.uniform(50, 150, size=n_survey), 3)
        eta = -2 + 0.15 * (s["age"] - 11) + 0.8 * s["poverty"] - 0.1 * s["head_schooling"]
        s["child_labour"] = (rng.random(n_survey) < 1 / (1 + np.exp(-eta))).astype(int)
        cols = ["child_id", "household_id", "territory_id", "region_id", "weight", "stratum",
                "psu", "child_labour", *TOY_COVARIATES]
        s[cols].to_csv(out / "survey.csv", index=False)
        _people(rng, tids, n_census).to_parquet(out / "census.parquet", index=False)
    admin = pd.DataFrame({"territory_id": tids,
                          "school_dropout": np.round(rng.uniform(0, 0.2, len(tids)), 4),
                          "poverty_rate": np.round(rng.uniform(0.1, 0.6, len(tids)), 4)})
    admin.to_csv(out / "admin_records.csv", index=False)
    services = pd.DataFrame({
        "territory_id": tids[:4], "service": ["School meals", "Cash transfer", "Labour "
                                             "inspection", "Health post"],
        "sector": ["education", "social_protection", "labour", "health"],
        "institution": ["MINEDU", "MIDIS", "SUNAFIL", "MINSA"], "capacity": [100, 200, 5, 50],
        "factors": ["head_schooling", "poverty", "poverty", "poverty;head_schooling"]})
    services.to_csv(out / "services.csv", index=False)
    profile = out / "profile.yaml"
    profile.write_text(yaml.safe_dump(toy_profile(instruments), sort_keys=False,
                                      allow_unicode=True), encoding="utf-8")
    return profile
