"""Translation catalogs are complete, current and keep their placeholders.

Why a failing test and not a warning: a Spanish or French reader must never meet an English
paragraph or label silently. Three kinds of catalog are checked:

* prose catalogs ``book/locales/{es,fr}/LC_MESSAGES/**.po`` (Sphinx gettext, one per page);
* package catalogs ``clrisk/locales/{es,fr}/LC_MESSAGES/*.po`` (labels, tables, CLI);
* freshness: every paragraph of the current sources (extracted with Sphinx's gettext builder,
  exactly what the site build looks up) has a msgid in its page catalog, and every literal
  ``_("...")`` in the package has a msgid in the merged package catalog.

Fix a failure with ``make gettext`` then translate (book/locales/README.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from clrisk.i18n import LOCALE_DIR, catalog_problems, placeholders

ROOT = Path(__file__).resolve().parents[1]
BOOK_LOCALES = ROOT / "book" / "locales"
TRANSLATED = ("es", "fr")


def _po_files(folder: Path) -> list[Path]:
    return sorted(p for lang in TRANSLATED for p in (folder / lang / "LC_MESSAGES").rglob("*.po"))


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


PROSE = _po_files(BOOK_LOCALES)
PACKAGE = _po_files(LOCALE_DIR)


@pytest.mark.parametrize("po", PROSE + PACKAGE, ids=_id)
def test_catalog_is_fully_translated(po: Path) -> None:
    problems = catalog_problems(po)
    assert not problems, f"{_id(po)}: {len(problems)} problem(s):\n" + "\n".join(
        f"  [{why}] {msgid[:100]!r}" for msgid, why in problems[:30])


def test_placeholder_check_catches_a_dropped_placeholder(tmp_path: Path) -> None:
    po = tmp_path / "x.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "{n} territories in %s"\nmsgstr "territorios en %s"\n\n'
                  'msgid "Mean"\nmsgstr ""\n\n#, fuzzy\nmsgid "Level"\nmsgstr "Nivel"\n',
                  encoding="utf-8")
    problems = dict(catalog_problems(po))
    assert problems["Mean"] == "untranslated"
    assert problems["Level"] == "fuzzy"
    assert problems["{n} territories in %s"].startswith("placeholders differ")
    assert placeholders("{n} en %s") == placeholders("%s: {n}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """msgids per page domain (e.g. ``notebooks/p1_03_fit``) from the current sources."""
    from clrisk_book.build import extract_messages

    pot_dir = extract_messages(ROOT, tmp_path_factory.mktemp("gettext"))
    domains: dict[str, set[str]] = {}
    for pot in sorted(pot_dir.rglob("*.pot")):
        with pot.open("rb") as fh:
            ids = {str(m.id) for m in read_po(fh) if m.id}
        domains[pot.relative_to(pot_dir).with_suffix("").as_posix()] = ids
    return domains


def test_prose_catalogs_are_current(extracted: dict[str, set[str]]) -> None:
    assert "book/intro" in extracted and extracted["book/intro"], "extraction found no intro"
    stale = []
    for lang in TRANSLATED:
        for domain, ids in extracted.items():
            po = BOOK_LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"
            have: set[str] = set()
            if po.is_file():
                with po.open("rb") as fh:
                    have = {str(m.id) for m in read_po(fh) if m.id}
            missing = sorted(ids - have)
            if missing:
                stale.append(f"{lang}/{domain}.po lacks {len(missing)} msgid(s), e.g. "
                             f"{missing[0][:80]!r}")
    assert not stale, ("prose catalogs are stale; run `make gettext` "
                       "and translate:\n  " + "\n  ".join(stale))


def _literal_msgids() -> dict[str, str]:
    """Literal first arguments of ``_(...)`` / ``gettext(...)`` calls in the package."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "clrisk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "gettext") and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize("lang", TRANSLATED)
def test_package_strings_have_catalog_entries(lang: str) -> None:
    ids: set[str] = set()
    for po in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            ids |= {str(m.id) for m in read_po(fh) if m.id}
    literals = _literal_msgids()
    assert "Error" in literals, "the scan of _() calls found nothing — is the AST walk broken?"
    missing = sorted((msg, where) for msg, where in literals.items() if msg not in ids)
    assert not missing, (f"{len(missing)} _() string(s) without a {lang} catalog entry:\n"
                         + "\n".join(f"  {where}: {msg!r}" for msg, where in missing[:30]))
