"""Check the built site the way a reader meets it: links, images, languages, screenshots.

Why both a crawl and a real browser: the crawl proves every local ``href``/``src`` of every page
resolves to a non-empty file (cheap, exhaustive); headless Chromium, fed through a local HTTP
server, proves pages render and leaves screenshots in ``_build/screenshots/`` for a human look.
The site must work offline, so a script or stylesheet loaded from another host is an error —
except MathJax, which only loads on pages with formulas and degrades to the TeX source.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from clrisk.i18n import LANGUAGES, catalog

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
ALLOWED_EXTERNAL = ("mathjax",)  # graceful degradation: formulas shown as TeX


@dataclass
class Page:
    """What the crawl needs from one HTML page."""

    lang: str | None = None
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attr, url)
    labels: list[str] = field(default_factory=list)  # img alt, th, svg text, figcaption


class _PageParser(HTMLParser):
    _LABEL_TAGS = ("th", "text", "figcaption", "caption")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._label_depth = 0
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        if tag == "html":
            self.page.lang = values.get("lang")
        for attr in ("href", "src"):
            if attr in values and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.page.refs.append((tag, attr, values[attr]))
        if tag == "img" and values.get("alt"):
            self.page.labels.append(values["alt"])
        if tag in self._LABEL_TAGS:
            self._label_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._LABEL_TAGS and self._label_depth:
            self._label_depth -= 1
            if not self._label_depth:
                text = " ".join("".join(self._buffer).split())
                if text:
                    self.page.labels.append(text)
                self._buffer = []

    def handle_data(self, data: str) -> None:
        if self._label_depth:
            self._buffer.append(data)


def parse_page(path: Path) -> Page:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser.page


def _is_asset(rel: Path) -> bool:
    """Theme template fragments in ``_static`` and page sources are not pages."""
    return any(part in ("_static", "_sources", "_images") for part in rel.parts)


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc) or url.startswith("//")


def crawl(site: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) for every HTML page under ``site``: broken local links, missing or
    empty images, external scripts/stylesheets/images."""
    errors: list[str] = []
    warnings: list[str] = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site)
        if _is_asset(rel):
            continue
        page = parse_page(html)
        for tag, attr, url in page.refs:
            if _is_external(url):
                scheme = urlsplit(url).scheme
                if tag in ("script", "img", "iframe", "source") or (tag == "link"):
                    if scheme in ("data",):
                        continue
                    if tag == "a":
                        continue
                    message = f"{rel}: <{tag} {attr}> loads {url} from the network"
                    if tag == "link" and scheme in ("http", "https") and "stylesheet" not in \
                            _link_rel(html, url):
                        continue  # canonical/alternate links are metadata, not resources
                    if any(a in url.lower() for a in ALLOWED_EXTERNAL):
                        warnings.append(message + " (math falls back to TeX offline)")
                    else:
                        errors.append(message)
                continue
            path = unquote(urlsplit(url).path)
            if not path:
                continue  # "#anchor" or "?query" on the same page
            target = (site / path.lstrip("/")) if path.startswith("/") else html.parent / path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                errors.append(f"{rel}: broken link <{tag} {attr}=\"{url}\">")
            elif tag == "img" and target.stat().st_size == 0:
                errors.append(f"{rel}: empty image {url}")
    return errors, warnings


@functools.cache
def _link_rels(html: Path) -> dict[str, str]:
    text = html.read_text(encoding="utf-8", errors="replace")
    rels = {}
    for tag in re.findall(r"<link\b[^>]*>", text):
        href = re.search(r'href="([^"]*)"', tag)
        rel = re.search(r'rel="([^"]*)"', tag)
        if href:
            rels[href.group(1)] = rel.group(1) if rel else ""
    return rels


def _link_rel(html: Path, url: str) -> str:
    return _link_rels(html).get(url, "")


def site_languages(root: Path) -> list[str]:
    return [code for code in LANGUAGES if (root / code).is_dir()]


def country_sites(root: Path) -> dict[str, str]:
    """``{country: prefix}`` of the build (``sites.json``; ``{"": ""}`` when absent): the
    default country's sites are ``root/<lang>/``, the others ``root/<country>/<lang>/``."""
    manifest = root / "sites.json"
    if manifest.is_file():
        return dict(json.loads(manifest.read_text(encoding="utf-8"))["countries"])
    return {"": ""}


def check_html_lang(root: Path) -> list[str]:
    """Every page of every ``<prefix><lang>/`` site declares ``<html lang="<lang>">``."""
    errors = []
    for prefix in country_sites(root).values():
        base = root / prefix if prefix else root
        for lang in site_languages(base):
            for html in sorted((base / lang).rglob("*.html")):
                if _is_asset(html.relative_to(root)) or "downloads" in html.parts:
                    continue
                declared = parse_page(html).lang
                if declared != lang:
                    errors.append(f"{html.relative_to(root)}: <html lang={declared!r}>, "
                                  f"expected {lang!r}")
    return errors


def check_translated_labels(root: Path, lang: str = "es") -> tuple[list[str], str]:
    """Figure/table labels of chapter pages in ``lang`` are translated.

    Labels are what the reader sees in figures and tables that the page's HTML exposes: image
    alt text, table headers, SVG text and captions. A label equal to an English msgid whose
    translation differs is an error. Returns (errors, summary); the summary says how many
    translated labels were seen, so "nothing to check" is visible rather than a silent pass.
    """
    translations = {k: v for k, v in catalog(lang).items() if k.strip() != v.strip()}
    translated = set(translations.values())
    english = {k for k in translations if len(k) > 3 and k not in translated}
    errors = []
    seen = 0
    pages = sorted((root / lang / "notebooks").glob("*.html"))
    for html in pages:
        labels = parse_page(html).labels
        for svg in _page_svgs(html):
            labels += [t for t in re.findall(r"<text[^>]*>([^<]+)</text>", svg)]
        seen += sum(label in translated for label in labels)
        untranslated = sorted({label for label in labels if label in english})
        if untranslated:
            errors.append(f"{html.relative_to(root)}: English labels {untranslated[:5]}")
    return errors, f"{len(pages)} {lang} chapter page(s), {seen} translated label(s) seen"


