"""Book machinery: TOC discovery, tree assembly, papermill execution and the site build.

The end-to-end test builds a two-chapter stand-in book in a temporary folder (never in
``notebooks/``), in English and Spanish, and checks what a reader would see: translated
prose from the notebook's markdown cells, Spanish labels produced by ``lang="es"``,
``<html lang>``, the language switcher and the landing redirect.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clrisk_book import build as bookbuild
from clrisk_book import execute as ex
from clrisk_book.sphinxbuild import sync_tree
from clrisk_book.switcher import language_links
from clrisk_book.toc import chapter_names, load_toc, prune_toc, toc_files

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Stand-in {name}

Stand-in prose of {name}.

The logistic function $\\Lambda(x) = 1/(1+e^{{-x}})$ and a display:

$$\\begin{{aligned}} y &= \\bigl(a + b\\bigr) \\\\ z &\\sim \\mathcal B(p) \\end{{aligned}}$$

```{{code-cell}} ipython3
:tags: [parameters]
country = "peru"
lang = "en"
data_dir = None
```

```{{code-cell}} ipython3
import matplotlib.pyplot as plt
import pandas as pd
from clrisk.i18n import _, set_language
set_language(lang)
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, 1])
plt.show()
pd.DataFrame({{_("Child Labour Risk Identification Model (CLRISK)"): [country]}})
```

```{{code-cell}} ipython3
from clrisk.display import show_figure
fig, ax = plt.subplots(figsize=(2, 2))
ax.bar([0, 1], [1, 2])
fig.suptitle(_("Synthetic data") + " " + country)
show_figure(fig, alt="Two bars, the second twice as tall")
```
"""

TOC = """format: jb-book
root: book/intro
parts:
  - caption: Phase I — identifying risk
    chapters:
      - file: notebooks/{a}
      - file: notebooks/{b}
"""

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Stand-in {name}"
msgstr "Sustituto {name}"

msgid "Stand-in prose of {name}."
msgstr "Prosa sustituta de {name}."
"""


def make_repo(root: Path, names: tuple[str, str] = ("alpha", "beta"), body: str = CHAPTER) -> Path:
    """A minimal repository: real config and book/ pages, two stand-in chapters."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("*.mo"))
    (root / "_toc.yml").write_text(TOC.format(a=names[0], b=names[1]), encoding="utf-8")
    (root / "notebooks").mkdir()
    for name in names:
        (root / "notebooks" / f"{name}.md").write_text(body.format(name=name), encoding="utf-8")
        po = root / "book" / "locales" / "es" / "LC_MESSAGES" / "notebooks" / f"{name}.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_text(PO.format(name=name), encoding="utf-8")
    return root


def test_toc_lists_chapters_in_reading_order() -> None:
    toc = load_toc(ROOT)
    files = toc_files(toc)
    assert files[0] == "book/intro" and "book/references" in files
    chapters = chapter_names(toc)
    assert chapters[0] == "p1_01_purpose" and "own_data" in chapters
    assert chapters.index("p1_10_reproduce") < chapters.index("p2_01_selection")
    captions = [part["caption"] for part in toc["parts"]]
    assert captions[:3] == ["Phase I — identifying risk", "Phase II — local response",
                            "Reference"]


def test_prune_toc_drops_empty_parts() -> None:
    toc = load_toc(ROOT)
    pruned = prune_toc(toc, {"book/intro", "notebooks/p2_01_selection"})
    assert toc_files(pruned) == ["book/intro", "notebooks/p2_01_selection"]
    assert [p["caption"] for p in pruned["parts"]] == ["Phase II — local response"]


def test_missing_sources_fail_loudly_unless_allowed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "notebooks" / "beta.md").unlink()
    with pytest.raises(bookbuild.BuildError, match=r"notebooks/beta\.md"):
        bookbuild.select_documents(repo, None, allow_missing=False)
    _toc, docs, stems = bookbuild.select_documents(repo, None, allow_missing=True)
    assert stems == ["alpha"] and "notebooks/beta" not in docs
    with pytest.raises(bookbuild.BuildError, match="unknown chapter"):
        bookbuild.select_documents(repo, ["gamma"], allow_missing=False)


