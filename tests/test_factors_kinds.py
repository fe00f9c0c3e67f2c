"""Factor kinds and derived terms in the profile (issue 13, items 1 and 3).

A profile says which covariates are modifiable factors (reference, sector, direction) and
which are markers; declaring sex or ethnicity modifiable is allowed but warned about; derived
design columns (interactions) are declared with a safe expression and are not expected in
the data files; the committed samples declare no marker as a factor.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clrisk.errors import DataError
from clrisk.phase1.terms import add_derived_columns, columns_of, derived_terms, raw_covariates
from clrisk.profile import NonModifiableWarning, load_profile
from clrisk.schema import COVARIATES, NON_MODIFIABLE

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _profile(tmp_path: Path, covariates: list[dict]) -> Path:
    base = yaml.safe_load((SAMPLES / "peru" / "profile.yaml").read_text(encoding="utf-8"))
    base["covariates"] = covariates
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def _cov(name: str, **extra) -> dict:
    return {"name": name, "labels": {"en": name, "es": name, "fr": name}, **extra}


@pytest.mark.parametrize("country", sorted(p.name for p in SAMPLES.glob("*")
                                           if (p / "profile.yaml").is_file()))
def test_samples_declare_no_marker_as_factor(country):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonModifiableWarning)
        prof = load_profile(SAMPLES / country)
    assert not set(prof.factors) & set(NON_MODIFIABLE)
    if prof.has_risk_model:
        assert prof.factors and prof.markers
        assert prof.factor_roles.get("head_schooling", "protective") == "protective"
        assert prof.factor_roles.get("poverty", "risk") == "risk"


def test_catalogue_kinds():
    assert {c for c, s in COVARIATES.items() if s.factor_kind == "modifiable"} >= {
        "poverty", "social_programme", "school_attendance", "head_schooling",
        "adult_unemployed", "health_insurance"}
    for name in NON_MODIFIABLE:
        assert COVARIATES[name].factor_kind == "marker" and COVARIATES[name].reference is None


def test_marker_declared_modifiable_is_warned(tmp_path):
    path = _profile(tmp_path, [
        _cov("poverty", factor={"reference": 0, "sector": "social_protection"}),
        _cov("indigenous", factor={"reference": 0, "sector": "social_protection"})])
    with pytest.warns(NonModifiableWarning, match="'indigenous' describes who a child is"):
        prof = load_profile(path)
    assert "indigenous" in prof.factors  # honoured, but the team was told


def test_explicit_marker_and_roles(tmp_path):
    path = _profile(tmp_path, [
        _cov("poverty", factor={"reference": 0, "sector": "social_protection"}),
        _cov("head_schooling", expected_sign=-1,
             factor={"reference": 11, "sector": "education"}),
        _cov("female", kind="marker"),
        _cov("health_insurance", factor={"reference": 1, "sector": "health",
                                         "role": "protective"})])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonModifiableWarning)
        prof = load_profile(path)
    assert prof.factors == {"poverty": 0.0, "head_schooling": 11.0, "health_insurance": 1.0}
    assert prof.factor_roles == {"poverty": "risk", "head_schooling": "protective",
                                 "health_insurance": "protective"}
    assert prof.markers == ["female"]


def test_modifiable_without_reference_is_an_error(tmp_path):
    path = _profile(tmp_path, [_cov("household_size", kind="modifiable")])
    with pytest.raises(DataError, match="modifiable but has no reference value"):
        load_profile(path)


def test_derived_terms_in_profile(tmp_path):
    path = _profile(tmp_path, [
        _cov("poverty", factor={"reference": 0, "sector": "social_protection"}),
        _cov("rural", kind="marker"),
        _cov("poverty_x_rural", expression="poverty * rural")])
    prof = load_profile(path)
    assert prof.covariates == ["poverty", "rural"]  # what the files must hold
    assert prof.model_terms == ["poverty", "rural", "poverty_x_rural"]
    assert derived_terms(prof) == {"poverty_x_rural": "poverty * rural"}
    survey = pd.DataFrame({"poverty": [1, 1, 0], "rural": [1, 0, 1]})
    np.testing.assert_array_equal(add_derived_columns(survey, prof)["poverty_x_rural"],
                                  [1, 0, 0])
    model = type("M", (), {"covariates": prof.model_terms,
                           "derived_terms": prof.derived_terms})()
    assert raw_covariates(model) == ["poverty", "rural"]
    assert columns_of("poverty", model) == ["poverty", "poverty_x_rural"]
    assert columns_of("rural", model) == ["rural", "poverty_x_rural"]


def test_derived_term_using_unknown_column_is_an_error(tmp_path):
    path = _profile(tmp_path, [
        _cov("poverty", factor={"reference": 0, "sector": "social_protection"}),
        _cov("poverty_x_rural", expression="poverty * rurl")])
    with pytest.raises(DataError, match="uses rurl, which no covariate above it defines"):
        load_profile(path)


def test_derived_term_with_a_call_is_refused(tmp_path):
    path = _profile(tmp_path, [_cov("poverty"), _cov("bad", expression="__import__('os')")])
    with pytest.raises(DataError, match="not allowed"):
        load_profile(path)
