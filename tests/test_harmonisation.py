"""Survey vs census harmonisation check (clrisk.phase1.harmonisation).

What is checked, and why each could fail:
* the survey side reproduces R ``svymean``/``svyby`` (means and Taylor SEs, with and without a
  finite population correction) from the stored reference — a wrong domain variance would;
* on fresh simulated populations (clustered survey drawn from the census population) the
  check stays silent in nearly every replicate, and flags a census covariate shifted by 0.3
  standard deviations in nearly every replicate — the threshold and the Bonferroni rule are
  judged by their error rates, not on one seed;
* the committed samples (survey and census from one synthetic population) raise no warning;
* deliberately mis-harmonised copies (1/2 coding, a shifted covariate, one region recoded)
  raise a clear warning naming the covariate (and region), in English, Spanish and French;
* a weighted census sample gets its own (Kish) standard error; a Parquet census is streamed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clrisk.data.country import load_country
from clrisk.errors import DataError
from clrisk.phase1.harmonisation import (
    display_table,
    format_p,
    harmonisation_check,
    harmonisation_warnings,
)

REF_DIR = Path(__file__).parent / "r_reference"
REF = json.loads((REF_DIR / "svyglm_fpc_reference.json").read_text())
COVS = ["age", "female", "poverty", "head_schooling", "rural"]


def _design(fpc: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = pd.read_csv(REF_DIR / "design_fpc.csv",
                    dtype={"stratum": str, "psu": str, "region_id": str, "child_id": str})
    d["territory_id"] = d["region_id"]
    return d, d[["territory_id", *COVS]]


@pytest.mark.parametrize("key", ["plain", "fpc"])
def test_survey_means_match_r(key):
    ref = REF["means"][key]
    survey, census = _design(key == "fpc")
    tab = harmonisation_check(survey, census, COVS, fpc=ref["fpc"] or None,
                              regions={r: r for r in ref["region_id"]})
    nat = tab[tab["scope"] == "national"].set_index("covariate")
    np.testing.assert_allclose(nat.loc[COVS, "survey_mean"], [ref["mean"][c] for c in COVS],
                               rtol=1e-9)
    np.testing.assert_allclose(nat.loc[COVS, "survey_se_design"], [ref["se"][c] for c in COVS],
                               rtol=1e-7)
    reg = tab[tab["scope"] == "region"].set_index(["region_id", "covariate"])
    for j, c in enumerate(COVS):
        for r, m, se in zip(ref["region_id"], ref["region_mean"][j], ref["region_se"][j],
                            strict=True):
            assert reg.loc[(r, c), "survey_mean"] == pytest.approx(m, rel=1e-9)
            assert reg.loc[(r, c), "survey_se_design"] == pytest.approx(se, rel=1e-7)
    # the survey is its own census here: no difference, nothing flagged
    assert not tab["flagged"].any()
    assert np.allclose(tab["census_mean"], tab["census_mean"])


# ---------------------------------------------------------------------------------------------
# Fresh replicates: error rates of the flag
# ---------------------------------------------------------------------------------------------
def _population(rng: np.random.Generator, n_regions: int = 8, clusters: int = 60,
                size: int = 80) -> pd.DataFrame:
    """A population of clusters (PSUs) in regions; covariates correlated within clusters."""
    n_cl = n_regions * clusters
    cl = np.repeat(np.arange(n_cl), size)
    reg = cl // clusters
    u = rng.normal(0, 0.5, n_cl)[cl]
    rural_c = (rng.random(n_cl) < 0.4).astype(float)[cl]
    return pd.DataFrame({
        "territory_id": [f"T{c:04d}" for c in cl // 4],
        "region_id": [f"R{r}" for r in reg],
        "psu": cl.astype(str), "stratum": [f"R{r}" for r in reg],
        "rural": rural_c,
        "poverty": (rng.random(len(cl)) < 1 / (1 + np.exp(-(-0.8 + rural_c + u)))).astype(float),
        "schooling": np.clip(np.round(rng.normal(8 - 2 * rural_c + 2 * u, 3)), 0, 18),
        "age": rng.integers(5, 18, len(cl)).astype(float),
    })


def _survey(pop: pd.DataFrame, rng: np.random.Generator, n_regions: int = 8,
            clusters: int = 60, size: int = 80, per_region: int = 12, take: int = 15
            ) -> pd.DataFrame:
    """Two-stage sample: `per_region` clusters per region (stratum), `take` children each
    (rows of a cluster are contiguous in `pop`); weights are the inverse inclusion odds."""
    rows = []
    for r in range(n_regions):
        for c in rng.choice(clusters, per_region, replace=False) + r * clusters:
            rows.append(c * size + rng.choice(size, take, replace=False))
    idx = np.concatenate(rows)
    return pop.iloc[idx].assign(weight=(clusters / per_region) * (size / take))


REP_COVS = ["rural", "poverty", "schooling", "age"]


def _replicates(n: int, shift: float) -> list[pd.DataFrame]:
    out = []
    for seed in range(n):
        rng = np.random.default_rng(1000 + seed)
        pop = _population(rng)
        survey = _survey(pop, rng)
        census = pop[["territory_id", *REP_COVS]].copy()
        if shift:
            census["schooling"] += shift * census["schooling"].std()
        regions = pop[["territory_id", "region_id"]].drop_duplicates()
        out.append(harmonisation_check(survey, census, REP_COVS, regions=regions))
    return out


def test_clean_replicates_rarely_flag():
    tabs = _replicates(20, 0.0)
    any_flag = [bool(t["flagged"].any()) for t in tabs]
    assert sum(any_flag) <= 2, sum(any_flag)  # family-wise rate per replicate ≲ 2 × 1%
    # the national z statistics look like N(0, 1)-ish draws, not systematically off
    z = np.concatenate([t.loc[t["scope"] == "national", "z"].to_numpy() for t in tabs])
    assert abs(z.mean()) < 0.5 and 0.5 < z.std() < 1.6


def test_shifted_covariate_is_flagged_in_nearly_every_replicate():
    tabs = _replicates(12, 0.3)
    hits = [bool(t.loc[(t["scope"] == "national") & (t["covariate"] == "schooling"),
                       "flagged"].iloc[0]) for t in tabs]
    assert sum(hits) >= 11, sum(hits)
    others = [bool(t.loc[(t["scope"] == "national") & (t["covariate"] != "schooling"),
                         "flagged"].any()) for t in tabs]
    assert sum(others) <= 1


# ---------------------------------------------------------------------------------------------
# Committed samples and deliberately mis-harmonised copies
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def peru():
    d = load_country("peru")
    return d.survey, d.census, list(d.profile.covariates), d.territories


@pytest.mark.parametrize("country", ["peru", "guatemala", "chile"])
def test_committed_samples_raise_no_warning(country):
    d = load_country(country)
    tab = harmonisation_check(d.survey, d.census, list(d.profile.covariates),
                              regions=d.territories)
    assert set(tab["scope"]) == {"national", "region"}
    assert harmonisation_warnings(tab) == [], tab[tab["flagged"]]


def test_one_two_coding_is_a_coding_warning(peru):
    survey, census, covs, terr = peru
    bad = survey.assign(female=survey["female"] + 1)  # 1 = male, 2 = female
    tab = harmonisation_check(bad, census, covs, regions=terr)
    row = tab[(tab["scope"] == "national") & (tab["covariate"] == "female")].iloc[0]
    assert row["flagged"] and row["reason"] == "coding"
    msgs = harmonisation_warnings(tab)
    assert len([m for m in msgs if "'female'" in m]) == 1  # not repeated per region
    assert "1/2" in msgs[0] and "0/1" in msgs[0]
    es = harmonisation_warnings(tab, lang="es")
    fr = harmonisation_warnings(tab, lang="fr")
    assert es[0] != msgs[0] and "'female'" in es[0] and "encuesta" in es[0]
    assert "'female'" in fr[0] and "enquête" in fr[0]


def test_shifted_census_covariate_is_named(peru):
    survey, census, covs, terr = peru
    shifted = census.assign(head_schooling=census["head_schooling"] + 2)
    tab = harmonisation_check(survey, shifted, covs, regions=terr)
    flagged = tab[tab["flagged"] & (tab["scope"] == "national")]
    assert list(flagged["covariate"]) == ["head_schooling"]
    msg = harmonisation_warnings(tab)
    assert len(msg) == 1 and "'head_schooling'" in msg[0] and "p < 0" in msg[0]


def test_one_region_recoded_names_the_region(peru):
    survey, census, covs, terr = peru
    region_of = terr.set_index("territory_id")["region_id"].astype(str)
    target = sorted(region_of.unique())[1]
    in_region = census["territory_id"].astype(str).map(region_of) == target
    bad = census.copy()
    bad.loc[in_region, "rural"] = 1 - bad.loc[in_region, "rural"]  # rural/urban swapped there
    tab = harmonisation_check(survey, bad, covs, regions=terr)
    reg = tab[tab["flagged"] & (tab["scope"] == "region")]
    assert set(reg["region_id"]) == {target} and set(reg["covariate"]) == {"rural"}
    msgs = harmonisation_warnings(tab)
    assert len(msgs) == 1 and "'rural'" in msgs[0] and target in msgs[0]


def test_weighted_census_sample_and_parquet_stream(peru, tmp_path):
    survey, census, covs, terr = peru
    rng = np.random.default_rng(7)
    keep = rng.random(len(census)) < 0.5
    sample = census[keep].assign(weight=2.0)
    path = tmp_path / "census.parquet"
    sample.to_parquet(path, row_group_size=5000)
    t_mem = harmonisation_check(survey, sample, covs, regions=terr, census_weight="weight")
    t_pq = harmonisation_check(survey, path, covs, regions=terr, census_weight="weight")
    pd.testing.assert_frame_equal(t_mem, t_pq)
    nat = t_mem[t_mem["scope"] == "national"].set_index("covariate")
    x = sample["poverty"].to_numpy(float)
    m = x.mean()
    assert nat.loc["poverty", "census_mean"] == pytest.approx(m)
    kish = np.sqrt(np.sum(4.0 * (x - m) ** 2)) / (2.0 * len(x))
    assert nat.loc["poverty", "census_se"] == pytest.approx(kish)
    full = harmonisation_check(survey, census, covs, regions=terr)
    assert (full["census_se"] == 0).all()


def test_bad_input_and_display(peru):
    survey, census, covs, terr = peru
    with pytest.raises(DataError, match="poverty"):
        harmonisation_check(survey.drop(columns="poverty"), census, covs, source="survey.csv")
    holes = survey.copy()
    holes.loc[holes.index[[2, 5]], "psu"] = None
    with pytest.raises(DataError, match="psu") as exc:
        harmonisation_check(holes, census, covs, source="survey.csv")
    assert "3" in str(exc.value) and "6" in str(exc.value)
    tab = harmonisation_check(survey, census, covs, regions=terr)
    shown = display_table(tab, lang="es")
    assert "Diferencia estandarizada" in shown.columns
    assert not any(str(v) == "0.000" for v in shown.iloc[:, 7])
    assert format_p(1e-9) == "< 0.001" and format_p(0.0123) == "0.012"
    assert format_p(1e-9, "fr") == "< 0,001"


def test_resolved_census_source_gives_the_same_table(peru):
    from clrisk.phase1.census_source import resolve_census

    survey, census, covs, terr = peru
    direct = harmonisation_check(survey, census, covs, regions=terr)
    for method in ("rows", "patterns"):
        src = resolve_census(census, covs, method=method)
        via = harmonisation_check(survey, src, covs, regions=terr)
        pd.testing.assert_frame_equal(direct.drop(columns=["census_mean", "std_difference",
                                                           "z", "p_value", "difference",
                                                           "survey_se"]),
                                      via.drop(columns=["census_mean", "std_difference", "z",
                                                        "p_value", "difference", "survey_se"]))
        np.testing.assert_allclose(via["census_mean"], direct["census_mean"], rtol=1e-10)
    sample = census.sample(frac=0.5, random_state=3).assign(weight=2.0)
    src = resolve_census(sample, covs, weight="weight", method="rows")
    weighted = harmonisation_check(survey, src, covs, regions=terr)
    assert (weighted["census_se"] > 0).all()


def test_check_files_weights_a_census_sample(peru, tmp_path):
    from clrisk.phase1.harmonisation import check_files

    survey, census, covs, terr = peru
    rng = np.random.default_rng(11)
    sample = census.assign(weight=rng.uniform(0.5, 3.0, len(census)))
    path = tmp_path / "census.parquet"
    sample.to_parquet(path)
    for src in (sample, path):
        table, notes = check_files(survey, src, covs, regions=terr)
        assert table.attrs["census_weighted"] and (table["census_se"] > 0).all()
        nat = table[table["scope"] == "national"].set_index("covariate")
        w = sample["weight"].to_numpy()
        assert nat.loc["rural", "census_mean"] == pytest.approx(
            float(w @ sample["rural"].to_numpy(float) / w.sum()))
        assert isinstance(notes, list)
