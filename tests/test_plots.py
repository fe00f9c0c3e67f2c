"""Figures: translated labels, locale numbers, ordered level colours, reproducible files."""

from __future__ import annotations

import hashlib

import matplotlib
import numpy as np
import pandas as pd
import pytest

from clrisk import i18n, plots
from clrisk.maps import save_figure
from clrisk.tables import fmt_number, fmt_percent, level_names


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


def or_table() -> pd.DataFrame:
    return pd.DataFrame({"odds_ratio": [0.2, 1.8, 0.6, 1.1],
                         "ci_low": [0.1, 1.3, 0.4, 0.9], "ci_high": [0.3, 2.4, 0.9, 1.4]},
                        index=["const", "poverty", "school_attendance", "age"])


def test_odds_ratio_chart_is_in_spanish_and_drops_the_constant():
    i18n.set_language("es")
    fig = plots.plot_odds_ratios(or_table())
    ax = fig.axes[0]
    assert ax.get_xlabel().replace("\n", " ") == i18n.gettext(
        "Odds ratio (log scale; 1 = no association)", "es")
    assert ax.get_xlabel() != "Odds ratio (log scale; 1 = no association)"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "const" not in ticks and len(ticks) == 3
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert i18n.gettext("Risk factor (OR > 1)", "es") in legend


def test_profile_labels_used_for_covariates():
    class P:
        def label(self, name, lang="en"):
            return {"poverty": "Hogar pobre"}.get(name, name)

    fig = plots.plot_odds_ratios(or_table(), profile=P(), lang="es")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Hogar pobre" in ticks


def test_locale_number_formatting():
    assert fmt_number(1234.56, 1, "es") == "1.234,6"
    assert fmt_number(1234.56, 1, "en") == "1,234.6"
    assert fmt_percent(0.123, 1, "fr") == "12,3\xa0%"
    assert fmt_percent(0.123, 1, "en") == "12.3%"
    assert fmt_number(float("nan")) == "—"


def test_percent_axis_uses_decimal_comma_in_spanish():
    scored = pd.DataFrame({"territory_id": ["01", "02", "03"], "mean_probability": [0.1, 0.2, .3],
                           "ci_low": [0.05, 0.15, 0.25], "ci_high": [0.15, 0.25, 0.35],
                           "risk_level": [1, 2, 3]})
    fig = plots.plot_territory_intervals(scored, lang="es")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert all(lab.endswith("%") for lab in labels)
    assert fig.axes[0].get_legend().get_title().get_text() == i18n.gettext("Risk level", "es")


def test_level_colours_run_light_to_dark():
    for k in (3, 4, 5):
        cols = plots.level_colours(k)
        lum = [np.dot(matplotlib.colors.to_rgb(c), [0.299, 0.587, 0.114]) for c in cols]
        assert all(a > b for a, b in zip(lum, lum[1:], strict=False))
    assert level_names(3, "es") == [i18n.gettext(n, "es") for n in ("Low", "Medium", "High")]


def test_all_charts_build(tmp_path):
    rng = np.random.default_rng(1)
    n = 12
    terr = pd.DataFrame({"territory_id": [f"{i:02d}" for i in range(n)],
                         "mean_probability": rng.uniform(0.02, 0.3, n)})
    terr["ci_low"] = terr["mean_probability"] - 0.02
    terr["ci_high"] = terr["mean_probability"] + 0.02
    terr["risk_level"] = pd.qcut(terr["mean_probability"], 3, labels=False) + 1
    terr["p_top"] = rng.uniform(0, 1, n)
    terr["jenks"] = terr["risk_level"]
    figs = [
        plots.plot_marginal_effects(pd.DataFrame({"ame": [0.05, -0.03], "ci_low": [0.02, -0.05],
                                                  "ci_high": [0.08, -0.01]},
                                                 index=["poverty", "school_attendance"])),
        plots.plot_design_effects(pd.DataFrame({"naive_se": [0.1, 0.2], "design_se": [.15, .2]},
                                               index=["poverty", "age"])),
        plots.plot_method_comparison(terr.rename(columns={"risk_level": "quantiles"}),
                                     ["quantiles", "jenks"], 3),
        plots.plot_p_top(terr),
        plots.plot_calibration(pd.DataFrame({"mean_predicted": [.05, .1, .2],
                                             "observed": [.06, .09, .22]})),
        plots.plot_regional_validation(pd.DataFrame({
            "region_id": ["A", "B"], "model_rate": [.1, .2], "direct_rate": [.12, .18],
            "direct_ci_low": [.08, .14], "direct_ci_high": [.16, .22]}), names={"A": "Alfa"}),
        plots.plot_factor_weights(pd.DataFrame({
            "territory_id": ["01", "01"], "factor": ["poverty", "school_attendance"],
            "reduction": [0.04, 0.02], "sector": ["social_protection", "education"]}), "01"),
        plots.plot_national_ranking(pd.DataFrame({
            "factor": ["poverty", "school_attendance"], "children": [1200.0, 300.0],
            "sector": ["social_protection", "education"]})),
        plots.plot_ivti_contributions(pd.DataFrame({
            "territory_id": ["01", "02"], "education": [.2, .1], "poverty": [.3, .1]})),
        plots.plot_scenarios(pd.DataFrame({"scenario": ["Base", "Poor"],
                                           "probability": [0.1, 0.2]})),
    ]
    for fig in figs:
        assert fig.get_size_inches()[0] > 0
        assert fig.axes and fig.axes[0].get_xlabel()


def test_svg_is_byte_for_byte_reproducible(tmp_path):
    files = []
    for run in ("a", "b"):
        fig = plots.plot_odds_ratios(or_table(), lang="fr", synthetic=True, title="Pérou")
        files.append(save_figure(fig, tmp_path / run / "or"))
    for f1, f2 in zip(*files, strict=True):
        assert f1.suffix == f2.suffix
        assert hashlib.sha256(f1.read_bytes()).digest() == hashlib.sha256(f2.read_bytes()).digest()
    assert b"<dc:date>" not in files[0][1].read_bytes()


def test_ivti_components_add_up_to_the_index():
    result = pd.DataFrame({"territory_id": ["01", "02"], "ivti": [0.6, 0.3],
                           "contribution_dropout": [0.2, 0.1], "contribution_poverty": [0.3, 0.1],
                           "contribution_attendance": [0.1, 0.1]})
    groups = {"dropout": "education", "attendance": "education", "poverty": "poverty"}
    comps = plots.ivti_components(result, groups)
    assert list(comps.columns) == ["territory_id", "education", "poverty"]
    np.testing.assert_allclose(comps[["education", "poverty"]].sum(axis=1), result["ivti"])
    fig = plots.plot_ivti_contributions(comps, lang="fr")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [i18n.gettext("Education", "fr"),
                      i18n.gettext("Poverty and social protection", "fr")]
