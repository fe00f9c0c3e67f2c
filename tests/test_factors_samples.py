"""Instrument 2 on every committed survey+census sample (issue 13's acceptance checks).

Per territory and nationally the factor weights add up to the joint effect (within 0.5%); no
child is moved toward more risk; every weight has an interval; P(rank 1) sums to 1 per
territory; only modifiable factors are ranked and markers go to the markers table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clrisk.data import load_country
from clrisk.phase1.census_source import resolve_census
from clrisk.phase1.factors import instrument2
from clrisk.phase1.factors_shapley import counterfactual_rows
from clrisk.phase1.model import fit_risk_model
from clrisk.phase1.terms import add_derived_columns, attach_terms
from clrisk.pipeline import census_source, census_weight
from clrisk.schema import NON_MODIFIABLE

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
COUNTRIES = sorted(p.parent.name for p in SAMPLES.glob("*/census.parquet")
                   if (p.parent / "survey.csv").exists())


@pytest.fixture(scope="module", params=COUNTRIES)
def run(request):
    data = load_country(request.param)
    prof = data.profile
    model = fit_risk_model(add_derived_columns(data.survey, prof), prof.model_terms,
                           outcome="child_labour", weight="weight", strata="stratum", psu="psu")
    attach_terms(model, prof)
    census = census_source(data)
    src = resolve_census(census, prof.covariates, weight=census_weight(census))
    regions = dict(zip(data.territories["territory_id"].astype(str),
                       data.territories["region_id"].astype(str), strict=True))
    res = instrument2(model, src, prof, n_draws=60, seed=7, regions=regions)
    return data, src, res


def test_samples_exist():
    assert len(COUNTRIES) >= 5


def test_weights_add_up_to_joint_effect(run):
    _data, _src, res = run
    fw = res.factor_weights
    sums = fw.groupby("territory_id")["children"].sum()
    joint = res.joint.set_index("territory_id")["joint_children"].loc[sums.index]
    assert (joint > 0).all()
    assert ((sums - joint).abs() <= 0.005 * joint.abs()).all()
    nat = res.national_factors["children"].sum()
    assert abs(nat - res.national_joint["joint_children"]) <= 0.005 * res.national_joint[
        "joint_children"]


def test_nobody_moved_toward_more_risk(run):
    data, src, res = run
    from clrisk.phase1.factors import factor_specs

    specs = factor_specs(None, list(src.covariates), data.profile)
    toward_risk = 0.0
    for b in src.blocks():
        Xc = counterfactual_rows(b.X, specs, range(len(specs)))
        for f in specs:
            before, after = b.X[:, f.column], Xc[:, f.column]
            worse = after > before if f.role == "risk" else after < before
            beyond = np.abs(after - f.reference) > np.abs(before - f.reference)
            toward_risk += float(b.weights[worse | beyond].sum())
    assert toward_risk == 0.0
    # head's schooling is raised, never lowered
    if "head_schooling" in set(res.factor_weights["factor"]):
        row = res.national_factors.set_index("factor").loc["head_schooling"]
        assert row["role"] == "protective"


def test_intervals_and_p_rank1(run):
    _data, _src, res = run
    fw = res.factor_weights
    assert fw[["ci_low_pp", "ci_high_pp"]].notna().all().all()
    assert (fw["ci_low_pp"] <= fw["ci_high_pp"]).all()
    np.testing.assert_allclose(fw.groupby("territory_id")["p_rank1"].sum(), 1.0, atol=1e-9)
    assert res.national_factors["p_rank1"].sum() == pytest.approx(1.0)
    # ties are ties: a territory whose rank 1 is shared has the tie flag on all those rows
    first = fw[fw["rank"] == 1].groupby("territory_id").size()
    shared = first[first > 1].index
    assert fw[fw["territory_id"].isin(shared) & (fw["rank"] == 1)]["tie"].all()


def test_only_modifiable_factors_ranked(run):
    data, _src, res = run
    ranked = set(res.factor_weights["factor"]) | set(res.national_factors["factor"])
    assert ranked == set(data.profile.factors)
    assert not ranked & set(NON_MODIFIABLE)
    assert not ranked & set(data.profile.markers)
    assert (res.factor_weights["kind"] == "modifiable").all()
    assert set(res.markers["marker"]) <= set(data.profile.markers)
    assert {"female", "rural"} <= set(res.markers["marker"])
