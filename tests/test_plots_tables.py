"""Display tables: translated headers, locale cell formats, harmonisation means, page notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clrisk import i18n
from clrisk.tables import (
    compare_covariates,
    display_table,
    not_applicable_note,
    synthetic_note,
    to_html,
)


def test_display_table_translates_headers_and_formats_cells():
    df = pd.DataFrame({"territory_id": ["01"], "children": [12345.4], "mean_probability": [0.1234],
                       "extra": [1]})
    out = display_table(df, ["territory_id", "children", "mean_probability"],
                        {"children": "int", "mean_probability": "pct"}, lang="es")
    assert list(out.columns) == [i18n.gettext(h, "es") for h in ("Code", "Children",
                                                                   "Mean probability")]
    assert out.iloc[0].tolist() == ["01", "12.345", "12,3\xa0%"]
    with pytest.raises(ValueError):
        display_table(df, ["children"], {"children": "bogus"})
    assert "<th>" in to_html(out) and "12.345" in to_html(out)


def test_compare_covariates_uses_expansion_factors():
    survey = pd.DataFrame({"poverty": [1.0, 0.0], "weight": [3.0, 1.0]})
    census = pd.DataFrame({"poverty": [1.0, 0.0, 0.0, 0.0]})
    tab = compare_covariates(survey, census, ["poverty"])
    assert tab.loc[0, "survey_mean"] == pytest.approx(0.75)
    assert tab.loc[0, "census_mean"] == pytest.approx(0.25)
    assert tab.loc[0, "difference"] == pytest.approx(-0.5)
    assert np.isfinite(tab[["survey_mean", "census_mean"]].to_numpy()).all()


class _Profile:
    synthetic = True
    instruments = ["ivti"]

    def name(self, lang="en"):
        return {"en": "Jamaica", "fr": "Jamaïque"}.get(lang, "Jamaica")


def test_page_notes_name_the_country_in_the_reader_language():
    assert "Jamaïque" in synthetic_note(_Profile(), "fr")
    assert i18n.gettext("Synthetic data", "fr") in synthetic_note(_Profile(), "fr")
    note = not_applicable_note(_Profile(), "es")
    assert "Jamaica" in note and "IVTI" in note
    assert i18n.gettext("This chapter does not apply to this country", "es") in note
    real = _Profile()
    real.synthetic = False
    assert synthetic_note(real, "en") == ""
