"""The survey-design and uncertainty chapters print what the data say (executed outputs).

Why read executed outputs: the figures these pages print (design effect, harmonisation flags,
interval widths) come from the samples and change with them; the tests recompute them with the
package and compare, and check the wording rules of issue 12 (no p-value printed as "0.000";
the coefficients-only band never called a confidence interval of the rate).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import nbformat
import pytest

from clrisk.tables import fmt_number

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.notebooks


def _run(chapter: str, country: str, lang: str, tmp_path: Path) -> str:
    from clrisk_book.execute import Job, error_outputs, execute

    out = tmp_path / f"{chapter}.ipynb"
    execute(Job(source=ROOT / "notebooks" / f"{chapter}.md", output=out, country=country,
                lang=lang, timeout=900))
    nb = nbformat.read(out, as_version=4)
    assert not error_outputs(nb)
    texts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = o.get("data", {})
            texts.append(data.get("text/markdown", "") + data.get("text/html", ""))
    return "\n".join(texts)


def test_fit_chapter_prints_the_prevalence_design_effect(tmp_path):
    import clrisk
    from clrisk.phase1.diagnostics import prevalence_design_effect

    text = _run("p1_03_fit", "peru", "en", tmp_path)
    data = clrisk.load_country("peru")
    prev = prevalence_design_effect(data.survey)
    assert f"design effect of {fmt_number(prev['deff'], 2, 'en')}" in text
    assert f"<td>{fmt_number(100 * prev['se'], 2, 'en')}</td>" in text
    assert not re.search(r"<td>0\.000</td>", text)  # p-values print as "< 0.001"


def test_census_chapter_harmonisation_and_two_uncertainties(tmp_path):
    import clrisk
    from clrisk.phase1.harmonisation import harmonisation_check
    from clrisk.pipeline import census_source

    text = _run("p1_05_census", "peru", "en", tmp_path)
    data = clrisk.load_country("peru")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = harmonisation_check(data.survey, census_source(data), data.profile.covariates,
                                  regions=data.territories)
    assert f"{len(tab)} comparisons were made" in text
    assert f"**{int(tab['flagged'].sum())}** are flagged" in text
    assert "official synthetic projection" in text.lower()
    assert "sampling error of the coefficients only" in text
    # no table header calls the coefficients-only band a CI
    assert "coef_only" not in text and "95% CI" not in text
