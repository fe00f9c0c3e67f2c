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
import copy
import html
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from clrisk.i18n import LANGUAGES, gettext
from clrisk_book import publish as publish_mod
from clrisk_book.execute import Job, execute_job
from clrisk_book.pages import prepare_file, write_if_changed
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


def _map(fn: Callable[..., Any], args: list[tuple], jobs: int, isolate: bool = False
         ) -> list[Any]:
    """``fn`` over ``args`` on ``jobs`` processes. ``isolate``: even with one job, every task
    runs in a fresh interpreter — Sphinx caches translation catalogs per process, so building
    es then fr in one process gave a French site in Spanish."""
    if len(args) <= 1 or (jobs <= 1 and not isolate):
        return [fn(*a) for a in args]
    with _pool(min(max(jobs, 1), len(args))) as pool:
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


def written_path(build: Path, lang: str, country: str) -> Path:
    """The kernels' temporary folder for one (language, country): what chapters write there
    (e.g. Phase II worksheets) is collected for the downloads page."""
    return build / "executed" / lang / country / "written"


def timings_path(build: Path, lang: str, country: str) -> Path:
    return build / "executed" / lang / country / "timings.json"


def record_timings(build: Path, jobs: list[Job], results: list[tuple[str, str | None, float]]
                   ) -> None:
    """Merge each run's execution time (seconds, or None when it failed) into
    ``timings.json`` of its (language, country), for the status page."""
    import json

    by_file: dict[Path, dict[str, float | None]] = {}
    for job, (_name, err, secs) in zip(jobs, results, strict=True):
        path = timings_path(build, job.lang, job.country)
        if path not in by_file:
            by_file[path] = (json.loads(path.read_text(encoding="utf-8"))
                             if path.is_file() else {})
        by_file[path][job.source.stem] = None if err else round(secs, 1)
    for path, data in by_file.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(data.items())), indent=1), encoding="utf-8")


def execute_chapters(repo: Path, build: Path, stems: list[str], langs: list[str],
                     country: str | list[str], data_dir: str | None, jobs: int) -> None:
    """Run every (country, language, chapter) with papermill in one pool; raise BuildError
    listing all failures."""
    countries = [country] if isinstance(country, str) else list(country)
    jobs_list = [Job(source=repo / "notebooks" / f"{s}.md",
                     output=executed_path(build, lang, c, s),
                     country=c, lang=lang, data_dir=data_dir,
                     tmpdir=written_path(build, lang, c))
                 for c in countries for lang in langs for s in stems]
    if not jobs_list:
        return
    start = time.perf_counter()
    results = _map(execute_job, [(j,) for j in jobs_list], jobs)
    record_timings(build, jobs_list, results)
    failures = [err for _name, err, _secs in results if err]
    print(f"executed {len(jobs_list)} chapter run(s) in {time.perf_counter() - start:.1f} s; "
          "slowest: " + ", ".join(f"{name} {secs:.0f} s" for name, _e, secs
                                  in sorted(results, key=lambda r: -r[2])[:3]))
    if failures:
        raise BuildError(f"{len(failures)} chapter run(s) failed:\n" + "\n".join(failures))


def site_prefix(countries: list[str], country: str) -> str:
    """``""`` for the first (default) country, whose sites are ``_build/html/<lang>/``;
    ``"<country>/"`` for the others (``_build/html/<country>/<lang>/``)."""
    return "" if country == countries[0] else f"{country}/"


def with_generated(toc: dict[str, Any], generated: list[str]) -> dict[str, Any]:
    """``toc`` with the generated pages appended to its last part (the reference part)."""
    toc = copy.deepcopy(toc)
    entries = [{"file": doc} for doc in generated]
    if toc.get("parts"):
        toc["parts"][-1].setdefault("chapters", []).extend(entries)
    else:
        toc.setdefault("chapters", []).extend(entries)
    return toc


def assemble(repo: Path, build: Path, lang: str, country: str, toc: dict[str, Any],
             docs: list[str], pages: dict[str, str] | None = None,
             scrub: list[str] | None = None, prefix: str = "") -> Path:
    """Source tree for one site: config, book/, the page-ready executed notebooks (see
    ``clrisk_book.pages``) and the generated pages (``{docname: markdown}``)."""
    files = book_files(repo)
    prepared = build / "prepared" / f"{prefix}{lang}"
    for doc in docs:
        if doc.startswith("notebooks/"):
            nb = executed_path(build, lang, country, doc.split("/", 1)[1])
            if not nb.is_file():
                raise BuildError(f"{nb} does not exist. Fix: run without --skip-execute.")
            for path in prepare_file(nb, prepared / f"{doc}.ipynb",
                                     scrub=[*(scrub or []), str(build.resolve()),
                                            str(repo.resolve()), str(Path.home())]):
                files[path.relative_to(prepared).as_posix()] = path
    for doc, text in (pages or {}).items():
        path = build / "generated" / f"{prefix}{lang}" / f"{doc}.md"
        write_if_changed(path, text.encode("utf-8"))
        files[f"{doc}.md"] = path
    tree = build / "src" / f"{prefix}{lang}"
    sync_tree(files, tree)
    write_toc(with_generated(toc, list(pages or {})), tree)
    return tree


