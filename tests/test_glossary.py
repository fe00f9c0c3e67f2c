"""The glossary explains what the manual now does, in every language (issues 12 and 13).

Issue 13 item 7 asks the glossary to say in plain words what a marker is, what "children
represented" means and why factor weights add up; issue 12 asks every page to keep the two kinds
of uncertainty apart and never to call the coefficients-only band a confidence interval of a
territory's rate. Checked twice:

* on the sources, always: ``book/glossary.md`` has every required entry and both catalogs
  translate its name and definition (so an es/fr reader never meets an English entry);
* on the built pages ``_build/html/{en,es,fr}/book/glossary.html`` (or the folder named by
  ``CLRISK_SITE_DIR``): each entry is there under its translated name, with the anchor that
  ``{term}`` links use, its definition says the right things, and every ``{term}`` link
  resolves. Without a built language these are skipped locally and FAIL when ``CI`` is set
  (CI builds the sites before the page tests), like tests/test_content_pages.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from test_content_pages import built as built_page

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("CLRISK_SITE_DIR") or ROOT / "_build" / "html")
SOURCE = ROOT / "book" / "glossary.md"
LANGS = ("en", "es", "fr")

# Entries the issues require: English term -> its name on the es and fr pages.
REQUIRED = {
    "Marker": ("Marcador", "Marqueur"),
    "Modifiable factor": ("Factor modificable", "Facteur modifiable"),
    "Risk factor": ("Factor de riesgo", "Facteur de risque"),
    "Protective factor": ("Factor de protección", "Facteur de protection"),
    "Protective reference": ("Valor de referencia protector",
                             "Valeur de référence protectrice"),
    "Children represented": ("Niñas y niños representados", "Enfants représentés"),
    "Joint effect": ("Efecto conjunto", "Effet conjoint"),
    "Joint reduction": ("Reducción conjunta", "Réduction conjointe"),
    "Additive decomposition": ("Descomposición aditiva", "Décomposition additive"),
    "Shapley value": ("Valor de Shapley", "Valeur de Shapley"),
    "Small-area estimate": ("Estimación para áreas pequeñas", "Estimation sur petits domaines"),
    "Official synthetic projection": ("Proyección sintética oficial",
                                      "Projection synthétique officielle"),
    "Territory effect": ("Efecto territorial", "Effet territorial"),
    "RMSE": ("RMSE", "RMSE"),
    "Coefficient of variation (CV)": ("Coeficiente de variación (CV)",
                                      "Coefficient de variation (CV)"),
    "P(rank 1)": ("P(primer lugar)", "P(premier rang)"),
    "P(high risk)": ("P(riesgo alto)", "P(risque élevé)"),
    "Factor weight": ("Peso del factor", "Poids du facteur"),
    "Confidence interval": ("Intervalo de confianza", "Intervalle de confiance"),
}

# What an entry's definition must say (all phrases) and must no longer say, per language.
MUST = {
    "Confidence interval": {
        "en": ["sampling error of the coefficients", "territory’s own deviation",
               "first kind only", "never a confidence interval of the territory’s rate"],
        "es": ["error de muestreo de los coeficientes", "desviación propia del territorio",
               "solo el primer tipo", "nunca es un intervalo de confianza de la tasa"],
        "fr": ["erreur d’échantillonnage des coefficients", "écart propre au territoire",
               "que le premier type", "jamais un intervalle de confiance du taux"],
    },
    "Factor weight": {
        "en": ["add up", "risk side", "association, not the impact"],
        "es": ["suman", "lado del riesgo", "asociación, no el impacto"],
        "fr": ["s’additionnent", "côté du risque", "association, non l’impact"],
    },
    "Marker": {
        "en": ["who", "never ranked", "monitoring target"],
        "es": ["quién", "nunca se clasifican", "meta de seguimiento"],
        "fr": ["qui", "jamais classés", "cible de suivi"],
    },
    "Additive decomposition": {
        "en": ["add up exactly to the joint effect", "not additive"],
        "es": ["suman exactamente el efecto conjunto", "no aditivo"],
        "fr": ["s’additionnent alors exactement", "non additive"],
    },
    "P(high risk)": {
        "en": ["both kinds of uncertainty", "Redrawing only the coefficients"],
        "es": ["los dos tipos de incertidumbre", "Sortear solo los coeficientes"],
        "fr": ["deux types d’incertitude", "Ne tirer que les coefficients"],
    },
}
MUST_NOT = {
    # the one-at-a-time fall and the coefficients-only draws the old entries described
    "Factor weight": {"en": ["if every child had the factor at its reference value"],
                      "es": ["si todas las niñas y niños tuvieran el factor"],
                      "fr": ["si tous les enfants avaient le facteur"]},
    "P(high risk)": {"en": ["redrawing the coefficients 200 times"],
                     "es": ["sorteando de nuevo los coeficientes 200 veces"],
                     "fr": ["en tirant de nouveau les coefficients 200 fois"]},
}
# Entries with illustrative numbers: each says they are hypothetical.
HYPOTHETICAL = {"en": "hypothetical", "es": "hipotético", "fr": "hypothétique"}
WITH_NUMBERS = ("Children represented", "Coefficient of variation (CV)", "Joint effect",
                "P(rank 1)", "Odds ratio", "Marginal effect")


def term_id(term: str) -> str:
    """The HTML id Sphinx gives a glossary term: ``term-`` + the English term with every run of
    characters other than letters, digits, '.' and '_' made one '-', none at the end
    (``sphinx.util.nodes.make_id``). The id stays English on the es/fr pages."""
    return "term-" + re.sub(r"[^A-Za-z0-9._]+", "-", term).strip("-")


# --- sources (no build needed) ----------------------------------------------------------------
def source_entries() -> dict[str, str]:
    """English term -> its definition text, read from the glossary directive of the page."""
    text = SOURCE.read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    entries: dict[str, str] = {}
    current = None
    for line in body.splitlines():
        if line and not line.startswith(" "):
            current = line.strip()
            entries[current] = ""
        elif current is not None:
            entries[current] += " " + line.strip()
    return {k: " ".join(v.split()) for k, v in entries.items()}


def catalog(lang: str) -> dict[str, str]:
    path = ROOT / "book" / "locales" / lang / "LC_MESSAGES" / "book" / "glossary.po"
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh, locale=lang) if m.id}


def test_required_entries_are_in_the_source() -> None:
    entries = source_entries()
    missing = [t for t in REQUIRED if t not in entries]
    assert not missing, f"book/glossary.md lacks: {missing}"
    empty = [t for t in REQUIRED if len(entries[t]) < 15]  # "See …" entries are short
    assert not empty, f"entries without a real definition: {empty}"


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_required_entries_are_translated(lang: str) -> None:
    """Term names match the names the page test expects; definitions are translated."""
    cat = catalog(lang)
    index = 0 if lang == "es" else 1
    wrong = {t: cat.get(t) for t, names in REQUIRED.items() if cat.get(t) != names[index]}
    assert not wrong, f"{lang} term names differ from the expected ones: {wrong}"
    untranslated = [t for t in REQUIRED
                    if not any(msgid.startswith(first_sentence(t)) and s and s != msgid
                               for msgid, s in cat.items())]
    assert not untranslated, f"{lang}: definitions not translated: {untranslated}"


def first_sentence(term: str) -> str:
    """The first 30 characters of the (last paragraph of the) entry's English definition,
    as the catalog's msgid starts; a multi-paragraph entry is found by its first paragraph."""
    text = SOURCE.read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1]
    m = re.search(rf"^{re.escape(term)}\n((?:  .*\n)+)", body, re.M)
    assert m, term
    return " ".join(m.group(1).split())[:30]