def _page_svgs(html: Path) -> Iterator[str]:
    for _tag, _attr, url in parse_page(html).refs:
        path = unquote(urlsplit(url).path)
        if path.endswith(".svg") and not _is_external(url):
            target = html.parent / path
            if target.is_file():
                yield target.read_text(encoding="utf-8", errors="replace")


def pages_to_shoot(root: Path, lang: str, count: int = 3) -> list[str]:
    """The landing page, the first and the last chapter page of a site (relative URLs), in the
    reading order of ``_toc.yml`` when the pages are there, else alphabetical."""
    from clrisk_book.toc import chapter_names, load_toc

    site = root / lang
    chosen = ["book/intro.html"] if (site / "book" / "intro.html").is_file() else []
    built = sorted(p.relative_to(site).as_posix() for p in (site / "notebooks").glob("*.html"))
    order = [f"notebooks/{c}.html" for c in chapter_names(load_toc())]
    chapters = [c for c in order if c in built] or built
    for rel in (chapters[:1] + chapters[-1:] + chapters[1:2]):
        if rel not in chosen and len(chosen) < count:
            chosen.append(rel)
    return chosen


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``root`` on a free localhost port in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def chromium(binary: str, url: str, *extra: str, timeout: int = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="clrisk-chromium-") as profile:
        cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


LEVEL_MAP_PAGE = "notebooks/p1_06_levels_maps.html"
WIDE_TABLE_PAGES = ("notebooks/p2_05_intervention.html", "notebooks/p2_04_services.html")


def _shoot(binary: str, url: str, png: Path, size: str, errors: list[str]) -> None:
    chromium(binary, url, f"--screenshot={png}", f"--window-size={size}")
    if not png.is_file() or png.stat().st_size < 5000:
        errors.append(f"screenshot of {url} missing or blank ({png})")


def browse(root: Path, shots: Path, binary: str) -> list[str]:
    """Screenshot three pages per language, each country's level-map page and a wide table at
    phone width, and check the DOM Chromium rendered (lang, language and country switchers)."""
    errors: list[str] = []
    shots.mkdir(parents=True, exist_ok=True)
    sites = country_sites(root)
    server, base = serve(root)
    try:
        for lang in site_languages(root):
            for rel in pages_to_shoot(root, lang):
                png = shots / f"{lang}-{rel.replace('/', '-').removesuffix('.html')}.png"
                _shoot(binary, f"{base}/{lang}/{rel}", png, "1280,2000", errors)
            dom = chromium(binary, f"{base}/{lang}/{pages_to_shoot(root, lang)[0]}",
                           "--dump-dom").stdout
            if f'lang="{lang}"' not in dom.split(">", 2)[0] + dom[:400]:
                errors.append(f"{lang}: rendered DOM does not declare lang={lang!r}")
            if "clrisk-language-switcher" not in dom:
                errors.append(f"{lang}: rendered page has no language switcher")
            if len(sites) > 1 and "clrisk-country-switcher" not in dom:
                errors.append(f"{lang}: rendered page has no country switcher")
        for country, prefix in sites.items():
            for lang in site_languages(root / prefix if prefix else root):
                if (root / f"{prefix}{lang}" / LEVEL_MAP_PAGE).is_file():
                    png = shots / f"map-{country or 'site'}-{lang}.png"
                    _shoot(binary, f"{base}/{prefix}{lang}/{LEVEL_MAP_PAGE}", png,
                           "1280,2400", errors)
        for lang in site_languages(root)[:1]:
            wide = next((p for p in WIDE_TABLE_PAGES if (root / lang / p).is_file()), None)
            if wide:
                _shoot(binary, f"{base}/{lang}/{wide}",
                       shots / f"phone-{lang}-{Path(wide).stem}.png", "390,2400", errors)
    finally:
        server.shutdown()
    return errors


def run_checks(root: Path, shots: Path | None = None, use_browser: bool = True) -> int:
    """All checks; print a report and return the number of errors."""
    if not (root / "index.html").is_file():
        print(f"no site at {root}: run `make book` or `make site` first", file=sys.stderr)
        return 1
    errors, warnings = crawl(root)
    errors += check_html_lang(root)
    if (root / "es" / "notebooks").is_dir():
        label_errors, summary = check_translated_labels(root, "es")
        errors += label_errors
        print(f"labels: {summary}")
    if use_browser:
        binary = find_chromium()
        if binary is None:
            errors.append("chromium not found on PATH")
        else:
            errors += browse(root, shots or root.parent / "screenshots", binary)
    for w in warnings[:20]:
        print(f"warning: {w}")
    for e in errors:
        print(f"ERROR: {e}")
    pages = sum(1 for _ in root.rglob("*.html"))
    print(f"browser check: {pages} pages, {len(errors)} error(s), {len(warnings)} warning(s)")
    return len(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the built book site.")
    parser.add_argument("--site", type=Path, default=Path("_build/html"))
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    parser.add_argument("--no-browser", action="store_true", help="crawl only")
    args = parser.parse_args(argv)
    return 1 if run_checks(args.site, args.screenshots, not args.no_browser) else 0


if __name__ == "__main__":
    raise SystemExit(main())
