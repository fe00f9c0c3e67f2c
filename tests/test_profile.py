"""profile.yaml: parsing, accessors and mistakes reported at the YAML line with the fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema
import pytest
import yaml

from clrisk.data.toy import toy_profile
from clrisk.errors import DataError
from clrisk.profile import Profile, load_profile, profile_schema

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "profile.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def good_text() -> str:
    return yaml.safe_dump(toy_profile(), sort_keys=False, allow_unicode=True)


def expect(tmp_path: Path, text: str, *needles: str) -> str:
    path = write(tmp_path, text)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DataError) as info:
        load_profile(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    msg = str(info.value)
    assert msg.startswith("profile.yaml"), msg
    for n in needles:
        assert n in msg, f"{n!r} not in {msg}"
    assert "Fix:" in msg
    return msg


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_accessors(tmp_path: Path) -> None:
    prof = load_profile(write(tmp_path, good_text()))
    assert isinstance(prof, Profile)
    assert prof.key == "toyland" and prof.name("es") == "Juguetelandia"
    assert prof.level_name("territory", "fr") == "District"
    assert prof.label("poverty", "es") == "Hogar en pobreza"
    assert prof.label("school_dropout", "fr") == "Décrochage scolaire"
    assert prof.covariates == ["age", "female", "poverty", "head_schooling"]
    assert prof.factors == {"poverty": 0, "head_schooling": 11}
    assert prof.factor_sectors["head_schooling"] == "education"
    assert prof.expected_signs["female"] == -1
    assert prof.instruments == ["risk_model", "ivti"] and prof.has_ivti
    assert prof.ivti_indicators == ["school_dropout", "poverty_rate"]
    assert prof.age_range == (5, 17)
    assert prof.risk_levels == {"method": "quantiles", "k": 3}
    assert prof.file("survey") == (tmp_path / "survey.csv").resolve()
    assert prof.line_of("covariates", 2) == line_of(good_text(), "name: poverty")


@pytest.mark.parametrize("country", ["peru", "argentina", "jamaica", "costa_rica"])
def test_sample_profiles_valid(country: str) -> None:
    path = REPO / "data_samples" / country / "profile.yaml"
    if not path.is_file():
        pytest.skip("sample not generated yet")
    prof = load_profile(path)
    assert prof.key == country
    assert prof.name("fr")


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(profile_schema())


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = good_text().replace("covariates:", "covariate:")
    msg = expect(tmp_path, text, "unknown key 'covariate'", "did you mean 'covariates'")
    assert f"line {line_of(text, 'covariate:')}" in msg


def test_unknown_nested_key(tmp_path: Path) -> None:
    text = good_text().replace("expected_sign: -1", "expected_sing: -1", 1)
    msg = expect(tmp_path, text, "unknown key 'expected_sing'", "did you mean 'expected_sign'",
                 "covariates[1]")
    assert f"line {line_of(text, 'expected_sing')}" in msg


def test_missing_required_key(tmp_path: Path) -> None:
    d = toy_profile()
    del d["names"]
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False), "'names' is missing", "add the key")


def test_label_missing_language(tmp_path: Path) -> None:
    d = toy_profile()
    del d["covariates"][0]["labels"]["fr"]
    text = yaml.safe_dump(d, sort_keys=False, allow_unicode=True)
    msg = expect(tmp_path, text, "'fr' is missing", "covariates[0].labels")
    assert f"line {line_of(text, 'en: Age')}" in msg or "line" in msg


def test_bad_instrument_suggests(tmp_path: Path) -> None:
    text = good_text().replace("- risk_model", "- risk-model")
    msg = expect(tmp_path, text, "'risk-model'", "did you mean 'risk_model'")
    assert f"line {line_of(text, 'risk-model')}" in msg


def test_age_range_reversed(tmp_path: Path) -> None:
    d = toy_profile()
    d["age_range"] = [17, 5]
    text = yaml.safe_dump(d, sort_keys=False)
    msg = expect(tmp_path, text, "age_range [17, 5]", "youngest age first")
    assert f"line {line_of(text, 'age_range')}" in msg


def test_age_range_wrong_length(tmp_path: Path) -> None:
    d = toy_profile()
    d["age_range"] = [5, 12, 17]
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False), "age_range", "wrong number of items")


def test_duplicated_key(tmp_path: Path) -> None:
    text = good_text() + "synthetic: false\n"
    n = len(text.splitlines())
    expect(tmp_path, text, "'synthetic' appears twice", f"line {n}", "keep one")


def test_invalid_yaml(tmp_path: Path) -> None:
    text = good_text().replace("age_range:\n- 5\n- 17", "age_range: [5, 17")
    expect(tmp_path, text, "invalid YAML", "line", "indentation")


def test_unknown_factor_sector(tmp_path: Path) -> None:
    text = good_text().replace("sector: education", "sector: schooling")
    msg = expect(tmp_path, text, "'schooling'", "education")
    assert f"line {line_of(text, 'sector: schooling')}" in msg


def test_covariate_listed_twice(tmp_path: Path) -> None:
    d = toy_profile()
    d["covariates"].append(dict(d["covariates"][0]))
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "covariate 'age' is listed twice")


def test_risk_model_without_census(tmp_path: Path) -> None:
    d = toy_profile()
    del d["files"]["census"]
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "needs a census file", "ivti")


def test_expected_sign_out_of_set(tmp_path: Path) -> None:
    text = good_text().replace("expected_sign: 1", "expected_sign: 2", 1)
    expect(tmp_path, text, "expected_sign is 2", "-1, 0, 1")


def test_fixed_levels_need_cutoffs(tmp_path: Path) -> None:
    d = toy_profile()
    d["risk_levels"] = {"method": "fixed", "k": 3, "cutoffs": [0.1]}
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "k-1 increasing cutoffs")


def test_wrong_risk_method_suggests(tmp_path: Path) -> None:
    text = good_text().replace("method: quantiles", "method: jenks")
    expect(tmp_path, text, "'jenks'", "did you mean 'fisher_jenks'")


def test_id_widths_mismatch(tmp_path: Path) -> None:
    d = toy_profile()
    d["mapping"] = {"survey": {"territory_id": {"columns": ["ccdd", "ccpp", "ccdi"],
                                                "widths": [2, 2]}}}
    text = yaml.safe_dump(d, sort_keys=False, allow_unicode=True)
    msg = expect(tmp_path, text, "3 columns but 2 widths", "one width per column")
    assert f"line {line_of(text, 'territory_id:')}" in msg


def test_bins_labels_mismatch(tmp_path: Path) -> None:
    d = toy_profile()
    d["mapping"] = {"survey": {"recode": [{"column": "age_group", "from": "p208a",
                                           "bins": [5, 12, 15, 18], "labels": [1, 2]}]}}
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "3 ranges but 2 labels")


def test_expression_with_call_refused(tmp_path: Path) -> None:
    d = toy_profile()
    d["mapping"] = {"survey": {"derive": {"child_labour": "__import__('os').system('x') > 0"}}}
    text = yaml.safe_dump(d, sort_keys=False, allow_unicode=True)
    msg = expect(tmp_path, text, "not allowed", "no function calls")
    assert f"line {line_of(text, 'child_labour: __import__')}" in msg


def test_filter_expression_syntax(tmp_path: Path) -> None:
    d = toy_profile()
    d["mapping"] = {"survey": {"filter": ["p208a >= 5 &"]}}
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True), "does not parse")


def test_dimension_weight_unknown(tmp_path: Path) -> None:
    d = toy_profile()
    d["ivti"]["dimension_weights"] = {"educaton": 1.0, "poverty": 1.0}
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "'educaton'", "did you mean 'education'")


def test_recode_needs_map_or_bins(tmp_path: Path) -> None:
    d = toy_profile()
    d["mapping"] = {"survey": {"recode": [{"column": "female", "from": "p207"}]}}
    expect(tmp_path, yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
           "mapping.survey.recode[0]")


def test_not_utf8_profile(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_bytes(good_text().replace("Juguetelandia", "Juguetelandía").encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_profile(path)


def test_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="profile not found"):
        load_profile(tmp_path / "nope.yaml")