# --- built pages ------------------------------------------------------------------------------
def built(lang: str) -> Path:
    """The built glossary page; skip locally / fail in CI when the site is missing."""
    return built_page(lang, "book/glossary.html")


def page_entries(lang: str):  # noqa: ANN201 — (soup main element, {id: (name, definition)})
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(built(lang).read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup
    entries = {}
    for dt in main.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        for a in dt.find_all("a", class_="headerlink"):
            a.decompose()
        entries[dt.get("id")] = (" ".join(dt.get_text(" ").split()),
                                 " ".join(dd.get_text(" ").split()) if dd else "")
    return main, entries


@pytest.mark.parametrize("lang", LANGS)
def test_built_glossary_has_every_required_entry(lang: str) -> None:
    _main, entries = page_entries(lang)
    problems = []
    for term, names in REQUIRED.items():
        want = term if lang == "en" else names[0 if lang == "es" else 1]
        got = entries.get(term_id(term))
        if got is None:
            problems.append(f"no entry #{term_id(term)} ({term})")
        elif got[0] != want:
            problems.append(f"#{term_id(term)} is named {got[0]!r}, expected {want!r}")
        elif len(got[1]) < 15:
            problems.append(f"{term}: empty definition")
    assert not problems, f"{lang}: " + "; ".join(problems)


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_built_definitions_are_not_english(lang: str) -> None:
    _main, english = page_entries("en")
    _main, entries = page_entries(lang)
    same = [term for term in REQUIRED
            if entries[term_id(term)][1] == english[term_id(term)][1]]
    assert not same, f"{lang}: definitions still in English: {same}"


@pytest.mark.parametrize("lang", LANGS)
def test_built_definitions_say_what_the_manual_does(lang: str) -> None:
    _main, entries = page_entries(lang)
    problems = []
    for term, phrases in MUST.items():
        text = entries[term_id(term)][1]
        problems += [f"{term} lacks {p!r}" for p in phrases[lang] if p not in text]
    for term, phrases in MUST_NOT.items():
        text = entries[term_id(term)][1]
        problems += [f"{term} still says {p!r}" for p in phrases[lang] if p in text]
    for term in WITH_NUMBERS:
        text = entries[term_id(term)][1]
        if re.search(r"\d", text) and HYPOTHETICAL[lang] not in text:
            problems.append(f"{term}: numbers not labelled {HYPOTHETICAL[lang]!r}")
    assert not problems, f"{lang}: " + "; ".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_built_term_links_resolve(lang: str) -> None:
    """Every {term} role became a link to an entry of the page (none left as plain text), and
    the uncertainty entries link to the territory effect they explain."""
    main, entries = page_entries(lang)
    refs = main.select("span.std-term")
    assert len(refs) >= 60, f"{lang}: only {len(refs)} term links"
    unlinked = [r.get_text() for r in refs if r.find_parent("a") is None]
    assert not unlinked, f"{lang}: unresolved term references {unlinked}"
    targets = {r.find_parent("a")["href"].split("#", 1)[-1] for r in refs}
    dangling = sorted(t for t in targets if t not in entries)
    assert not dangling, f"{lang}: links to missing entries {dangling}"
    for term in ("Confidence interval", "P(high risk)", "Small-area estimate"):
        dt = main.find(id=term_id(term))
        links = {a["href"].split("#", 1)[-1] for a in dt.find_next_sibling("dd").find_all("a")}
        assert term_id("Territory effect") in links, f"{lang}: {term} does not link it"


def test_term_id_rule_matches_a_built_page(tmp_path: Path) -> None:
    """The id rule the page tests rely on is Sphinx's (checked on the English page when built,
    on the rule itself otherwise)."""
    assert term_id("Coefficient of variation (CV)") == "term-Coefficient-of-variation-CV"
    assert term_id("P(high risk)") == "term-P-high-risk"
    path = SITE / "en" / "book" / "glossary.html"
    if path.is_file():
        assert f'id="{term_id("P(rank 1)")}"' in path.read_text(encoding="utf-8")
