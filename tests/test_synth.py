"""Tests for clrisk.synth: reproducibility of data_samples/, the DGP's properties, truth.json.

The samples are the ground truth for every estimator test in the project, so these tests check
the published files themselves (not only the generator) wherever that is cheap.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from shapely.ops import unary_union

from clrisk.ivti import vulnerability_index
from clrisk.schema import COVARIATES, SURVEY_REQUIRED
from clrisk.synth import (
    COUNTRIES,
    COUNTRY_KEYS,
    DEFAULT_SEED,
    simulate_census,
    simulate_country,
    write_large_census,
)
from clrisk.synth.__main__ import main as synth_main
from clrisk.synth.design import (
    SIGMA_PSU,
    design_effect,
    pps_probabilities,
    segment_effects,
    segment_frame,
    systematic_pps,
)
from clrisk.synth.dgp import expit, solve_intercept
from clrisk.synth.geography import build_geography
from clrisk.synth.outlines import outline

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
RISK = [k for k in COUNTRY_KEYS if "risk_model" in COUNTRIES[k].instruments]
IVTI_ONLY = [k for k in COUNTRY_KEYS if k not in RISK]
SINGLETON_COUNTRY = "chile"  # one deliberate singleton stratum (the smallest one)


def _truth(key: str) -> dict:
    return json.loads((SAMPLES / key / "truth.json").read_text(encoding="utf-8"))


def _survey(key: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLES / key / "survey.csv",
                       dtype={"territory_id": str, "region_id": str, "stratum": str, "psu": str,
                              "household_id": str, "child_id": str})


def _assert_same_tree(a: Path, b: Path) -> None:
    """Generated files (top level of the country folder) equal the committed ones. Sub-folders
    (e.g. Phase II worksheets owned by other modules) are not the generator's and are skipped."""
    files_a = sorted(p.name for p in a.iterdir() if p.is_file())
    files_b = sorted(p.name for p in b.iterdir() if p.is_file())
    assert files_a == files_b
    for name in files_a:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{a.name}/{name} differs"


# --- (a) reproducibility ------------------------------------------------------------------
def test_regeneration_is_byte_identical_small_countries(tmp_path: Path) -> None:
    """The committed samples are exactly what the documented command produces."""
    assert synth_main(["--country", "chile", "--country", "jamaica", "--out", str(tmp_path),
                       "--quiet"]) == 0
    for key in ("chile", "jamaica"):
        _assert_same_tree(tmp_path / key, SAMPLES / key)


@pytest.mark.slow
def test_regeneration_is_byte_identical_all_countries(tmp_path: Path) -> None:
    assert synth_main(["--all", "--out", str(tmp_path), "--quiet"]) == 0
    for key in COUNTRY_KEYS:
        _assert_same_tree(tmp_path / key, SAMPLES / key)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown country"):
        simulate_country("atlantis")
    with pytest.raises(ValueError, match="scale"):
        simulate_country("chile", scale=0)


def test_other_seed_gives_other_data() -> None:
    a = simulate_country("jamaica", seed=DEFAULT_SEED)
    b = simulate_country("jamaica", seed=DEFAULT_SEED + 1)
    assert a.truth["coefficients"] != b.truth["coefficients"]


# --- files and profiles -------------------------------------------------------------------
@pytest.mark.parametrize("key", COUNTRY_KEYS)
def test_profile_matches_schema_and_files(key: str) -> None:
    prof = yaml.safe_load((SAMPLES / key / "profile.yaml").read_text(encoding="utf-8"))
    assert prof["country"] == key and prof["synthetic"] is True and prof["mapping"] == {}
    for lang in ("en", "es", "fr"):
        assert prof["names"][lang] and prof["child_labour_definition"][lang]
        assert prof["admin_levels"]["territory"][lang] and prof["admin_levels"]["region"][lang]
    for name in prof["files"].values():
        assert (SAMPLES / key / name).is_file(), name
    for cov in prof["covariates"]:
        spec = COVARIATES[cov["name"]]
        assert cov["expected_sign"] == spec.expected_sign
        assert set(cov["labels"]) == {"en", "es", "fr"}
        if spec.reference is None:
            assert "factor" not in cov
        else:
            factor = {k: cov["factor"].get(k) for k in ("reference", "sector")}
            assert factor == {"reference": spec.reference, "sector": spec.sector}
    inds = prof["ivti"]["indicators"]
    assert sum(i["direction"] == -1 for i in inds) >= 2
    assert {i["dimension"] for i in inds} == {"education", "poverty", "labour", "demography",
                                              "health"}
    admin = pd.read_csv(SAMPLES / key / "admin_records.csv", dtype={"territory_id": str})
    assert list(admin.columns) == ["territory_id"] + [i["name"] for i in inds]
    # omissions (issue 16): a few empty cells, never in the census counts
    assert admin.drop(columns="territory_id").isna().mean().max() < 0.1
    assert admin["rural_population"].notna().all()
    if key in IVTI_ONLY:
        assert prof["instruments"] == ["ivti"] and "survey" not in prof["files"]
    else:
        assert prof["instruments"] == ["risk_model", "ivti"]


