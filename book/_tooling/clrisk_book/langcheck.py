"""Page-level language check of the built Spanish and French sites (issue 15 item 3).

Why on the built HTML: the catalog check (every msgid translated) cannot see a heading that
never reached the catalog, a label a chapter prints in English, a figure's alt text, or a
typographic quote that the source got wrong. This check reads what a reader reads — the
article of every page — and compares it with the English page of the same site:

``same-as-english``
    a sentence of an es/fr page identical to a sentence of its English page. Names, numbers
    and code are not sentences: a sentence counts only when, after dropping code, numbers and
    file or column names, it has an English function word or (outside table cells, where
    programme and institution names live) at least five words.
``english-words``
    an English function word ("the", "of", "with"…, none of which is a Spanish or French
    word) in a heading, table cell, caption, figure caption or alt text of an es/fr page.
``quotes``
    typographic quotes: a closing quote used as an apostrophe (``l”éducation``), a straight
    double quote in prose, a guillemet turned the wrong way, and in French « » without a
    non-breaking space inside.
``english-words`` also covers the text cells of the es/fr worksheets (xlsx) on the downloads
pages.

``alt-text``
    an image whose alt text is its file name instead of words saying what it shows (every
    language).

Code (``code``, ``pre``, code cells), formulas, the SHA-256 column and link texts of external
references are never checked; the references page is exempt from ``same-as-english`` (titles of
publications keep their language). ``python scripts/language_check.py`` runs it and writes the
list to ``_build/language_check.txt``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ENGLISH_FUNCTION_WORDS = frozenset("""
the and of to is are was were be been being with for from by this that these those which
each every not their its it if when where how what who whom whose into onto would should
could will can than there they we you our your between about after before because without
within also only does did shows show per_se
""".split()) - {"per_se"}
TRANSLATED = ("es", "fr")
SKIP_TAGS = ("code", "pre", "kbd", "samp", "script", "style", "svg", "math", "tt")
SKIP_CLASSES = ("highlight", "cell_input", "clrisk-sha", "headerlink", "math", "pre",
                "clrisk-math-block", "toggle-button", "admonition-title")
LABEL_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "th", "td", "caption", "figcaption",
              "summary", "legend")
PROSE_TAGS = ("p", "li", "dt", "dd", *LABEL_TAGS)
SAME_EXEMPT_PAGES = ("book/references.html",)
NBSP = ("\u00a0", "\u202f")
CODE_TOKEN = re.compile(r"\S*[_/\\=<>@#{}\[\]]\S*|\S+\.(?:csv|xlsx|gpkg|json|md|png|svg|"
                        r"html|yaml|parquet|txt)\b|\S*\d\S*")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
IMAGE_FILE = re.compile(r"(?:^|/)[\w.-]+\.(?:png|svg|jpe?g|gif)$", re.I)


@dataclass(frozen=True)
class Finding:
    """One problem on one page."""

    page: str
    kind: str
    text: str
    where: str = ""

    def __str__(self) -> str:
        where = f" <{self.where}>" if self.where else ""
        return f"{self.page}: [{self.kind}]{where} {self.text}"


@dataclass
class Segment:
    tag: str
    text: str


def _skipped(node: object) -> bool:
    from bs4 import Tag

    for parent in [node, *getattr(node, "parents", [])]:
        if not isinstance(parent, Tag):
            continue
        if parent.name in SKIP_TAGS:
            return True
        classes = parent.get("class") or []
        if any(c in SKIP_CLASSES or c.startswith("highlight") for c in classes):
            return True
        if parent.name == "a" and str(parent.get("href", "")).startswith(("http:", "https:")):
            return True
    return False


def _squash(text: str) -> str:
    """Collapse ASCII whitespace only: the no-break spaces French typography needs stay."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).strip()


