"""Every label of the figures, maps, what-if panel and Phase I chapters is translated.

Why beyond the package-wide catalog test: chapters build sentences with ``_()`` inside notebook
code cells, and several labels reach ``_()`` through tables (column headers given to
``display_table``, sector and method names) rather than as literal calls; a missing entry
would silently show English on the Spanish or French site.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

from clrisk import i18n, maps, plots, tables

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["plots.py", "maps.py", "tables.py", "whatif.py", "reproduce.py"]
CHAPTERS = sorted((ROOT / "notebooks").glob("p1_*.md"))


def _strings(tree: ast.AST) -> set[str]:
    """Literal ``_("...")`` arguments and the header values of ``display_table`` calls."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("_", "gettext") and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            out.add(node.args[0].value)
        if name == "display_table" and len(node.args) > 1 and isinstance(node.args[1], ast.Dict):
            out |= {v.value for v in node.args[1].values
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return out


def used_msgids() -> set[str]:
    ids: set[str] = set()
    for m in MODULES:
        ids |= _strings(ast.parse((ROOT / "clrisk" / m).read_text(encoding="utf-8")))
    for ch in CHAPTERS:
        nb = jupytext.read(ch)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        ids |= _strings(ast.parse(code.replace("%matplotlib inline", "")))
    ids |= set(tables.COLUMN_LABELS.values()) | set(plots.SECTOR_NAMES.values())
    ids |= set(plots.METHOD_NAMES.values()) | set(plots.DIMENSION_NAMES.values())
    ids |= set(maps._LEGEND.values())
    for k in (2, 3, 4, 5):
        ids |= set(tables.level_names(k, "en"))
    return ids


def test_extraction_finds_labels():
    ids = used_msgids()
    assert "Odds ratio (log scale; 1 = no association)" in ids  # literal in plots.py
    assert "Characteristic" in ids  # a display_table header in a chapter
    assert len(CHAPTERS) == 10


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_label_is_translated(lang):
    cat = i18n.catalog(lang)
    missing = sorted(m for m in used_msgids() if m not in cat)
    assert not missing, f"{len(missing)} untranslated for {lang}: {missing[:20]}"


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_placeholders_survive_translation(lang):
    cat = i18n.catalog(lang)
    bad = [m for m in used_msgids() if m in cat
           and i18n.placeholders(m) != i18n.placeholders(cat[m])]
    assert not bad, bad[:10]