def test_language_links_point_at_the_same_page() -> None:
    links = language_links("notebooks/p1_03_fit", "es", ["en", "es", "fr"])
    assert links[0] == ("en", "English", "../../en/notebooks/p1_03_fit.html", False)
    assert links[1][3] is True
    assert language_links("search", "fr", ["fr"])[0][2] == "../fr/search.html"


def test_sync_tree_copies_changes_and_removes_strays(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("one", encoding="utf-8")
    dest = tmp_path / "tree"
    (dest / "old").mkdir(parents=True)
    (dest / "old" / "stray.txt").write_text("x", encoding="utf-8")
    sync_tree({"sub/a.txt": src}, dest)
    assert (dest / "sub" / "a.txt").read_text(encoding="utf-8") == "one"
    assert not (dest / "old").exists()


def test_failing_chapter_names_chapter_and_error(tmp_path: Path) -> None:
    source = tmp_path / "broken.md"
    source.write_text(CHAPTER.format(name="broken").replace(
        "set_language(lang)", "raise ValueError('no data for ' + country)"), encoding="utf-8")
    job = ex.Job(source=source, output=tmp_path / "out" / "broken.ipynb", country="chile",
                 lang="en")
    with pytest.raises(ex.ChapterError, match=r"chapter broken \(chile, en\).*"
                                              r"ValueError: no data for chile"):
        ex.execute(job)
    assert not job.output.exists()
    assert job.output.with_suffix(".failed.ipynb").exists()


def test_chapter_without_parameters_cell_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "noparams.md"
    source.write_text(CHAPTER.format(name="x").replace(":tags: [parameters]\n", ""),
                      encoding="utf-8")
    with pytest.raises(ex.ChapterError, match="parameters"):
        ex.execute(ex.Job(source=source, output=tmp_path / "o.ipynb", country="peru",
                          lang="en"))


@pytest.mark.slow
def test_end_to_end_two_languages(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    build = tmp_path / "build"
    html = bookbuild.build_book("chile", ["en", "es"], jobs=2, repo=repo, build=build,
                                countries=["jamaica"])

    executed = json.loads((build / "executed" / "es" / "chile" / "notebooks" / "alpha.ipynb")
                          .read_text(encoding="utf-8"))
    outputs = [o for c in executed["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert "widgets" not in executed["metadata"]

    en = (html / "en" / "notebooks" / "alpha.html").read_text(encoding="utf-8")
    es = (html / "es" / "notebooks" / "alpha.html").read_text(encoding="utf-8")
    assert '<html lang="en"' in en and '<html lang="es"' in es
    assert "Stand-in prose of alpha." in en
    assert "Prosa sustituta de alpha." in es and "Stand-in prose" not in es
    assert "Modelo de Identificación del Riesgo de Trabajo Infantil (CLRISK)" in es  # label
    assert "chile" in es
    assert 'href="../../en/notebooks/alpha.html"' in es  # switcher
    assert 'href="../../es/notebooks/alpha.html"' in en
    assert "<img" in es
    intro_es = (html / "es" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "Qué hace el modelo" in intro_es  # prose catalog of book/intro
    assert "Fase I — identificación del riesgo" in es  # _toc.yml part caption in the sidebar
    root = (html / "index.html").read_text(encoding="utf-8")
    assert 'url=en/book/intro.html' in root and 'href="es/book/intro.html"' in root
    assert not (html / "jupyter_execute").exists()
    # Formulas are SVG files made at build time: no MathJax from a CDN, nothing left as TeX.
    assert en.count('class="clrisk-math"') == 3 and "mathjax@" not in en
    assert 'class="math"' not in en.replace('class="math notranslate', "")
    assert len(list((html / "en" / "_images" / "math").glob("*.svg"))) == 3

    # show_figure: a real figure with alt text and the title as a translated caption.
    assert 'alt="Two bars, the second twice as tall"' in es
    assert "<figcaption>" in es and "Datos sintéticos chile" in es.split("<figcaption>")[1]
    # Pages (issue 15 item 4): no parameters cell, code behind a translated toggle.
    assert "injected-parameters" not in en and 'country = "chile"' not in en.replace(
        "&quot;", '"')
    assert "tag_hide-input" in es and "Mostrar el código" in es
    # Published files (item 5) and the generated pages (items 5, 7).
    sums = (html / "es" / "downloads" / "chile" / "SHA256SUMS").read_text(encoding="utf-8")
    assert "run/territories.csv" in sums
    downloads = (html / "es" / "book" / "downloads.html").read_text(encoding="utf-8")
    assert "../downloads/chile/run/territories.csv" in downloads
    status = (html / "en" / "book" / "status.html").read_text(encoding="utf-8")
    assert "alpha" in status and "pandas" in status
    dictionary = (html / "es" / "book" / "data_dictionary.html").read_text(encoding="utf-8")
    assert "p_top" in dictionary and "Diccionario de datos" in dictionary

    # Country sites (issue 16 item 5): the second country under html/jamaica/<lang>/, both
    # linked from the switcher of every page, in the page's language.
    jm = (html / "jamaica" / "es" / "notebooks" / "alpha.html").read_text(encoding="utf-8")
    assert "clrisk-country-switcher" in es and "clrisk-country-switcher" in jm
    assert 'href="../../jamaica/es/notebooks/alpha.html"' in es
    assert 'href="../../../es/notebooks/alpha.html"' in jm and "jamaica" in jm
    assert 'href="../../en/notebooks/alpha.html"' in jm  # language switcher stays in Jamaica
    assert "Perú" not in es and "País" in es
    sites = json.loads((html / "sites.json").read_text(encoding="utf-8"))
    assert sites["countries"] == {"chile": "", "jamaica": "jamaica/"}
    assert (html / "jamaica" / "es" / "downloads" / "jamaica" / "SHA256SUMS").is_file()

    # Second run reuses the executed notebooks.
    (build / "html").rename(build / "html-old")
    bookbuild.build_book("chile", ["es"], jobs=1, repo=repo, build=build, skip_execute=True)
    assert (build / "html" / "es" / "notebooks" / "beta.html").is_file()


def test_math_rewrites_and_renders() -> None:
    from clrisk_book import mathsvg

    lines = mathsvg.tex_lines(r"\begin{aligned} a &= \bigl(b\bigr) \\ c &\sim \mathcal B(p)"
                              r"\end{aligned}")
    assert lines == [r"a = (b)", r"c \sim \mathcal{B}(p)"]
    svg, width, height, depth = mathsvg.render_svg(r"\frac{p}{1-p} = e^{\beta}")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert width > 0 and height > mathsvg.FONT_SIZE and depth > 0  # fraction: below baseline
    with pytest.raises(ValueError):
        mathsvg.render_svg(r"\unknowncommand{x}")


def test_kernel_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("PYDEVD_DISABLE_FILE_VALIDATION", raising=False)
    import os

    with ex.kernel_environment():
        assert os.environ["MPLBACKEND"].endswith("backend_inline")
    assert os.environ["MPLBACKEND"] == "Agg"
    assert "PYDEVD_DISABLE_FILE_VALIDATION" not in os.environ


def test_unknown_country_is_refused_before_any_execution(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "data_samples" / "peru").mkdir(parents=True)
    with pytest.raises(bookbuild.BuildError, match="choose one of peru"):
        bookbuild.build_book("atlantis", ["en"], repo=repo, build=tmp_path / "build")
    assert not (tmp_path / "build" / "executed").exists()


def test_analysis_package_does_not_carry_the_book_machinery() -> None:
    """Issue 15 item 8: importing every ``clrisk`` module pulls no Sphinx, papermill, jupytext,
    Jupyter Book or browser helper, and the tooling is not inside the package."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import clrisk\n"
        "for m in pkgutil.walk_packages(clrisk.__path__, 'clrisk.'):\n"
        "    if m.name.endswith('__main__'):\n"
        "        continue\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted({n.split('.')[0] for n in sys.modules} & {'sphinx', 'papermill', "
        "'jupytext', 'jupyter_book', 'myst_nb', 'sphinx_intl', 'clrisk_book', 'docutils'})\n"
        "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT / "tests", check=True, env={"PATH": "/usr/bin:/bin",
                                                              "MPLBACKEND": "Agg"})
    assert out.stdout.strip() == "", f"clrisk imports book machinery: {out.stdout}"
    assert not (ROOT / "clrisk" / "booktools").exists()
    assert not (ROOT / "clrisk" / "bookbuild.py").exists()