def test_csvs_are_lf_and_keep_leading_zeros() -> None:
    raw = (SAMPLES / "peru" / "survey.csv").read_bytes()
    assert b"\r\n" not in raw
    survey = _survey("peru")
    assert survey["territory_id"].str.len().eq(6).all()
    assert survey["region_id"].str.startswith("0").any()


def test_total_size_is_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 80e6


# --- (b) survey design --------------------------------------------------------------------
@pytest.mark.parametrize("key", RISK)
def test_survey_design_structure(key: str) -> None:
    s = _survey(key)
    assert list(s.columns[: len(SURVEY_REQUIRED)]) == list(SURVEY_REQUIRED)
    assert (s["weight"] > 0).all()
    assert s["weight"].nunique() > 10
    # weights also vary inside strata (stale measure of size), not only across them
    assert (s.groupby("stratum")["weight"].nunique() > 1).mean() > 0.5
    assert s.groupby("psu")["stratum"].nunique().max() == 1  # PSUs nested in strata
    assert s.groupby("household_id")["psu"].nunique().max() == 1
    assert s.groupby("household_id")["weight"].nunique().max() == 1
    assert s["child_id"].is_unique and s["child_id"].is_monotonic_increasing
    n_psu = s.groupby("stratum")["psu"].nunique()
    singles = sorted(n_psu[n_psu == 1].index)
    assert len(singles) == (1 if key == SINGLETON_COUNTRY else 0)
    assert _truth(key)["design"]["singleton_strata"] == singles
    assert set(s["child_labour"]) == {0, 1}
    assert s["age"].between(5, 17).all()


@pytest.mark.parametrize("key", RISK)
def test_weights_estimate_the_population_size(key: str) -> None:
    """Inverse inclusion probabilities: the weighted child count estimates the population
    count, and so does the census (a full count, or a weighted census sample)."""
    s = _survey(key)
    n_pop = _truth(key)["population"]["children"]
    assert abs(s["weight"].sum() / n_pop - 1) < 0.06
    census = pq.read_table(SAMPLES / key / "census.parquet")
    total = (pc.sum(census.column("weight")).as_py() if "weight" in census.column_names
             else census.num_rows)
    assert abs(total / n_pop - 1) < 0.01


@pytest.mark.parametrize("key", RISK)
def test_design_effect_is_that_of_household_surveys(key: str) -> None:
    """Intra-PSU correlation: the design effect of the prevalence is 1.5-3 (issue 16)."""
    deff = design_effect(_survey(key))
    assert 1.5 <= deff <= 3.0, deff
    assert abs(deff - _truth(key)["design"]["deff_prevalence"]) < 1e-3


