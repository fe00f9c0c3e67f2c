"""Build the book: execute every chapter with papermill, then build one site per language.

Usage::

    python -m clrisk_book --country peru --lang en [es fr] --jobs 2 [--chapters ...]
                               [--skip-execute] [--data-dir DIR] [--allow-missing]
    python -m clrisk_book gettext      # extract messages, update book/locales/{es,fr}

Why one command: ``make book`` / ``make site`` must work on a fresh clone. Steps:

1. Chapters are the ``notebooks/`` entries of ``_toc.yml``. Each is executed per language
   (``lang`` parameter: figure and table labels come from ``clrisk.i18n``) into
   ``_build/executed/<lang>/<country>/notebooks/<stem>.ipynb`` by a process pool of ``--jobs``
   workers; the working directory of a run is that output folder.
2. A source tree per language is assembled in ``_build/src/<lang>/`` and built with Jupyter
   Book 1 into ``_build/html/<lang>/`` (Sphinx ``language`` set, so the theme speaks the
   language, and prose translated from ``book/locales/<lang>/LC_MESSAGES/`` — myst-nb passes
   notebook markdown cells through Sphinx's gettext machinery like any page).
3. ``_build/html/index.html`` redirects to the English site and links all built languages.
"""

from __future__ import annotations

import argparse
import html
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from clrisk.i18n import LANGUAGES, gettext
from clrisk_book.execute import Job, execute_job
from clrisk_book.sphinxbuild import book_files, run_sphinx, sync_tree, write_toc
from clrisk_book.toc import (
    REPO_ROOT,
    chapter_names,
    load_toc,
    prune_toc,
    source_path,
    toc_files,
)

TITLE = "CLRISK — Child Labour Risk Identification Model"
AUTHOR = "ILO–ECLAC · Regional Initiative Latin America and the Caribbean Free of Child Labour"
PO_LANGUAGES = ("es", "fr")


class BuildError(RuntimeError):
    """The book could not be built; the message says which step and why."""


def _pool(jobs: int) -> ProcessPoolExecutor:
    # Fresh interpreter per task: Sphinx/docutils and kernels keep global state.
    return ProcessPoolExecutor(max_workers=max(1, jobs),
                               mp_context=multiprocessing.get_context("spawn"),
                               max_tasks_per_child=1)


def _map(fn: Callable[..., Any], args: list[tuple], jobs: int) -> list[Any]:
    if jobs <= 1 or len(args) <= 1:
        return [fn(*a) for a in args]
    with _pool(min(jobs, len(args))) as pool:
        return list(pool.map(fn, *zip(*args, strict=True)))


def select_documents(repo: Path, chapters: Iterable[str] | None,
                     allow_missing: bool) -> tuple[dict[str, Any], list[str], list[str]]:
    """(pruned toc, document names to build, chapter stems to execute).

    A TOC entry without a source file is an error (naming the files) unless ``allow_missing``.
    """
    toc = load_toc(repo)
    all_chapters = chapter_names(toc)
    wanted = list(chapters) if chapters else all_chapters
    unknown = [c for c in wanted if c not in all_chapters]
    if unknown:
        raise BuildError(f"unknown chapter(s) {', '.join(unknown)}; _toc.yml lists: "
                         f"{', '.join(all_chapters)}")
    docs = [d for d in toc_files(toc)
            if not d.startswith("notebooks/") or d.split("/", 1)[1] in wanted]
    missing = [d for d in docs if source_path(repo, d) is None]
    if missing and not allow_missing:
        raise BuildError("no source file for " + ", ".join(f"{d}.md" for d in missing)
                         + ". Fix: write them, build a subset with --chapters, or pass "
                         "--allow-missing to leave them out of this build.")
    if missing:
        print(f"warning: leaving out missing pages: {', '.join(missing)}", file=sys.stderr)
    docs = [d for d in docs if d not in missing]
    stems = [d.split("/", 1)[1] for d in docs if d.startswith("notebooks/")]
    return prune_toc(toc, set(docs)), docs, stems


def executed_path(build: Path, lang: str, country: str, stem: str) -> Path:
    return build / "executed" / lang / country / "notebooks" / f"{stem}.ipynb"


