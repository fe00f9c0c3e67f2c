"""One term per concept and correct typography, in every Spanish and French text (issue 15).

``book/terminology.yaml`` lists, per language, the term to use and the banned variants, plus
typography patterns (an apostrophe rendered as "”", "de Pérou", an opening "»"). Checked on:

* the catalogs (``book/locales``, ``clrisk/locales``) — always, no build needed;
* the built sites ``_build/html/{es,fr}`` — every page's visible text and alt texts. These
  tests need ``make site`` first; without a build they are skipped locally and FAIL when the
  ``CI`` environment variable is set (CI builds the sites before the page tests).

A test also proves the check bites: a banned variant put back into a page is caught.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TERMS = yaml.safe_load((ROOT / "book" / "terminology.yaml").read_text(encoding="utf-8"))
SITE = Path(os.environ.get("CLRISK_SITE_DIR") or ROOT / "_build" / "html")
LANGS = ("es", "fr")

# visible text only: code, maths, role/link targets, placeholders, URLs are not prose
_STRIP = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>\n]*>|\{[^{}\s]*\}"
                    r"|https?://\S+|doi:\S+", re.S)


def rules(lang: str, prose: bool = True) -> list[tuple[str, re.Pattern[str]]]:
    """(description, compiled pattern) for every banned term and typography rule of ``lang``
    (``prose`` False: without the rules marked ``prose_only``, for CLI/error catalogs)."""
    out = []
    for concept, spec in TERMS["terms"].items():
        for pat in (spec.get(lang) or {}).get("banned", []):
            out.append((f"{concept}: banned variant /{pat}/ (use "
                        f"{spec[lang]['term']!r})", re.compile(pat, re.I)))
    for item in TERMS.get("typography", {}).get(lang, []):
        if item.get("prose_only") and not prose:
            continue
        out.append((f"typography: {item['why']}", re.compile(item["pattern"])))
    return out


def problems(text: str, lang: str, prose: bool = True) -> list[str]:
    """Every rule of ``lang`` that ``text`` (visible text) breaks, with the offending snippet."""
    found = []
    for why, pattern in rules(lang, prose):
        for m in pattern.finditer(text):
            snippet = text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
            found.append(f"{why}: …{snippet}…")
    return found


def catalog_texts(lang: str) -> list[tuple[str, str]]:
    """(file, visible msgstr text) of every catalog of ``lang`` (book prose and package)."""
    texts = []
    for base in (ROOT / "book" / "locales", ROOT / "clrisk" / "locales"):
        for po in sorted((base / lang).rglob("*.po")):
            with po.open("rb") as fh:
                cat = read_po(fh, locale=lang)
            for msg in cat:
                if (msg.id and isinstance(msg.string, str) and msg.string
                        and "\\" not in msg.string):  # LaTeX blocks are maths, not prose
                    texts.append((str(po.relative_to(ROOT)), _STRIP.sub(" ", msg.string)))
    return texts


def _code_or_maths(cls: str | None) -> bool:
    """Class tokens of code and maths blocks (not ``mathjax_ignore``, which wraps whole pages)."""
    return bool(cls) and (cls in ("math", "cell_input", "highlight")
                          or cls.startswith("highlight-"))


def page_text(path: Path) -> str:
    """Visible text of a built page plus its images' alt texts (code and maths removed)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup
    for tag in main.find_all(["script", "style", "pre", "code", "math"]):
        tag.decompose()
    for tag in main.find_all(class_=_code_or_maths):
        tag.decompose()
    alts = " ".join(img.get("alt", "") for img in main.find_all("img")
                    if "clrisk-math" not in (img.get("class") or []))
    return main.get_text(" ") + " " + alts


def built_pages(lang: str) -> list[Path]:
    """HTML pages of the built ``lang`` site; skip locally, fail in CI, when it is missing."""
    folder = SITE / lang
    pages = sorted(p for p in folder.rglob("*.html")
                   if "_static" not in p.parts and p.name not in ("search.html", "genindex.html"))
    if not pages:
        message = f"no built {lang} site in {folder} (run `make site` first)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return pages


