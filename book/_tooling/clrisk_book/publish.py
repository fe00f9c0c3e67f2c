"""Publish what the book computes (issue 15 items 5 and 7, issue 16 item 5).

Why: a reader must be able to take away every executed country's results — the
``clrisk run`` outputs (territories CSV/GPKG, factor weights, coefficients, IVTI, manifest) and
the Phase II worksheets and plan the chapters write — with checksums to prove they are the
files the pages show, plus a data dictionary of every column and a status page saying how the
build went. Pages are generated per language into the assembled source tree
(``book/downloads``, ``book/data_dictionary``, ``book/status``), so they are never stale
files in the repository; their words come from ``clrisk.i18n`` (domain ``booksite.po``).

Layout: the files of a site go to ``<site>/downloads/<country>/`` (``run/`` for the CLI
outputs, ``phase2/`` for the Phase II files of the site's language) with ``SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import html
import json
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from clrisk.i18n import format_number, gettext
from clrisk_book import datadict
from clrisk_book.toc import REPO_ROOT

GENERATED = ("book/downloads", "book/data_dictionary", "book/status")
PHASE2_SUFFIXES = (".xlsx", ".md", ".csv", ".json")
VERSION_PACKAGES = ("clrisk", "numpy", "pandas", "scipy", "statsmodels", "geopandas", "shapely",
                    "pyogrio", "matplotlib", "openpyxl", "dask", "papermill", "jupyter-book",
                    "sphinx", "myst-nb")


def _(text: str, lang: str) -> str:
    return gettext(text, lang)


@dataclass(frozen=True)
class Download:
    """One published file: its path relative to the site's downloads folder."""

    rel: str
    size: int
    sha256: str


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_outputs(build: Path, country: str, lang: str, data_dir: str | None = None) -> Path:
    """``clrisk run`` for one country in ``lang`` (labels are translated) into
    ``_build/outputs/<lang>/<country>/``; the folder is reused when it holds a complete run."""
    out = build / "outputs" / lang / country
    out.parent.mkdir(parents=True, exist_ok=True)
    target = ["--data-dir", data_dir] if data_dir else ["--country", country]
    cmd = [sys.executable, "-m", "clrisk", "--lang", lang, "run", *target, "--out", str(out),
           "--no-maps", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=str(build))
    if done.returncode != 0:
        raise RuntimeError(f"clrisk run for {country} ({lang}) failed:\n{done.stderr[-2000:]}")
    return out


def collect(staging: Path, country: str, run_dir: Path | None, written: Path) -> list[Download]:
    """Copy the run outputs and the Phase II files chapters wrote (kernel TMPDIR ``written``)
    into ``staging/<country>/``, write ``SHA256SUMS``, return what is published.

    ``staging`` is copied into the site's ``downloads/`` after the Sphinx build
    (:func:`install`)."""
    dest = staging / country
    if dest.exists():
        shutil.rmtree(dest)
    sources: list[tuple[Path, str]] = []
    if run_dir is not None and run_dir.is_dir():
        sources += [(p, f"run/{p.name}") for p in sorted(run_dir.iterdir())
                    if p.is_file() and not p.name.startswith(".")]
    phase2 = written / "clrisk" / "phase2"
    if phase2.is_dir():
        for p in sorted(phase2.rglob("*")):
            if p.is_file() and p.suffix in PHASE2_SUFFIXES and not p.name.startswith((".", "~")):
                sources.append((p, f"phase2/{p.name}"))
    published: list[Download] = []
    for src, rel in sources:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        published.append(Download(f"{country}/{rel}", target.stat().st_size, sha256(target)))
    if published:
        lines = [f"{d.sha256}  {d.rel.split('/', 1)[1]}\n" for d in published]
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return published


def install(staging: Path, site: Path) -> None:
    """Replace ``<site>/downloads`` with the staged files."""
    target = site / "downloads"
    if target.exists():
        shutil.rmtree(target)
    if staging.is_dir():
        shutil.copytree(staging, target)


def country_label(country: str, lang: str, repo: Path = REPO_ROOT) -> str:
    """The country's name in ``lang`` from its sample profile, else the key."""
    import yaml

    profile = repo / "data_samples" / country / "profile.yaml"
    if profile.is_file():
        names = (yaml.safe_load(profile.read_text(encoding="utf-8")) or {}).get("names") or {}
        if names.get(lang):
            return str(names[lang])
    return country.replace("_", " ").title()


def _size(n: int, lang: str) -> str:
    return f"{format_number(n / 1024, 1, lang)} kB" if n < 1 << 20 else \
        f"{format_number(n / (1 << 20), 1, lang)} MB"


