"""Page-level language check (issue 15 item 3) on a synthetic site, plus the real built site.

The synthetic site is a fully translated Spanish and French page beside its English page; the
check must pass on it and fail, naming the heading, once one English heading is put back —
and likewise for an English sentence, an English table header, an alt text that is a file
name and the typographic quote errors the issue lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clrisk_book import langcheck

ROOT = Path(__file__).resolve().parents[1]
NB = "\u00a0"

EN = """<h1>Fitting the risk model</h1>
<p>The model compares children with and without each characteristic. It uses the survey
weights of the household survey.</p>
<table><thead><tr><th>Factor</th><th>Odds ratio</th></tr></thead>
<tbody><tr><td>Nueva Ranqueguaal</td><td>1.80</td></tr></tbody></table>
<figure><img src="../_images/a.png" alt="Bar chart of the odds ratio of each factor">
<figcaption>Odds ratios with their 95% interval</figcaption></figure>
<p>Run <code>clrisk run --country peru</code> to write <code>territories.csv</code>.</p>
"""
ES = """<h1>Ajuste del modelo de riesgo</h1>
<p>El modelo compara a niños y niñas con y sin cada característica. Usa los ponderadores
de la encuesta de hogares.</p>
<table><thead><tr><th>Factor</th><th>Odds ratio</th></tr></thead>
<tbody><tr><td>Nueva Ranqueguaal</td><td>1,80</td></tr></tbody></table>
<figure><img src="../_images/a.png" alt="Gráfico de barras del odds ratio de cada factor">
<figcaption>Odds ratios con su intervalo del 95%</figcaption></figure>
<p>Ejecute <code>clrisk run --country peru</code> para escribir «territories.csv».</p>
"""
FR = f"""<h1>Ajustement du modèle de risque</h1>
<p>Le modèle compare les enfants avec et sans chaque caractéristique. Il utilise les
pondérations de l’enquête auprès des ménages, dites «{NB}poids{NB}».</p>
<table><thead><tr><th>Facteur</th><th>Rapport de cotes</th></tr></thead>
<tbody><tr><td>Nueva Ranqueguaal</td><td>1,80</td></tr></tbody></table>
<figure><img src="../_images/a.png" alt="Diagramme en barres du rapport de cotes de chaque facteur">
<figcaption>Rapports de cotes avec leur intervalle à 95{NB}%</figcaption></figure>
<p>Exécutez <code>clrisk run --country peru</code> pour écrire <code>territories.csv</code>.</p>
"""


def page(lang: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><title>x</title></head><body>'
            f'<nav>Skip to main content</nav><article class="bd-article">{body}</article>'
            "</body></html>")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "html"
    for lang, body in (("en", EN), ("es", ES), ("fr", FR)):
        (root / lang / "notebooks").mkdir(parents=True)
        (root / lang / "notebooks" / "p1_03_fit.html").write_text(page(lang, body),
                                                                  encoding="utf-8")
    (root / "index.html").write_text(page("en", ""), encoding="utf-8")
    return root


def kinds(findings: list[langcheck.Finding]) -> list[str]:
    return [f.kind for f in findings]


def test_translated_site_passes(site: Path) -> None:
    findings, checked = langcheck.check_site(site)
    assert checked == 2
    assert findings == [], "\n".join(map(str, findings))


def test_one_english_heading_put_back_fails(site: Path) -> None:
    path = site / "es" / "notebooks" / "p1_03_fit.html"
    path.write_text(page("es", ES.replace("<h1>Ajuste del modelo de riesgo</h1>",
                                          "<h1>Fitting the risk model</h1>")), encoding="utf-8")
    findings, _checked = langcheck.check_site(site)
    assert len(findings) == 2, "\n".join(map(str, findings))
    assert {f.page for f in findings} == {"es/notebooks/p1_03_fit.html"}
    assert set(kinds(findings)) == {"same-as-english", "english-words"}
    assert all("Fitting the risk model" in f.text for f in findings)
    assert langcheck.main(["--site", str(site), "--output", str(site.parent / "lc.txt")]) == 1
    assert "Fitting the risk model" in (site.parent / "lc.txt").read_text(encoding="utf-8")


def test_english_sentence_table_header_and_alt_are_found(site: Path) -> None:
    body = (FR.replace("Il utilise les\npondérations", "It uses the survey\nweights of the "
                       "household survey. Il utilise les\npondérations")
            .replace("<th>Facteur</th>", "<th>Share of children</th>")
            .replace('alt="Diagramme', 'alt="../_images/a.png" title="Diagramme'))
    (site / "fr" / "notebooks" / "p1_03_fit.html").write_text(page("fr", body),
                                                              encoding="utf-8")
    findings, _checked = langcheck.check_site(site)
    text = "\n".join(map(str, findings))
    assert "[same-as-english] <p> It uses the survey weights of the household survey." in text
    assert "[english-words] <th> Share of children (of)" in text
    assert "[alt-text]" in text and "fr/notebooks/p1_03_fit.html" in text


@pytest.mark.parametrize(("lang", "prose", "problem"), [
    ("fr", "l”éducation des enfants", "apostrophe"),
    ("fr", "son secteur, l” qui le gère", "apostrophe"),  # l”<code>institution</code>
    ("es", "el \"peso\" de la encuesta", "straight double quote"),
    ("es", "el »peso» de la encuesta", "wrong way"),
    ("fr", "le «poids» de l’enquête", "non-breaking space"),
])
def test_quote_errors(lang: str, prose: str, problem: str) -> None:
    assert any(problem in p for p in langcheck.quote_problems(prose, lang))


@pytest.mark.parametrize(("lang", "prose"), [
    ("fr", f"le «{NB}poids{NB}» de l’enquête"),
    ("es", "el «peso» de la encuesta, o “peso”"),
    ("fr", "l'éducation, aujourd’hui"),
])
def test_correct_quotes_pass(lang: str, prose: str) -> None:
    assert langcheck.quote_problems(prose, lang) == []


def test_names_numbers_and_code_are_not_sentences() -> None:
    assert not langcheck.is_sentence("Nueva Ranqueguaal")
    assert not langcheck.is_sentence("p_top 0.83 territories.csv")
    assert langcheck.is_sentence("The share of children")
    assert langcheck.english_words("ODDS IS OK") == []
    assert not langcheck.is_sentence("Centro de cuidado y jornada extendida", "td")
    assert langcheck.is_sentence("Centro de cuidado y jornada extendida", "p")


SITE = ROOT / "_build" / "html"


@pytest.mark.slow
@pytest.mark.skipif(not (SITE / "es").is_dir() or not (SITE / "fr").is_dir(),
                    reason="no built es/fr site in _build/html (run `make site` first)")
def test_built_sites_pass_the_language_check() -> None:
    findings, checked = langcheck.check_site(SITE)
    (ROOT / "_build" / "language_check.txt").write_text(langcheck.report(findings, checked),
                                                       encoding="utf-8")
    assert checked > 0
    assert not findings, (f"{len(findings)} finding(s), see _build/language_check.txt:\n"
                          + "\n".join(map(str, findings[:20])))


def test_english_worksheet_cells_are_found(site: Path) -> None:
    import openpyxl

    folder = site / "es" / "downloads" / "peru" / "phase2"
    folder.mkdir(parents=True)
    book = openpyxl.Workbook()
    book.active.title = "Actores"
    book.active["A1"] = "Organización"
    book.active["A2"] = "Ministry of Labour"
    book.active["B2"] = "Nueva Ranqueguaal"
    book.save(folder / "stakeholders.xlsx")
    findings, _checked = langcheck.check_site(site)
    assert [str(f) for f in findings] == [
        "es/downloads/peru/phase2/stakeholders.xlsx: [english-words] <xlsx Actores!A2> "
        "Ministry of Labour (of)"]