# --- the table itself ---------------------------------------------------------------------------
def test_terminology_table_is_complete() -> None:
    assert TERMS["languages"] == ["en", "es", "fr"]
    for concept, spec in TERMS["terms"].items():
        for lang in TERMS["languages"]:
            assert spec.get(lang, {}).get("term"), f"{concept} has no {lang} term"
    for lang in LANGS:
        assert rules(lang), f"no rule for {lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_chosen_term_is_never_banned(lang: str) -> None:
    """The term the table fixes must pass its own rules (else the table contradicts itself)."""
    for concept, spec in TERMS["terms"].items():
        term = spec[lang]["term"]
        assert not problems(term, lang), f"{concept}: {term!r} is banned by its own table"
        if "first_use" in spec[lang]:
            assert not problems(spec[lang]["first_use"], lang)


@pytest.mark.parametrize(("lang", "bad"), [
    ("es", "las odds son 1,8 veces más altas; la razón de momios es 1,8"),
    ("es", "los odds de trabajo infantil"),
    ("es", "el odds ratio de la pobreza"),
    ("es", "una proporción de 0.25 de los niños"),
    ("es", "una etiqueta de »alto» sólida"),
    ("fr", "le niveau de l”éducation"),
    ("fr", "ce qu’il apprend dans l” enquête auprès des ménages"),
    ("fr", "les données de Pérou sur cette page"),
    ("fr", "le travail des enfants en Pérou"),
    ("fr", "le rapport des chances de la pauvreté"),
])
def test_rules_catch_known_mistakes(lang: str, bad: str) -> None:
    """Each mistake the issue lists is caught (the check can fail)."""
    assert problems(bad, lang), f"not caught: {bad!r}"


@pytest.mark.parametrize(("lang", "good"), [
    ("es", "la razón de probabilidades (odds ratio) de la pobreza es 1,80"),
    ("es", "las odds de trabajo infantil son 1,80 veces más altas"),
    ("fr", "le rapport de cotes (odds ratio) de l’éducation ; les données du Pérou, au Pérou"),
])
def test_rules_accept_correct_text(lang: str, good: str) -> None:
    assert problems(good, lang) == []


# --- sources --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_catalogs_use_the_terminology(lang: str) -> None:
    bad = [f"{f}: {p}" for f, text in catalog_texts(lang)
           for p in problems(text, lang, prose=f.startswith("book/"))]
    assert not bad, f"{len(bad)} problem(s):\n" + "\n".join(bad[:30])


def test_catalog_typography_is_fixed_at_the_source() -> None:
    """scripts/typography.py has nothing left to change (apostrophes, guillemets, % spacing,
    decimal commas) — so Sphinx's smart quotes never have to guess."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import typography
    finally:
        sys.path.pop(0)
    pending = [(str(f.relative_to(ROOT)), old[:80]) for f in typography.catalogs()
               if "booksite" not in f.name for old, _new in typography.fix_file(f, write=False)]
    assert not pending, f"run `python scripts/typography.py`: {pending[:10]}"


# --- built pages ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_built_pages_use_the_terminology(lang: str) -> None:
    bad = []
    for page in built_pages(lang):
        bad += [f"{page.relative_to(SITE)}: {p}" for p in problems(page_text(page), lang)]
    assert not bad, f"{len(bad)} problem(s):\n" + "\n".join(bad[:30])


def test_page_check_catches_a_banned_variant_put_back(tmp_path: Path) -> None:
    """A page where a banned variant is put back fails the same check."""
    page = tmp_path / "p.html"
    page.write_text("<html><body><main><p>Los odds de trabajo infantil.</p>"
                    "<pre>los odds en código no cuentan</pre></main></body></html>",
                    encoding="utf-8")
    found = problems(page_text(page), "es")
    assert found and all("Los odds de trabajo" in f for f in found)
