"""No marker in any ranking, objective, service coverage or monitoring target (issue 13).

Markers (sex, age, ethnicity, rurality, female headship) say who is at risk; a plan that
"reduces the risk linked to: Indigenous" is wrong and offensive to the people it serves.
Checked on every survey+census sample in en/es/fr: the characterisation's factor tables, the
plan's objectives, action lines, supply–demand and monitoring tables, and the exported xlsx;
then on the executed chapters (p2_03, p2_05) of one country in the three languages.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clrisk.i18n import _, set_language
from clrisk.phase2 import intervention as iv
from clrisk.phase2 import steps
from clrisk.schema import NON_MODIFIABLE

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
COUNTRIES = sorted(p.parent.name for p in SAMPLES.glob("*/census.parquet")
                   if (p.parent / "survey.csv").exists())
LANGS = ("en", "es", "fr")

pytestmark = pytest.mark.slow


def _marker_labels(profile, lang: str) -> list[str]:
    return [profile.label(m, lang) for m in profile.markers if m in NON_MODIFIABLE]


def _text(df: pd.DataFrame) -> str:
    return "\n".join(df.astype(str).agg(" | ".join, axis=1)) + "\n" + " | ".join(
        map(str, df.columns))


@pytest.fixture(scope="module", params=COUNTRIES)
def country(request):
    set_language("en")
    return steps.load(request.param)


@pytest.mark.parametrize("lang", LANGS)
def test_no_marker_in_rankings_objectives_or_targets(country, lang, tmp_path):
    set_language(lang)
    try:
        profile = country.data.profile
        labels = _marker_labels(profile, lang)
        assert labels, "the sample declares no marker"
        assert not set(country.inputs.factor_names) & set(NON_MODIFIABLE)
        tid = steps.selection(country).chosen
        ch = steps.characterisation(country, tid)
        ranked = pd.concat([ch.risk_factors, ch.protective_factors])
        assert not set(ranked["factor"]) & set(NON_MODIFIABLE)
        # the profile's factor sections (before "who is at risk") name no marker
        md = ch.markdown
        factor_text = md[md.index(_("Risk factors to reduce")):md.index(_("Who is at risk"))]
        for label in labels:
            assert label not in factor_text, (label, factor_text[:500])
        plan = steps.intervention(country, tid)
        for title, table in plan.tables().items():
            if title == _("Target population"):
                continue
            text = _text(table)
            for label in labels:
                assert label not in text, (title, label)
        assert not set(plan.action_lines["factor"]) & set(NON_MODIFIABLE)
        assert not set(plan.monitoring["factor"]) & set(NON_MODIFIABLE)
        model_rows = plan.monitoring[plan.monitoring["kind"] == "model"]
        assert model_rows["frequency"].nunique() <= 1
        xlsx = iv.export_plan(plan, tmp_path / "plan.xlsx")
        for name, sheet in pd.read_excel(xlsx, sheet_name=None).items():
            text = _text(sheet.fillna(""))
            for label in labels:
                assert label not in text, (name, label)
    finally:
        set_language("en")


@pytest.mark.notebooks
@pytest.mark.parametrize("lang", LANGS)
def test_executed_chapters_name_no_marker_as_a_factor(lang, tmp_path):
    """The executed p2_03 and p2_05 (Peru): the risk/protective factor sections and the plan's
    objectives name no marker; markers appear only under "who is at risk"."""
    import jupytext
    import papermill

    from clrisk.data import load_country

    profile = load_country("peru").profile
    labels = _marker_labels(profile, lang)
    for chapter in ("p2_03_characterisation", "p2_05_intervention"):
        nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.md")
        out = tmp_path / f"{chapter}_{lang}.ipynb"
        done = papermill.execute_notebook(nb, str(out), parameters={"country": "peru",
                                                                    "lang": lang},
                                          kernel_name="python3", cwd=str(tmp_path),
                                          progress_bar=False)
        html = []
        for cell in done.cells:
            for o in cell.get("outputs", []):
                assert o.get("output_type") != "error", o
                data = o.get("data", {})
                html.append("".join(data.get("text/html", "")) + "".join(
                    data.get("text/markdown", "")) + "".join(o.get("text", "")))
        text = "\n".join(html)
        if chapter.startswith("p2_03"):  # the profile's factor sections
            set_language(lang)
            start, end = _("Risk factors to reduce"), _("Who is at risk")
            set_language("en")
            assert start in text and end in text
            text = text[text.index(start):text.index(end)]
        for label in labels:
            assert label not in text, (chapter, lang, label)
