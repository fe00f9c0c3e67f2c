"""Read ``_toc.yml``: the single list of pages, and of chapters to execute.

Why the TOC drives everything: a chapter exists for the book when it is in the table of
contents, so execution, tests and builds never drift from what readers see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]  # book/_tooling/clrisk_book/toc.py
NOTEBOOK_DIR = "notebooks"


def load_toc(root: Path = REPO_ROOT) -> dict[str, Any]:
    with (Path(root) / "_toc.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _walk(entries: list[dict[str, Any]]) -> list[str]:
    files: list[str] = []
    for entry in entries or []:
        if "file" in entry:
            files.append(str(entry["file"]))
        for key in ("sections", "chapters", "parts"):
            files.extend(_walk(entry.get(key, [])))
    return files


def toc_files(toc: dict[str, Any]) -> list[str]:
    """Every document name in reading order (root first), without file extension."""
    return [str(toc["root"])] + _walk(toc.get("parts", []) + toc.get("chapters", [])
                                      + toc.get("sections", []))


def chapter_names(toc: dict[str, Any]) -> list[str]:
    """Stems of the executable chapters (entries under ``notebooks/``), in reading order."""
    return [f.split("/", 1)[1] for f in toc_files(toc) if f.startswith(f"{NOTEBOOK_DIR}/")]


def source_path(root: Path, docname: str) -> Path | None:
    """The source file of a TOC entry (``.md`` or ``.ipynb``), or None when it does not exist."""
    for suffix in (".md", ".ipynb"):
        path = Path(root) / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def prune_toc(toc: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """A copy of ``toc`` with only the documents in ``keep`` (root always kept); empty parts go."""

    def prune(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for entry in entries or []:
            entry = dict(entry)
            for key in ("sections", "chapters"):
                if key in entry:
                    entry[key] = prune(entry[key])
                    if not entry[key]:
                        del entry[key]
            if "file" in entry and entry["file"] not in keep:
                if "sections" not in entry:
                    continue
            if "file" not in entry and "chapters" not in entry and "sections" not in entry:
                continue
            out.append(entry)
        return out

    new = dict(toc)
    for key in ("parts", "chapters", "sections"):
        if key in new:
            new[key] = prune(new[key])
    return new
