"""The site checker: unit tests on a hand-made site, plus the real check of ``_build/html``.

The real check needs a built site and Chromium; without them it skips and says why (the
coordinator runs ``make site`` then ``python scripts/browser_check.py`` explicitly).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clrisk_book import browser

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def page(lang: str, body: str) -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head></head><body>{body}</body></html>'


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "html"
    for lang in ("en", "fr"):
        (root / lang / "notebooks").mkdir(parents=True)
        (root / lang / "_images").mkdir()
        (root / lang / "_images" / "fig.png").write_bytes(PNG)
        (root / lang / "book").mkdir()
        (root / lang / "book" / "intro.html").write_text(page(lang, (
            f'<a href="../../{"fr" if lang == "en" else "en"}/book/intro.html">x</a>'
            '<a href="../notebooks/ch.html#top">ch</a><a href="#here">h</a>'
            '<a href="https://www.ilo.org">ILO</a>')), encoding="utf-8")
        (root / lang / "notebooks" / "ch.html").write_text(page(lang, (
            '<img src="../_images/fig.png" alt="fig"><table><tr><th>Erreur</th></tr></table>'
        )), encoding="utf-8")
    (root / "index.html").write_text(page("en", '<a href="en/book/intro.html">en</a>'),
                                     encoding="utf-8")
    return root


def test_clean_site_passes(site: Path) -> None:
    errors, warnings = browser.crawl(site)
    assert errors == [] and warnings == []
    assert browser.check_html_lang(site) == []
    assert browser.pages_to_shoot(site, "fr") == ["book/intro.html", "notebooks/ch.html"]


def test_broken_links_empty_images_and_cdn_scripts_fail(site: Path) -> None:
    chapter = site / "fr" / "notebooks" / "ch.html"
    chapter.write_text(page("fr", (
        '<a href="../book/missing.html">m</a><img src="../_images/empty.png">'
        '<script src="https://cdn.example.org/require.js"></script>'
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link rel="canonical" href="https://example.org/fr/ch.html">')), encoding="utf-8")
    (site / "fr" / "_images" / "empty.png").write_bytes(b"")
    errors, warnings = browser.crawl(site)
    text = "\n".join(errors)
    assert "broken link" in text and "missing.html" in text
    assert "empty image ../_images/empty.png" in text
    assert "cdn.example.org/require.js" in text
    assert len(errors) == 3
    assert len(warnings) == 1 and "mathjax" in warnings[0]


def test_wrong_html_lang_is_reported(site: Path) -> None:
    (site / "fr" / "book" / "intro.html").write_text(page("en", ""), encoding="utf-8")
    assert browser.check_html_lang(site) == [
        "fr/book/intro.html: <html lang='en'>, expected 'fr'"]


def test_english_label_on_translated_page_is_reported(site: Path) -> None:
    errors, summary = browser.check_translated_labels(site, "fr")
    assert errors == [] and "1 translated label(s)" in summary
    (site / "fr" / "notebooks" / "ch.html").write_text(
        page("fr", "<table><tr><th>Error</th></tr></table>"), encoding="utf-8")
    errors, _summary = browser.check_translated_labels(site, "fr")
    assert errors and "Error" in errors[0]


SITE = ROOT / "_build" / "html"


@pytest.mark.slow
@pytest.mark.skipif(not (SITE / "index.html").is_file(),
                    reason="no built site in _build/html (run `make site` first)")
@pytest.mark.skipif(browser.find_chromium() is None, reason="chromium is not installed")
def test_built_site_in_chromium(tmp_path: Path) -> None:
    assert browser.run_checks(SITE, tmp_path / "screenshots") == 0
    assert list((tmp_path / "screenshots").glob("*.png"))