def test_segment_effects_cluster_the_outcome_not_the_territories() -> None:
    """Over fresh replicates: PSU effects have the documented sd and are centred within each
    territory x area, so they move PSU prevalences but not territory means (logit scale)."""
    frame = pd.DataFrame({"territory": np.repeat(np.arange(30), 400),
                          "territory_id": np.repeat([f"{i:03d}" for i in range(30)], 400),
                          "region": np.repeat(np.arange(30) // 10, 400),
                          "rural": np.tile(np.repeat([0, 1], 200), 30)})
    frame = segment_frame(frame, ["01", "02", "03"])
    sds = []
    for seed in range(20):
        v = segment_effects(np.random.default_rng(seed), frame)
        by_area = pd.Series(v).groupby([frame["territory"], frame["rural"]]).mean()
        assert np.abs(by_area).max() < 1e-9
        per_psu = pd.Series(v).groupby(frame["psu"]).first()
        n_seg = frame.groupby(["territory", "rural"])["psu"].nunique().mean()
        sds.append(per_psu.std() * np.sqrt(n_seg / (n_seg - 1)))  # undo the centring
    assert abs(np.mean(sds) - SIGMA_PSU) < 0.05


@pytest.mark.parametrize("key", COUNTRY_KEYS)
def test_prevalence_matches_country_target(key: str) -> None:
    t = _truth(key)
    prev = t["prevalence"]
    assert prev["target"] == COUNTRIES[key].prevalence
    published = COUNTRIES[key].mean_territory_risk
    if published is not None:  # calibrated to the published mean territory risk instead
        assert abs(t["mean_territory_probability"] - published) < 1e-3
        prev = {**prev, "target": prev["population_mean_probability"]}
    assert abs(prev["population_mean_probability"] - prev["target"]) < 1e-3
    assert abs(prev["population_realised"] - prev["target"]) < 0.01
    if key in RISK:
        s = _survey(key)
        w = s["weight"]
        direct = float((w * s["child_labour"]).sum() / w.sum())
        assert abs(direct - prev["target"]) < 0.025


def test_pps_probabilities_and_systematic_selection() -> None:
    size = np.array([500.0, 40, 60, 80, 100, 20, 200])
    pi = pps_probabilities(size, 4)
    assert pi[0] == 1.0 and np.isclose(pi.sum(), 4) and (pi <= 1).all()
    rng = np.random.default_rng(0)
    draws = np.array([systematic_pps(rng, pi) for _ in range(4000)])
    assert (draws.sum(1) == 4).all()
    assert np.abs(draws.mean(0) - pi).max() < 0.03  # empirical inclusion frequency = pi


def test_solve_intercept_hits_target() -> None:
    lp = np.random.default_rng(1).normal(0, 1, 1000)
    a = solve_intercept(lp, 0.12)
    assert abs(expit(a + lp).mean() - 0.12) < 1e-9


def test_covariate_correlations_are_realistic() -> None:
    pop = simulate_country("peru", scale=0.5).population
    c = pop[["poverty", "rural", "indigenous", "head_schooling", "social_programme"]].corr()
    assert c.loc["poverty", "rural"] > 0.1
    assert c.loc["poverty", "indigenous"] > 0.05
    assert c.loc["poverty", "head_schooling"] < -0.1
    assert c.loc["social_programme", "poverty"] > 0.3
    # children of one household share household covariates
    assert pop.groupby("household")["poverty"].nunique().max() == 1


# --- (b) geography ------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["chile", "jamaica", "peru"])
def test_voronoi_cells_tile_the_outline(key: str) -> None:
    geo = build_geography(COUNTRIES[key], np.random.default_rng(5))
    cells = geo.cells_km
    assert all(c.is_valid and c.geom_type in ("Polygon", "MultiPolygon") for c in cells)
    union = unary_union(cells)
    assert abs(union.area - geo.outline_km.area) / geo.outline_km.area < 1e-9
    assert abs(sum(c.area for c in cells) - union.area) / union.area < 1e-9  # no overlaps


@pytest.mark.parametrize("key", COUNTRY_KEYS)
def test_territory_file_geometry(key: str) -> None:
    g = gpd.read_file(SAMPLES / key / "territories.geojson")
    assert list(g.columns[:3]) == ["territory_id", "name", "region_id"]
    assert len(g) == COUNTRIES[key].n_territories
    assert g["territory_id"].is_unique and g["territory_id"].is_monotonic_increasing
    assert g["name"].is_unique
    assert g.geometry.is_valid.all() and g.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    area = g.to_crs(COUNTRIES[key].projected_crs).area
    union = unary_union(list(g.geometry))
    overlap = sum(p.area for p in g.geometry) - union.area
    assert overlap / union.area < 1e-6
    # not a grid: areas differ and spread over an order of magnitude
    assert area.round(0).nunique() >= 0.99 * len(g)
    assert area.max() / area.min() > 10
    # regions are contiguous on the mainland: at most one piece of a region touches it
    parts = list(getattr(outline(key), "geoms", [outline(key)]))
    mainland = max(parts, key=lambda p: p.area).buffer(-1e-4)
    for _, part in g.groupby("region_id"):
        pieces = getattr(unary_union(list(part.geometry)).buffer(1e-7), "geoms", None)
        if pieces is not None:
            assert sum(p.intersects(mainland) for p in pieces) <= 1


# --- (c) truth.json -----------------------------------------------------------------------
def test_truth_probability_is_population_mean() -> None:
    """truth.json's territory probabilities are the population means of the true p, which
    is the documented outcome model: DGP coefficients + territory effect + PSU effect."""
    sc = simulate_country("chile")
    t = _truth("chile")
    p = sc.population.groupby("territory_id", sort=True)["p"].mean()
    truth = pd.Series(t["territory_probability"])
    assert list(p.index) == list(truth.index)
    assert np.abs(p.to_numpy() - truth.to_numpy()).max() < 2e-6
    beta = t["dgp_coefficients"]
    pop = sc.population
    eta = np.full(len(pop), beta["const"])
    for name, b in beta.items():
        if name != "const":
            eta += b * pop[name].to_numpy(float)
    eta += pop["territory_id"].map(t["territory_effect"]).to_numpy()
    resid = np.log(pop["p"] / (1 - pop["p"])) - eta  # = the household's PSU effect
    assert pop.assign(r=resid).groupby("household")["r"].std().fillna(0).max() < 1e-4
    assert 0.5 * SIGMA_PSU < resid.std() < SIGMA_PSU
    # the territory effect matters: probabilities are not a function of covariates alone
    u = pd.Series(t["territory_effect"])
    assert 0.15 < u.std() < 0.35


@pytest.mark.parametrize("key", COUNTRY_KEYS)
def test_truth_ids_match_files(key: str) -> None:
    t = _truth(key)
    ids = gpd.read_file(SAMPLES / key / "territories.geojson")["territory_id"].tolist()
    assert sorted(t["territory_probability"]) == ids == sorted(t["territory_effect"])
    assert sorted(t["ivti_truth"]["latent_vulnerability"]) == ids
    admin = pd.read_csv(SAMPLES / key / "admin_records.csv", dtype={"territory_id": str})
    assert admin["territory_id"].tolist() == ids
    services = pd.read_csv(SAMPLES / key / "services.csv", dtype={"territory_id": str})
    assert set(services["territory_id"]) <= set(ids)
    assert set(services["sector"]) <= {"education", "social_protection", "labour", "health"}
    factors = {f for fs in services["factors"] for f in fs.split(";")}
    assert factors <= {n for n, s in COVARIATES.items() if s.reference is not None}
    if key in RISK:
        census_ids = pq.read_table(SAMPLES / key / "census.parquet",
                                   columns=["territory_id"]).column(0).unique().to_pylist()
        assert sorted(census_ids) == ids
        assert set(_survey(key)["territory_id"]) <= set(ids)
        cov = [c for c in t["coefficients"] if c != "const"]
        assert all(np.sign(t["coefficients"][c]) == COVARIATES[c].expected_sign for c in cov)


@pytest.mark.parametrize("key", ["peru", "costa_rica"])
def test_admin_indicators_track_latent_risk(key: str) -> None:
    t = _truth(key)
    admin = pd.read_csv(SAMPLES / key / "admin_records.csv", dtype={"territory_id": str})
    prof = yaml.safe_load((SAMPLES / key / "profile.yaml").read_text(encoding="utf-8"))
    iv = vulnerability_index(admin, prof["ivti"]["indicators"])
    v = iv["territory_id"].map(t["ivti_truth"]["latent_vulnerability"])
    assert np.corrcoef(iv["ivti"], v)[0, 1] > 0.5


# --- large census -------------------------------------------------------------------------
def test_simulate_census_exact_counts_and_truth() -> None:
    beta = {"const": -3.0, "age": 0.15, "poverty": 0.6, "rural": 0.8}
    census, truth = simulate_census(20_011, 37, ["age", "poverty", "rural"], beta, seed=3,
                                    batch_size=3000)
    assert len(census) == 20_011
    counts = census.groupby("territory_id").size()
    assert counts.max() - counts.min() <= 1 and len(counts) == 37
    assert census["territory_id"].is_monotonic_increasing
    assert census["age"].between(5, 17).all() and census["age"].dtype == np.int8
    assert 0.01 < truth["probability"].mean() < 0.5


def test_write_large_census_streams_same_rows(tmp_path: Path) -> None:
    path = write_large_census(tmp_path / "big.parquet", 30_000, 50, seed=9, batch_size=4000)
    f = pq.ParquetFile(path)
    assert f.metadata.num_rows == 30_000
    back = f.read().to_pandas()
    mem, _ = simulate_census(30_000, 50, seed=9, batch_size=4000)
    pd.testing.assert_frame_equal(back, mem, check_dtype=False)
    again = write_large_census(tmp_path / "again.parquet", 30_000, 50, seed=9, batch_size=4000)
    assert again.read_bytes() == path.read_bytes()


# --- the outcome model is the documented one ----------------------------------------------
def _logit_fit(df: pd.DataFrame, covs: list[str], weights: np.ndarray | None = None):
    import statsmodels.api as sm

    x = sm.add_constant(df[covs].astype(float), has_constant="add")
    w = None if weights is None else weights / weights.mean()
    return sm.GLM(df["child_labour"].astype(float), x, family=sm.families.Binomial(),
                  freq_weights=w).fit().params


def test_population_logit_recovers_true_coefficients() -> None:
    """truth.json's coefficients are the census parameter: on the whole population the logit
    of the realised child_labour on x recovers them."""
    sc = simulate_country("peru")
    beta = sc.truth["coefficients"]
    covs = [c for c in beta if c != "const"]
    est = _logit_fit(sc.population, covs)
    for name in covs:
        assert abs(est[name] - beta[name]) < 0.06 + 0.05 * abs(beta[name]), name
    assert abs(est["const"] - beta["const"]) < 0.3


@pytest.mark.parametrize("key", RISK)
def test_weighted_survey_logit_is_close_to_truth(key: str) -> None:
    """The design-based fit estimates the census parameter: every coefficient lies within
    3.5 design standard errors of ``truth.coefficients`` (a fixed tolerance would test one
    sample's luck; 3.5 SE keeps the family-wise false alarm rate of ~13 coefficients < 1%)."""
    import warnings

    from clrisk.phase1.model import fit_risk_model

    s = _survey(key)
    beta = _truth(key)["coefficients"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit_risk_model(s, [c for c in beta if c != "const"], outcome="child_labour",
                           weight="weight", strata="stratum", psu="psu")
    z = {k: (m.params[k] - beta[k]) / m.bse[k] for k in beta}
    assert max(abs(v) for v in z.values()) < 3.5, z


# --- the synthetic-data page --------------------------------------------------------------
def test_page_table_is_generated_from_the_files() -> None:
    """book/synthetic_data.md's country table is what the committed files give (issue 16):
    territory counts and national rates next to the published figures."""
    from clrisk.synth.report import PUBLISHED, markdown, page_table, samples_table

    table = samples_table()
    assert page_table() == markdown(table), "run python -m clrisk.synth.report"
    assert set(PUBLISHED) == set(COUNTRY_KEYS)
    counts = dict(zip(table["Country"], table["Territories"].astype(int), strict=True))
    assert counts["Brazil"] == 5570 and counts["Jamaica"] == 14 and counts["Guatemala"] == 340


def test_page_prose_survey_sizes_and_design_effects_match_the_table() -> None:
    """The survey-size sentence and the design-effect range written in the page's prose agree
    with the generated table (the prose is hand-written, the table is not)."""
    import re

    from clrisk.synth.report import PAGE, samples_table

    text = PAGE.read_text(encoding="utf-8")
    table = samples_table().set_index("Country")
    found = re.findall(r"([\d,]+) to ([\d,]+)\s+in (?:the )?([A-Z][\w ,]+?)(?:,\s+and|,\s+whose)",
                       text.replace("\n", " "))
    assert len(found) == 2, found
    for low, high, names in found:
        countries = [c.strip() for c in re.split(r",| and ", names) if c.strip()]
        lo, hi = (int(v.replace(",", "")) for v in (low, high))
        for c in countries:  # "about": within 10% of the stated range
            n = int(table.loc[c, "Survey children"])
            assert 0.9 * lo <= n <= 1.1 * hi, (c, n, lo, hi)
    deff = table["Design effect"].replace("—", np.nan).dropna().astype(float)
    assert "between 1.5 and 3 in every survey country" in text.replace("\n", " ")
    assert deff.between(1.5, 3.0).all(), deff


def test_admin_records_do_not_see_the_outcome() -> None:
    """Issue 16 item 4, over fresh replicates: the IVTI built from the sample records agrees with
    the true territory ranking only as far as the structural drivers do (never built in), and
    changing the outcome-only parts of the truth (u_t, PSU effects) leaves the records alone."""
    from scipy.stats import spearmanr

    from clrisk.synth.profile_yaml import build_profile

    rhos = []
    for seed in range(5):
        sc = simulate_country("costa_rica", seed=seed)
        specs = build_profile(sc.params)["ivti"]["indicators"]
        iv = vulnerability_index(sc.admin_records, specs)
        truth = iv["territory_id"].map(sc.truth["territory_probability"])
        rhos.append(spearmanr(iv["ivti"], truth).statistic)
    assert 0.3 < np.mean(rhos) < 0.95, rhos
    a = simulate_country("jamaica", seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("clrisk.synth.dgp.SIGMA_U", 0.0)
        mp.setattr("clrisk.synth.design.SIGMA_PSU", 0.0)
        b = simulate_country("jamaica", seed=3)
    pd.testing.assert_frame_equal(a.admin_records, b.admin_records)


@pytest.mark.parametrize("rho,word", [(0.93, "strong"), (0.6, "moderate"), (0.2, "weak")])
def test_agreement_is_worded_by_its_size(rho: float, word: str) -> None:
    from clrisk.ivti import agreement_finding

    assert f"a {word} agreement" in agreement_finding(rho, "en")
    assert "finding" in agreement_finding(rho, "en", synthetic=True)
