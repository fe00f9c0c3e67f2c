"""Data dictionary of the files ``clrisk run`` writes, from ``clrisk/output_columns.yaml``.

Why one YAML file in the package: the columns are defined by the analysis code, so their
documentation travels with it (``<file>: {<column>: {en, es, fr}}``; a key may be a shell
pattern such as ``dimension_*`` for columns named after profile entries). The book renders it
as the data-dictionary page, and a test runs ``clrisk run`` and asks :func:`undocumented` for
every column of every table it wrote, so a new column cannot ship without a description.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import yaml

from clrisk_book.toc import REPO_ROOT

COLUMNS_FILE = REPO_ROOT / "clrisk" / "output_columns.yaml"
TABLE_SUFFIXES = (".csv", ".gpkg")


def load(path: Path = COLUMNS_FILE) -> dict[str, dict[str, dict[str, str]]]:
    """``{file: {column: {lang: text}}}`` (empty mappings for files with no entry yet)."""
    with Path(path).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {str(f): {str(c): dict(d or {}) for c, d in (cols or {}).items()}
            for f, cols in data.items()}


def describe(columns: dict[str, dict[str, dict[str, str]]], file: str, column: str,
             lang: str = "en") -> str | None:
    """Description of ``column`` of ``file`` (exact key first, then patterns), or None."""
    entries = columns.get(file, {})
    entry = entries.get(column)
    if entry is None:
        entry = next((v for k, v in entries.items()
                      if any(ch in k for ch in "*?[") and fnmatch.fnmatchcase(column, k)), None)
    if entry is None:
        return None
    return entry.get(lang) or entry.get("en")


def table_columns(path: Path) -> list[str]:
    """Column names of a CSV (header row) or GeoPackage (attribute columns + geometry)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as fh:
            header = fh.readline().rstrip("\r\n")
        return [c.strip('"') for c in header.split(",")] if header else []
    import geopandas

    return [str(c) for c in geopandas.read_file(path).columns]


def undocumented(folder: Path, columns: dict[str, Any] | None = None,
                 languages: tuple[str, ...] = ("en", "es", "fr")) -> list[str]:
    """``file: column`` for every table column under ``folder`` without a description in
    every language (a table file with no entry at all is reported as ``file: *``)."""
    columns = load() if columns is None else columns
    missing = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix not in TABLE_SUFFIXES:
            continue
        if path.name not in columns:
            missing.append(f"{path.name}: *")
            continue
        for column in table_columns(path):
            for lang in languages:
                text = describe(columns, path.name, column, lang)
                if not text or (lang != "en" and text == describe(columns, path.name,
                                                                   column, "en")):
                    missing.append(f"{path.name}: {column} ({lang})")
    return missing


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(lang: str, columns: dict[str, Any] | None = None) -> str:
    """The data-dictionary page body in ``lang``: one table per output file."""
    from clrisk.i18n import gettext

    columns = load() if columns is None else columns
    parts = []
    for file, entries in columns.items():
        if not entries:
            continue
        parts.append(f"## `{file}`\n")
        parts.append(f"| {gettext('Column', lang)} | {gettext('Description', lang)} |")
        parts.append("|---|---|")
        for column in entries:
            text = describe(columns, file, column, lang) or ""
            parts.append(f"| `{column}` | {_cell(text)} |")
        parts.append("")
    return "\n".join(parts)