def _site_languages(build: Path, langs: list[str], prefix: str = "") -> list[str]:
    base = build / "html" / prefix if prefix else build / "html"
    present = {p.name for p in base.glob("*") if (p / "book").is_dir()}
    return [code for code in LANGUAGES if code in present or code in langs]


def ui_overrides(lang: str) -> dict[str, Any]:
    """Sphinx settings whose words the reader sees: translated per site."""
    return {"language": lang, "html_title": gettext(TITLE, lang),
            "project": gettext(TITLE, lang), "author": gettext(AUTHOR, lang),
            "nb_code_prompt_show": gettext("Show code", lang),
            "nb_code_prompt_hide": gettext("Hide code", lang),
            "togglebutton_hint": gettext("Click to show", lang),
            "togglebutton_hint_hide": gettext("Click to hide", lang),
            "clrisk_country_label": gettext("Country", lang)}


def build_sites(build: Path, trees: dict[str, Path], jobs: int, root_doc: str,
                sites: list[tuple[str, str, str]] | None = None,
                site_countries: dict[str, str] | None = None) -> None:
    """Build every assembled tree (key ``<prefix><lang>``) into ``_build/html/<key>/``.

    ``sites`` lists the country sites ``[(key, label, prefix)]`` for the country switcher;
    ``site_countries`` maps each tree key to its country."""
    sites = sites or []
    site_countries = site_countries or {}
    args = []
    for key, tree in trees.items():
        prefix, lang = (key.rsplit("/", 1)[0] + "/", key.rsplit("/", 1)[1]) if "/" in key \
            else ("", key)
        built = [k.rsplit("/", 1)[-1] for k in trees
                 if (k.rsplit("/", 1)[0] + "/" if "/" in k else "") == prefix]
        languages = _site_languages(build, built, prefix)
        overrides = {**ui_overrides(lang), "clrisk_languages": languages,
                     "clrisk_country_sites": [[k, publish_mod.country_label(k, lang), p]
                                              for k, _label, p in sites],
                     "clrisk_country": site_countries.get(key, ""),
                     "clrisk_nb_output_folder": str(build / "jupyter_execute" / key)}
        log = build / "logs" / f"sphinx-{key.replace('/', '-')}.log"
        args.append((str(tree), str(build / "html" / key), str(build / "doctrees" / key),
                     "html", overrides, str(log)))
    start = time.perf_counter()
    codes = _map(run_sphinx, args, jobs, isolate=True)
    print(f"built {len(trees)} site(s) in {time.perf_counter() - start:.1f} s")
    for key, code, arg in zip(trees, codes, args, strict=True):
        lang = key.rsplit("/", 1)[-1]
        log = Path(arg[5]).read_text(encoding="utf-8")
        warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        if warnings:
            print(f"[{key}] {len(warnings)} Sphinx warning(s), see {arg[5]}:")
            print("\n".join(f"  {w}" for w in warnings[:20]))
        if code:
            raise BuildError(f"Sphinx build for '{key}' failed (status {code}); log: {arg[5]}\n"
                             + log[-3000:])
        write_redirect(build / "html" / key / "index.html", f"{root_doc}.html",
                       [(lang, f"{root_doc}.html")], lang=lang)
    languages = _site_languages(build, [k for k in trees if "/" not in k])
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
               build: Path | None = None, countries: list[str] | None = None,
               publish: bool = True) -> Path:
    """Execute and build; return the ``_build/html`` folder.

    ``country`` is the default site (``_build/html/<lang>/``); ``countries`` adds sites
    ``_build/html/<country>/<lang>/`` reachable from the country switcher. With ``publish``,
    each site gets the downloads, data-dictionary and status pages (``clrisk_book.publish``).
    """
    build = Path(build or repo / "_build")
    countries = list(dict.fromkeys([country, *(countries or [])]))
    toc, docs, stems = select_documents(repo, chapters, allow_missing)
    samples = repo / "data_samples"
    for c in countries:
        if stems and not skip_execute and data_dir is None and samples.is_dir() \
                and not (samples / c).is_dir():
            known = ", ".join(sorted(p.name for p in samples.iterdir() if p.is_dir()))
            raise BuildError(f"no sample data for country '{c}' in {samples}. "
                             f"Fix: choose one of {known}, or pass --data-dir.")
    if not skip_execute:
        execute_chapters(repo, build, stems, langs, countries, data_dir, jobs)
    sites = [(c, publish_mod.country_label(c, "en", repo), site_prefix(countries, c))
             for c in countries]
    if data_dir:  # the home page says "your data" (sphinxext._data_tags)
        os.environ["CLRISK_BOOK_DATA_DIR"] = str(Path(data_dir).resolve())
    trees: dict[str, Path] = {}
    site_countries: dict[str, str] = {}
    staged: dict[str, Path] = {}
    start = time.perf_counter()
    runs = run_all_outputs(build, countries, langs, data_dir, jobs) if publish else {}
    for c in countries:
        prefix = site_prefix(countries, c)
        for lang in langs:
            key = f"{prefix}{lang}"
            pages = generated_pages(repo, build, c, lang, countries, stems, runs.get((c, lang)),
                                    staged, key) if publish else {}
            scrub = [data_dir] if data_dir else []
            trees[key] = assemble(repo, build, lang, c, toc, docs, pages, scrub, prefix)
            site_countries[key] = c
    if publish:
        print(f"published outputs in {time.perf_counter() - start:.1f} s")
    # Labels of the country switcher in each site's language are set per site in sphinxext
    # from this (English) list; the profile names are used as they are spelled locally.
    build_sites(build, trees, jobs, str(toc["root"]), sites if len(sites) > 1 else [],
                site_countries)
    for key, staging in staged.items():
        publish_mod.install(staging, build / "html" / key)
    write_sites_manifest(build / "html", countries, langs)
    return build / "html"


