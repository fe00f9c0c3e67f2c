"""Assemble a Sphinx source tree and run the Jupyter Book 1 (Sphinx) build on it.

Why an assembled tree: the site must render the *executed* notebooks of one country and one
language, while the repository holds the unexecuted markdown sources. Each language gets its own
tree under ``_build/src/<lang>/`` holding ``_config.yml``, ``_toc.yml``, ``book/`` and the
executed ``notebooks/<stem>.ipynb``. Files are copied only when their content changed (mtime
kept), so Sphinx rebuilds incrementally. Builds run in a fresh process each, because Sphinx and
docutils keep global state.
"""

from __future__ import annotations

import contextlib
import filecmp
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from clrisk_book.toc import REPO_ROOT

TOOLING = "_tooling"  # book/_tooling: the build code itself


def sync_file(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` unless identical, so unchanged pages are not rebuilt."""
    if dest.is_file() and filecmp.cmp(src, dest, shallow=False):
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)


def sync_tree(files: dict[str, Path], dest: Path) -> None:
    """Make ``dest`` contain exactly ``files`` (relative name -> source path)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, src in files.items():
        sync_file(src, dest / rel)
    wanted = {Path(rel) for rel in files}
    for path in sorted(dest.rglob("*"), reverse=True):
        rel = path.relative_to(dest)
        if path.is_file() and rel not in wanted and rel.parts[0] != "_toc.yml":
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def book_files(repo: Path = REPO_ROOT, with_locales: bool = True) -> dict[str, Path]:
    """Configuration and ``book/`` folder files, keyed by their path in the tree.

    ``book/_tooling`` (this code) is not a page source and stays out of the tree.
    """
    files = {"_config.yml": repo / "_config.yml"}
    for path in sorted((repo / "book").rglob("*")):
        rel = path.relative_to(repo)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".mo":
            continue
        if rel.parts[1] == TOOLING:
            continue
        if not with_locales and rel.parts[1] == "locales":
            continue
        files[rel.as_posix()] = path
    return files


def write_toc(toc: dict[str, Any], dest: Path) -> None:
    text = yaml.safe_dump(toc, allow_unicode=True, sort_keys=False)
    target = dest / "_toc.yml"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def run_sphinx(tree: str, outdir: str, doctreedir: str, builder: str,
               overrides: dict[str, Any], logfile: str) -> int:
    """Run one Jupyter Book/Sphinx build; warnings go to ``logfile``. Returns the status code.

    Called in a fresh worker process (see ``clrisk_book.build``).
    """
    from jupyter_book.sphinx import build_sphinx
    from sphinx.util.console import nocolor

    nocolor()  # plain text in the log files
    Path(logfile).parent.mkdir(parents=True, exist_ok=True)
    conf = {"latex_individualpages": False, **overrides}
    with open(logfile, "w", encoding="utf-8") as log, contextlib.redirect_stderr(log):
        result = build_sphinx(tree, outdir, doctreedir=doctreedir, noconfig=True,
                              path_config=str(Path(tree) / "_config.yml"), builder=builder,
                              confoverrides=conf, quiet=True, keep_going=True,
                              # re-read only what changed, but write every page and copy the
                              # static files: templates, CSS and extensions change too
                              force_all=True)
        sys.stderr.flush()
    if isinstance(result, Exception):
        with open(logfile, "a", encoding="utf-8") as log:
            log.write(f"\nERROR: {type(result).__name__}: {result}\n")
        return 1
    return int(result or 0)