def execute_chapters(repo: Path, build: Path, stems: list[str], langs: list[str], country: str,
                     data_dir: str | None, jobs: int) -> None:
    """Run every (language, chapter) with papermill; raise BuildError listing all failures."""
    jobs_list = [Job(source=repo / "notebooks" / f"{s}.md",
                     output=executed_path(build, lang, country, s),
                     country=country, lang=lang, data_dir=data_dir)
                 for lang in langs for s in stems]
    if not jobs_list:
        return
    start = time.perf_counter()
    results = _map(execute_job, [(j,) for j in jobs_list], jobs)
    failures = [err for _name, err, _secs in results if err]
    print(f"executed {len(jobs_list)} chapter run(s) in {time.perf_counter() - start:.1f} s; "
          "slowest: " + ", ".join(f"{name} {secs:.0f} s" for name, _e, secs
                                  in sorted(results, key=lambda r: -r[2])[:3]))
    if failures:
        raise BuildError(f"{len(failures)} chapter run(s) failed:\n" + "\n".join(failures))


def assemble(repo: Path, build: Path, lang: str, country: str, toc: dict[str, Any],
             docs: list[str]) -> Path:
    """Source tree for one language: config, book/ and the executed notebooks."""
    files = book_files(repo)
    for doc in docs:
        if doc.startswith("notebooks/"):
            nb = executed_path(build, lang, country, doc.split("/", 1)[1])
            if not nb.is_file():
                raise BuildError(f"{nb} does not exist. Fix: run without --skip-execute.")
            files[f"{doc}.ipynb"] = nb
    tree = build / "src" / lang
    sync_tree(files, tree)
    write_toc(toc, tree)
    return tree


def _site_languages(build: Path, langs: list[str]) -> list[str]:
    present = {p.name for p in (build / "html").glob("*") if (p / "book").is_dir()}
    return [code for code in LANGUAGES if code in present or code in langs]


def build_sites(build: Path, trees: dict[str, Path], jobs: int, root_doc: str) -> None:
    languages = _site_languages(build, list(trees))
    args = []
    for lang, tree in trees.items():
        overrides = {"language": lang, "clrisk_languages": languages,
                     "html_title": gettext(TITLE, lang), "project": gettext(TITLE, lang),
                     "author": gettext(AUTHOR, lang),
                     "clrisk_nb_output_folder": str(build / "jupyter_execute" / lang)}
        args.append((str(tree), str(build / "html" / lang), str(build / "doctrees" / lang),
                     "html", overrides, str(build / "logs" / f"sphinx-{lang}.log")))
    start = time.perf_counter()
    codes = _map(run_sphinx, args, jobs)
    print(f"built {len(trees)} site(s) in {time.perf_counter() - start:.1f} s")
    for (lang, _tree), code, arg in zip(trees.items(), codes, args, strict=True):
        log = Path(arg[5]).read_text(encoding="utf-8")
        warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        if warnings:
            print(f"[{lang}] {len(warnings)} Sphinx warning(s), see {arg[5]}:")
            print("\n".join(f"  {w}" for w in warnings[:20]))
        if code:
            raise BuildError(f"Sphinx build for '{lang}' failed (status {code}); log: {arg[5]}\n"
                             + log[-3000:])
        write_redirect(build / "html" / lang / "index.html", f"{root_doc}.html",
                       [(lang, f"{root_doc}.html")], lang=lang)
    write_redirect(build / "html" / "index.html", None,
                   [(code, f"{code}/{root_doc}.html") for code in languages])


def write_redirect(path: Path, target: str | None, links: list[tuple[str, str]],
                   lang: str = "en") -> None:
    """A landing page that redirects (to ``target`` or the first link) with visible links."""
    from clrisk_book.switcher import LABELS

    target = target or next((url for code, url in links if code == "en"), links[0][1])
    items = "\n".join(f'<li><a href="{html.escape(url)}" hreflang="{code}" lang="{code}">'
                      f"{LABELS.get(code, code)}</a></li>" for code, url in links)
    text = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>CLRISK</title>\n"
            f'<meta http-equiv="refresh" content="0; url={html.escape(target)}">\n'
            f'<link rel="canonical" href="{html.escape(target)}">\n</head>\n<body>\n'
            f"<h1>{html.escape(gettext(TITLE, lang))}</h1>\n<ul>\n{items}\n</ul>\n"
            f"</body>\n</html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build_book(country: str, langs: list[str], jobs: int = 2, chapters: list[str] | None = None,
               skip_execute: bool = False, data_dir: str | None = None,
               allow_missing: bool = False, repo: Path = REPO_ROOT,
               build: Path | None = None) -> Path:
    """Execute and build; return the ``_build/html`` folder."""
    build = Path(build or repo / "_build")
    toc, docs, stems = select_documents(repo, chapters, allow_missing)
    samples = repo / "data_samples"
    if stems and not skip_execute and data_dir is None and samples.is_dir() \
            and not (samples / country).is_dir():
        known = ", ".join(sorted(p.name for p in samples.iterdir() if p.is_dir()))
        raise BuildError(f"no sample data for country '{country}' in {samples}. "
                         f"Fix: choose one of {known}, or pass --data-dir.")
    if not skip_execute:
        execute_chapters(repo, build, stems, langs, country, data_dir, jobs)
    trees = {lang: assemble(repo, build, lang, country, toc, docs) for lang in langs}
    build_sites(build, trees, jobs, str(toc["root"]))
    return build / "html"


