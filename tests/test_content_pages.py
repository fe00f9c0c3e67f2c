"""Issue 15 item 1 as judged: each fixed statement is checked on the BUILT pages.

These tests read ``_build/html/{en,es,fr}/`` (or the folder named by ``CLRISK_SITE_DIR``):
run ``make site`` first. Without a built language they are skipped locally and FAIL when the
``CI`` environment variable is set (CI builds the sites before the page tests). The Peru sample
(synthetic) is the site the checks expect.

Nothing here hard-codes a number the data produce: the teaching examples of chapter 4 are
compared with the effect list on the same page, and every interval is re-read from the page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CLRISK_SITE_DIR") or ROOT / "_build" / "html")
LANGS = ("en", "es", "fr")
NUM = r"-?\d+(?:[.,]\d+)?"


def built(lang: str, rel: str) -> Path:
    """A built page; skip locally / fail in CI when the site is missing."""
    path = SITE / lang / rel
    if not path.is_file():
        message = f"{path} is not built (run `make site` first)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def soup(path: Path):  # noqa: ANN201 — BeautifulSoup object
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _code_or_maths(cls: str | None) -> bool:
    """Class tokens of code and maths blocks (not ``mathjax_ignore``, which wraps whole pages)."""
    return bool(cls) and (cls in ("math", "cell_input", "highlight")
                          or cls.startswith("highlight-"))


def main_text(path: Path) -> str:
    """Visible text of the page body (no code), whitespace collapsed."""
    page = soup(path)
    main = page.find("main") or page
    for tag in main.find_all(["script", "style", "pre", "code"]):
        tag.decompose()
    for tag in main.find_all(class_=_code_or_maths):
        tag.decompose()
    return " ".join(main.get_text(" ").split())


def number(text: str) -> float:
    return float(text.replace("\u2212", "-").replace(",", "."))


# --- glossary: the odds-ratio sentence ---------------------------------------------------------
GLOSSARY_OR = {
    "en": ("compares the odds at one unit more with the odds at the current value",
           "one unit more with one unit less"),
    "es": ("compara las odds con una unidad más con las odds en el valor actual",
           "una unidad menos"),
    "fr": ("il compare la cote à une unité de plus avec la cote à la valeur actuelle",
           "une unité de moins"),
}
HYPOTHETICAL = {"en": "hypothetical", "es": "hipotético", "fr": "hypothétique"}


@pytest.mark.parametrize("lang", LANGS)
def test_glossary_odds_ratio_sentence(lang: str) -> None:
    text = main_text(built(lang, "book/glossary.html"))
    right, wrong = GLOSSARY_OR[lang]
    assert right in text, f"{lang} glossary lacks: {right!r}"
    assert wrong not in text
    # the worked numbers of the glossary (1.8, 0.6, +4 points) are labelled hypothetical
    assert text.count(HYPOTHETICAL[lang]) >= 2


# --- chapter 4: examples from the data, intervals worded by code ---------------------------
EXAMPLE = {
    "en": r"the odds ratio of (?P<label>.+?) is (?P<or>{n})",
    "es": r"la razón de probabilidades de (?P<label>.+?) es (?P<or>{n})",
    "fr": r"le rapport de cotes de (?P<label>.+?) est de (?P<or>{n})",
}
INTERVAL = {
    "en": r"95% interval (?P<lo>{n}) to (?P<hi>{n})",
    "es": r"intervalo del 95\s?% de (?P<lo>{n}) a (?P<hi>{n})",
    "fr": r"intervalle à 95\s?% de (?P<lo>{n}) à (?P<hi>{n})",
}
NO_EFFECT = {"en": "cannot distinguish", "es": "no permiten distinguir",
             "fr": "ne permettent pas de distinguer"}


def _items(path: Path) -> list[str]:
    main = soup(path).find("main")
    return [" ".join(li.get_text(" ").split()) for li in main.find_all("li")]


@pytest.mark.parametrize("lang", LANGS)
def test_chapter4_examples_match_the_effect_list(lang: str) -> None:
    path = built(lang, "notebooks/p1_04_interpret.html")
    items = _items(path)
    pattern = re.compile(EXAMPLE[lang].format(n=NUM))
    examples = [m for it in items if (m := pattern.search(it))]
    assert examples, "chapter 4 shows no worked example from the model"
    for m in examples:
        label, value = m["label"].strip(), m["or"]
        others = [it for it in items if it.startswith(label) and it is not m.string]
        assert others, f"no effect sentence for {label!r}"
        assert any(value in it for it in others), (label, value, others)


@pytest.mark.parametrize("lang", LANGS)
def test_chapter4_intervals_including_no_effect_are_worded_so(lang: str) -> None:
    items = _items(built(lang, "notebooks/p1_04_interpret.html"))
    pattern = re.compile(INTERVAL[lang].format(n=NUM))
    found = 0
    for it in items:
        for m in pattern.finditer(it):
            found += 1
            lo, hi = number(m["lo"]), number(m["hi"])
            if lo <= 1.0 <= hi:
                assert NO_EFFECT[lang] in it, f"interval {lo}–{hi} includes 1, stated flatly: {it}"
    assert found, "no effect sentence with an interval on the page"


def test_chapter4_has_no_fixed_teaching_numbers() -> None:
    """The old fixed examples (1.8 for poverty, 0.6 for school, +4 points) are gone."""
    text = main_text(built("en", "notebooks/p1_04_interpret.html"))
    assert "an odds ratio of 1.8" not in text and "+4 points for poverty" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_p_values_never_print_as_zero(lang: str) -> None:
    path = built(lang, "notebooks/p1_03_fit.html")
    cells = [" ".join(td.get_text(" ").split()) for td in soup(path).find_all("td")]
    assert cells, "chapter 3 has no table"
    assert not [c for c in cells if re.fullmatch(r"0[.,]000", c)]


# --- French articles and apostrophes -------------------------------------------------------
def test_french_banner_uses_articles() -> None:
    text = main_text(built("fr", "notebooks/p1_04_interpret.html"))
    assert "structure du Pérou" in text and "travail des enfants au Pérou" in text
    for page in (SITE / "fr").rglob("*.html"):
        body = main_text(page)
        assert not re.search(r"\b(de|en) Pérou\b", body), page
        assert not re.search(r"[A-Za-zÀ-ÿ]”[A-Za-zÀ-ÿ]", body), page


# --- home page and references ----------------------------------------------------------------
SYNTHETIC_HEADING = {"en": "SYNTHETIC", "es": "SINTÉTICOS", "fr": "SYNTHÉTIQUES"}


@pytest.mark.parametrize("lang", LANGS)
def test_home_page_says_synthetic_on_the_samples(lang: str) -> None:
    text = main_text(built(lang, "book/intro.html"))
    assert SYNTHETIC_HEADING[lang] in text
    assert "the code shows every step" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_references_have_links(lang: str) -> None:
    page = soup(built(lang, "book/references.html"))
    links = {a["href"] for a in page.find("main").find_all("a", href=True)
             if a["href"].startswith("http")}
    assert len(links) >= 6, links
    assert any("doi.org" in h for h in links)


# --- figures: alt text says what the figure shows ------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", ["notebooks/p1_04_interpret.html", "notebooks/p1_02_data.html",
                                  "notebooks/p2_01_selection.html"])
def test_figures_have_descriptive_alt_text(lang: str, page: str) -> None:
    imgs = [img for img in soup(built(lang, page)).find("main").find_all("img")
            if "clrisk-math" not in (img.get("class") or [])]
    assert imgs
    for img in imgs:
        alt = img.get("alt", "")
        assert len(alt) > 30 and not re.search(r"\.(png|svg)$", alt), alt