def run_all_outputs(build: Path, countries: list[str], langs: list[str], data_dir: str | None,
                    jobs: int) -> dict[tuple[str, str], Path | None]:
    """``clrisk run`` for every (country, language), ``jobs`` at a time (each is its own
    process); a failed run is a warning and publishes no run files for that site."""
    from concurrent.futures import ThreadPoolExecutor

    def one(pair: tuple[str, str]) -> Path | None:
        try:
            return publish_mod.run_outputs(build, pair[0], pair[1], data_dir)
        except RuntimeError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            return None

    pairs = [(c, lang) for c in countries for lang in langs]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(pairs, pool.map(one, pairs), strict=True))


def generated_pages(repo: Path, build: Path, country: str, lang: str, countries: list[str],
                    stems: list[str], run_dir: Path | None, staged: dict[str, Path],
                    key: str) -> dict[str, str]:
    """Stage the downloads of one site and return its generated pages ``{docname: text}``."""
    staging = build / "downloads" / key
    files = publish_mod.collect(staging, country, run_dir, written_path(build, lang, country))
    staged[key] = staging
    timings = publish_mod.load_timings(build, lang, countries)
    return {"book/downloads": publish_mod.downloads_page(lang, country, files),
            "book/data_dictionary": publish_mod.data_dictionary_page(lang),
            "book/status": publish_mod.status_page(lang, stems, countries, timings)}


def write_sites_manifest(html_root: Path, countries: list[str], langs: list[str]) -> None:
    """``_build/html/sites.json``: the country sites and languages of this build, read by the
    browser and language checks."""
    import json

    data = {"default": countries[0],
            "countries": {c: site_prefix(countries, c) for c in countries},
            "languages": [code for code in LANGUAGES if code in langs
                          or (html_root / code / "book").is_dir()]}
    (html_root / "sites.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


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
    p.add_argument("--country", nargs="+", default=["peru"],
                   help="data_samples/<country> to execute with; several countries build one "
                        "site each (the first at _build/html/<lang>/), linked by a country "
                        "switcher")
    p.add_argument("--lang", nargs="+", default=["en"], choices=list(LANGUAGES))
    p.add_argument("--jobs", type=int, default=2, help="parallel processes")
    p.add_argument("--chapters", nargs="+", help="chapter stems (default: all in _toc.yml)")
    p.add_argument("--skip-execute", action="store_true",
                   help="reuse notebooks already executed in _build/executed/")
    p.add_argument("--data-dir", default=None, help="data_dir parameter passed to chapters")
    p.add_argument("--allow-missing", action="store_true",
                   help="leave TOC entries without a source file out instead of failing")
    p.add_argument("--build-dir", type=Path, default=None, help="default: <repo>/_build")
    p.add_argument("--no-publish", action="store_true",
                   help="leave out the downloads, data-dictionary and status pages")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        if args.action == "gettext" or args.update_po:
            pot = update_catalogs(build=args.build_dir)
            print(f"messages extracted to {pot}; catalogs updated in book/locales/")
            return 0
        out = build_book(args.country[0], list(dict.fromkeys(args.lang)), args.jobs,
                         args.chapters, args.skip_execute, args.data_dir, args.allow_missing,
                         build=args.build_dir, countries=args.country[1:],
                         publish=not args.no_publish)
    except BuildError as exc:
        print(f"{gettext('Error')}: {exc}", file=sys.stderr)
        return 1
    print(f"site ready: {out / 'index.html'} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