def page_segments(html: str) -> tuple[list[Segment], list[str]]:
    """(text segments of the article by innermost block tag, alt texts of its images)."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup.find("main") or soup.body or soup
    segments: list[Segment] = []
    for block in article.find_all(PROSE_TAGS):
        if _skipped(block) or block.find(PROSE_TAGS):
            continue  # innermost blocks only, so no text is counted twice
        parts = [str(s) for s in block.descendants
                 if isinstance(s, NavigableString) and not _skipped(s)
                 and type(s).__name__ == "NavigableString"]
        text = _squash("".join(parts))
        if text:
            segments.append(Segment(block.name, text))
    alts = [str(img.get("alt", "")) for img in article.find_all("img")
            if "clrisk-math" not in (img.get("class") or [])]
    return segments, alts


def words(text: str) -> list[str]:
    """Alphabetic words of ``text`` with code tokens, numbers and file names removed."""
    return WORD.findall(CODE_TOKEN.sub(" ", text))


def english_words(text: str) -> list[str]:
    """English function words in ``text`` (all-capital tokens are acronyms, not words)."""
    return [w for w in words(text) if w.lower() in ENGLISH_FUNCTION_WORDS and not w.isupper()]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def is_sentence(text: str, tag: str = "p") -> bool:
    """Worth comparing with English: words beyond names, numbers and code. A table cell
    needs an English function word: five words there are usually a name (a programme,
    an institution) that is the same in every language."""
    if english_words(text):
        return True
    return tag != "td" and len(words(text)) >= 5


def quote_problems(text: str, lang: str) -> list[str]:
    """Typographic quote errors in visible prose of ``lang``."""
    problems = []
    for match in re.finditer(r"[^\W\d_][”“\"][^\W\d_]", text):
        problems.append(f"quote used as an apostrophe: “{match.group(0)}”")
    if '"' in text:
        problems.append("straight double quote (\") in prose: use « » or “ ”")
    for match in re.finditer(r"(?:^|\s)»(?=\w)|(?<=\w)«(?:\s|$)", text):
        problems.append(f"guillemet turned the wrong way: “{match.group(0).strip()}”")
    if lang == "fr":
        # an elided article before code or a number: "l”`institution`" (code is not in text)
        for match in re.finditer(r"(?<![^\W\d_])(?:[cdjlmnst]|qu)[”“\"](?=\s|$|\d|\()", text,
                                 flags=re.I):
            problems.append(f"quote used as an apostrophe: “{match.group(0)}”")
        for match in re.finditer(r"«(?=[^\u00a0\u202f])|(?<=[^\u00a0\u202f])»", text):
            snippet = text[max(0, match.start() - 12):match.end() + 12]
            problems.append(f"« » without a non-breaking space inside: “{snippet}”")
    return problems


def check_page(rel: str, html: str, english_html: str | None, lang: str) -> list[Finding]:
    """Findings of one es/fr page against its English counterpart (None: no counterpart)."""
    page = f"{lang}/{rel}"
    segments, alts = page_segments(html)
    found: list[Finding] = []
    english_sentences: set[str] = set()
    if english_html is not None and not rel.endswith(SAME_EXEMPT_PAGES):
        for seg in page_segments(english_html)[0]:
            english_sentences.update(sentences(seg.text))
    seen: set[tuple[str, str]] = set()

    def add(kind: str, text: str, where: str = "") -> None:
        if (kind, text) not in seen:
            seen.add((kind, text))
            found.append(Finding(page, kind, text, where))

    for seg in segments:
        for sentence in sentences(seg.text):
            if sentence in english_sentences and is_sentence(sentence, seg.tag):
                add("same-as-english", sentence, seg.tag)
        if seg.tag in LABEL_TAGS:
            english = english_words(seg.text)
            if english:
                add("english-words", f"{seg.text} ({', '.join(sorted(set(english)))})",
                    seg.tag)
        for problem in quote_problems(seg.text, lang):
            add("quotes", problem, seg.tag)
    for alt in alts:
        english = english_words(alt)
        if english:
            add("english-words", f"{alt} ({', '.join(sorted(set(english)))})", "img alt")
    return found


def check_alt_texts(rel: str, html: str, lang: str) -> list[Finding]:
    """Images whose alt text is empty or a file name."""
    _segments, alts = page_segments(html)
    return [Finding(f"{lang}/{rel}", "alt-text", f"alt text is a file name: {alt}", "img alt")
            for alt in sorted(set(alts)) if not alt.strip() or IMAGE_FILE.search(alt.strip())]


def check_workbook(path: Path, page: str) -> list[Finding]:
    """English function words in the text cells of a published es/fr worksheet (xlsx)."""
    import openpyxl

    found: list[Finding] = []
    seen: set[str] = set()
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = cell.value
                    if not isinstance(value, str) or value in seen:
                        continue
                    english = english_words(value)
                    if english:
                        seen.add(value)
                        where = f"{sheet.title}!{getattr(cell, 'coordinate', '')}"
                        found.append(Finding(page, "english-words",
                                             f"{value} ({', '.join(sorted(set(english)))})",
                                             f"xlsx {where}"))
    finally:
        book.close()
    return found


def _pages(site: Path) -> list[str]:
    skip = ("_static", "_sources", "_images", "downloads")
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not any(part in skip for part in p.relative_to(site).parts)
                  and p.name not in ("genindex.html", "search.html", "index.html"))


def site_prefixes(root: Path) -> list[str]:
    """Country site prefixes of a build (``sites.json``), default ``[""]``."""
    manifest = root / "sites.json"
    if manifest.is_file():
        return list(json.loads(manifest.read_text(encoding="utf-8"))["countries"].values())
    return [""]


def check_site(root: Path, languages: tuple[str, ...] = TRANSLATED) -> tuple[list[Finding], int]:
    """(findings, pages checked) over every country site of ``root`` (``_build/html``)."""
    findings: list[Finding] = []
    checked = 0
    for prefix in site_prefixes(root):
        english_site = root / prefix / "en"
        for lang in ("en", *languages):
            site = root / prefix / lang
            if not site.is_dir():
                continue
            for rel in _pages(site):
                html = (site / rel).read_text(encoding="utf-8", errors="replace")
                findings += [Finding(f"{prefix}{f.page}", f.kind, f.text, f.where)
                             for f in check_alt_texts(rel, html, lang)]
                if lang == "en":
                    continue
                english = english_site / rel
                english_html = (english.read_text(encoding="utf-8", errors="replace")
                                if english.is_file() else None)
                findings += [Finding(f"{prefix}{f.page}", f.kind, f.text, f.where)
                             for f in check_page(rel, html, english_html, lang)]
                checked += 1
            if lang != "en":
                for xlsx in sorted((site / "downloads").rglob("*.xlsx")):
                    rel = xlsx.relative_to(site).as_posix()
                    findings += check_workbook(xlsx, f"{prefix}{lang}/{rel}")
    return findings, checked


def report(findings: list[Finding], checked: int) -> str:
    kinds: dict[str, int] = {}
    for f in findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"
    return (f"language check: {checked} es/fr page(s), {len(findings)} finding(s) ({summary})\n"
            + "".join(f"{f}\n" for f in findings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Language check of the built es/fr sites.")
    parser.add_argument("--site", type=Path, default=Path("_build/html"))
    parser.add_argument("--output", type=Path, default=Path("_build/language_check.txt"))
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"no site at {args.site}: run `make site` first", file=sys.stderr)
        return 2
    findings, checked = check_site(args.site)
    text = report(findings, checked)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text.splitlines()[0] + f"; list in {args.output}")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