def downloads_page(lang: str, country: str, files: list[Download], depth: int = 1) -> str:
    """Markdown (with an HTML table, so links are plain links to the copied files)."""
    up = "../" * depth
    name = country_label(country, lang)
    lines = [f"# {_('Downloads', lang)}", "",
             _("Every file below was produced by this build of the manual for {country}: the "
               "outputs of `clrisk run` and the Phase II worksheets and plan written by the "
               "chapters. The SHA-256 checksum lets you check that a file is the one the pages "
               "show (for example with `sha256sum -c SHA256SUMS`).", lang).format(country=name),
             "", _("The columns of every table are described in the data dictionary.", lang)
             + " ", "",
             f'<p><a href="{up}book/data_dictionary.html">{html.escape(_("Data dictionary", lang))}'
             "</a></p>", ""]
    if not files:
        lines += [_("This build published no files.", lang), ""]
        return "\n".join(lines)
    lines += [f"## {name}", "", '<div class="clrisk-wide-table">',
              '<table class="table clrisk-downloads">',
              f"<thead><tr><th>{html.escape(_('File', lang))}</th>"
              f"<th>{html.escape(_('Size', lang))}</th><th>SHA-256</th></tr></thead><tbody>"]
    for d in files:
        href = f"{up}downloads/{d.rel}"
        shown = d.rel.split("/", 1)[1]
        lines.append(f'<tr><td><a href="{html.escape(href)}" download><code>'
                     f"{html.escape(shown)}</code></a></td>"
                     f'<td class="clrisk-size">{_size(d.size, lang)}</td>'
                     f'<td><code class="clrisk-sha">{d.sha256}</code></td></tr>')
    lines += ["</tbody></table></div>", "",
              f'<p><a href="{up}downloads/{country}/SHA256SUMS"><code>SHA256SUMS</code></a></p>',
              ""]
    return "\n".join(lines)


def data_dictionary_page(lang: str) -> str:
    intro = _("Every column of every table that `clrisk run` writes, as published on the "
              "downloads page. Columns named after the profile (IVTI dimensions and "
              "indicators) are listed with a `*` pattern.", lang)
    return f"# {_('Data dictionary', lang)}\n\n{intro}\n\n{datadict.render_markdown(lang)}\n"


def versions() -> list[tuple[str, str]]:
    """(package, version) of the build's Python and key packages."""
    from importlib import metadata

    found = [("Python", platform.python_version())]
    for name in VERSION_PACKAGES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit(repo: Path = REPO_ROOT) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip() or None


def load_timings(build: Path, lang: str, countries: list[str]) -> dict[str, dict[str, float | None]]:
    """``{country: {chapter: seconds or None}}`` recorded by the executions of ``lang``."""
    out = {}
    for country in countries:
        path = build / "executed" / lang / country / "timings.json"
        out[country] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return out


def status_page(lang: str, chapters: list[str], countries: list[str],
                timings: dict[str, dict[str, float | None]],
                titles: dict[str, str] | None = None) -> str:
    """Chapter × country execution times and the package versions of this build."""
    titles = titles or {}
    lines = [f"# {_('Build status', lang)}", "",
             _("How this site was built: the time each chapter took to execute for each "
               "country (papermill, one process per chapter), and the versions of Python and "
               "the packages that computed the results.", lang), "",
             f"## {_('Execution time (seconds)', lang)}", "",
             "| " + _("Chapter", lang) + " | "
             + " | ".join(country_label(c, lang) for c in countries) + " |",
             "|---|" + "---:|" * len(countries)]
    totals = dict.fromkeys(countries, 0.0)
    for chapter in chapters:
        cells = []
        for country in countries:
            value = timings.get(country, {}).get(chapter, "missing")
            if value == "missing":
                cells.append("–")
            elif value is None:
                cells.append("❌ " + _("failed", lang))
            else:
                totals[country] += float(value)
                cells.append(format_number(float(value), 1, lang))
        # A {doc} link shows the chapter's title in the site's language (Sphinx translates it).
        label = titles.get(chapter, f"{{doc}}`../notebooks/{chapter}`")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(f"| **{_('Total', lang)}** | "
                 + " | ".join(f"**{format_number(t, 1, lang)}**" for t in totals.values())
                 + " |")
    lines += ["", _("“–”: not executed in this build (reused from an earlier one).", lang), "",
              f"## {_('Versions', lang)}", "",
              f"| {_('Package', lang)} | {_('Version', lang)} |", "|---|---|"]
    lines += [f"| `{name}` | `{version}` |" for name, version in versions()]
    commit = git_commit()
    if commit:
        lines += ["", _("Source commit: {commit}.", lang).format(commit=f"`{commit}`")]
    return "\n".join(lines) + "\n"


def write_page(tree: Path, doc: str, text: str) -> Path:
    """Write a generated page into the source tree unless unchanged; return its path."""
    path = tree / f"{doc}.md"
    data = text.encode("utf-8")
    if not path.is_file() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path
