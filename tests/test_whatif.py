"""What-if engine: scenarios are exactly the model's predictions; the widget reads them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clrisk import i18n
from clrisk.errors import DataError
from clrisk.phase1.model import fit_risk_model
from clrisk.whatif import (
    base_child,
    default_variations,
    display_scenarios,
    scenario_probability,
    scenario_table,
    whatif_widget,
)

COVS = ["age", "poverty", "school_attendance"]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 1500
    df = pd.DataFrame({
        "age": rng.integers(5, 18, n).astype(float),
        "poverty": (rng.random(n) < 0.35).astype(float),
        "school_attendance": (rng.random(n) < 0.85).astype(float),
        "weight": rng.uniform(50, 150, n),
        "stratum": rng.integers(0, 4, n).astype(str),
    })
    df["psu"] = df["stratum"] + "-" + rng.integers(0, 10, n).astype(str)
    eta = -3 + 0.12 * df["age"] + 0.8 * df["poverty"] - 0.9 * df["school_attendance"]
    df["child_labour"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return df


@pytest.fixture(scope="module")
def model(survey):
    return fit_risk_model(survey, COVS)


def test_scenario_probability_equals_predict_on_same_row(model, survey):
    row = survey.iloc[[3]]
    expected = float(model.predict(row[COVS])[0])
    got = scenario_probability(model, row[COVS].iloc[0].to_dict())
    assert got == expected
    # and equals the logistic formula with the fitted coefficients
    eta = model.params["const"] + sum(model.params[c] * row[c].iloc[0] for c in COVS)
    assert got == pytest.approx(1 / (1 + np.exp(-eta)), rel=1e-12)


def test_base_child_is_weighted_mode_and_median():
    df = pd.DataFrame({"poverty": [1.0, 0.0, 0.0], "age": [6.0, 10.0, 16.0],
                       "weight": [10.0, 1.0, 1.0]})
    assert base_child(df, ["poverty", "age"]) == {"poverty": 1.0, "age": 6.0}
    assert base_child(df, ["poverty", "age"], weight=None) == {"poverty": 0.0, "age": 10.0}


def test_scenario_table_matches_predictions_and_differences(model, survey):
    base = base_child(survey, COVS)
    variations = default_variations(base, COVS, survey)
    assert {"poverty": 1.0 - base["poverty"]} in variations
    table = scenario_table(model, base, variations, lang="es")
    assert len(table) == len(variations) + 1
    assert table["scenario"].iloc[0] == i18n.gettext("Base child", "es")
    for changes, p in zip(table["changes"], table["probability"], strict=True):
        assert p == pytest.approx(scenario_probability(model, {**base, **changes}), rel=1e-12)
    assert table["difference"].iloc[0] == 0
    np.testing.assert_allclose(table["difference"], table["probability"] - table["probability"][0])
    shown = display_scenarios(table, lang="fr")
    assert shown.shape == (len(table), 3)


def test_missing_covariate_is_a_data_error(model):
    with pytest.raises(DataError, match="poverty"):
        scenario_probability(model, {"age": 10, "school_attendance": 1})


def test_widget_readout_follows_the_controls(model, survey):
    w = whatif_widget(model, lang="es", data=survey)
    *controls, readout = w.children
    before = readout.value
    poverty = controls[COVS.index("poverty")]
    poverty.value = 1.0 - poverty.value
    assert readout.value != before
    assert i18n.gettext("Probability of child labour", "es") in readout.value