def gettext_tree(repo: Path, dest: Path) -> Path:
    """Source tree for message extraction: the unexecuted chapter sources (myst-nb reads
    jupytext MyST markdown as notebooks, so msgids are the markdown cells' paragraphs)."""
    toc, docs, _stems = select_documents(repo, None, allow_missing=True)
    files = book_files(repo, with_locales=False)
    for doc in docs:
        src = source_path(repo, doc)
        if doc.startswith("notebooks/") and src is not None:
            files[f"{doc}{src.suffix}"] = src
    sync_tree(files, dest)
    write_toc(toc, dest)
    return dest


def extract_messages(repo: Path, workdir: Path) -> Path:
    """Run the Sphinx gettext builder on the current sources; return the .pot folder."""
    tree = gettext_tree(repo, workdir / "src")
    pot = workdir / "gettext"
    code = run_sphinx(str(tree), str(pot), str(workdir / "doctrees"), "gettext",
                      {"language": "en", "project": "CLRISK", "version": "0.1"},
                      str(workdir / "gettext.log"))
    if code:
        log = (workdir / "gettext.log").read_text(encoding="utf-8")
        raise BuildError(f"message extraction failed:\n{log[-3000:]}")
    return pot


def update_catalogs(repo: Path = REPO_ROOT, build: Path | None = None,
                    languages: Iterable[str] = PO_LANGUAGES) -> Path:
    """Extract messages and merge them into ``book/locales/<lang>/LC_MESSAGES/*.po``."""
    from sphinx_intl import basic

    build = Path(build or repo / "_build")
    pot = extract_messages(repo, build / "i18n")
    basic.update(str(repo / "book" / "locales"), str(pot), tuple(languages),
                 ignore_obsolete=True)
    return pot


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m clrisk_book",
                                description=gettext(TITLE) + ": book build")
    p.add_argument("action", nargs="?", choices=["build", "gettext"], default="build",
                   help="build the sites (default) or update the translation catalogs")
    p.add_argument("--update-po", action="store_true", help="same as the 'gettext' action")
    p.add_argument("--country", default="peru", help="data_samples/<country> to execute with")
    p.add_argument("--lang", nargs="+", default=["en"], choices=list(LANGUAGES))
    p.add_argument("--jobs", type=int, default=2, help="parallel processes")
    p.add_argument("--chapters", nargs="+", help="chapter stems (default: all in _toc.yml)")
    p.add_argument("--skip-execute", action="store_true",
                   help="reuse notebooks already executed in _build/executed/")
    p.add_argument("--data-dir", default=None, help="data_dir parameter passed to chapters")
    p.add_argument("--allow-missing", action="store_true",
                   help="leave TOC entries without a source file out instead of failing")
    p.add_argument("--build-dir", type=Path, default=None, help="default: <repo>/_build")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        if args.action == "gettext" or args.update_po:
            pot = update_catalogs(build=args.build_dir)
            print(f"messages extracted to {pot}; catalogs updated in book/locales/")
            return 0
        out = build_book(args.country, list(dict.fromkeys(args.lang)), args.jobs,
                         args.chapters, args.skip_execute, args.data_dir, args.allow_missing,
                         build=args.build_dir)
    except BuildError as exc:
        print(f"{gettext('Error')}: {exc}", file=sys.stderr)
        return 1
    print(f"site ready: {out / 'index.html'} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
