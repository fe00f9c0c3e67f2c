"""What a reader sees of an executed chapter: applied when the site's source tree is assembled.

Why here and not in every chapter source (issue 15 item 4):

* the ``parameters`` cell and the cell papermill injects after it are removed from the page —
  built on a team's own data the injected cell holds the local path to the microdata;
* every other code cell gets ``hide-input`` (``remove-input`` becomes ``hide-input`` and
  ``remove-cell`` becomes ``hide-cell``): the analysis code is on the page behind a "show
  code" toggle (sphinx-togglebutton), so "the code shows every step" holds without burying the
  prose (``show-input`` keeps a cell open; ``keep-removed`` keeps a cell off the page);
* local paths (the repository, the build folder, the data folder, the kernel's temporary
  folder) are replaced in every output by a neutral placeholder;
* an image output that carries ``alt`` (and ``caption``) metadata — made by
  ``clrisk.display.show_figure`` — becomes a MyST figure: ``<img alt>`` plus a translated
  ``<figcaption>`` instead of a title baked into the PNG. The PNG is written beside the
  notebook (``_figures/<sha256>.png``), so several figures per cell each keep their own text.

Applying this at assembly (not at execution) means ``--skip-execute`` rebuilds pick up changes
and the executed notebooks stay the faithful record of the run.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterable
from pathlib import Path

import nbformat

REMOVE_TAGS = ("parameters", "injected-parameters")
KEEP_CHOICE = ("remove-input", "remove-cell", "hide-input", "hide-cell", "show-input",
               "remove-output")
FIGURE_DIR = "_figures"
PATH_PLACEHOLDER = "…"


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    metadata = cell.setdefault("metadata", {})
    return metadata.setdefault("tags", [])


def tag_cells(nb: nbformat.NotebookNode) -> None:
    """Remove the parameter cells; collapse (never drop) the code of every other cell.

    Chapter sources mark code the reader need not see first with ``remove-input`` or
    ``remove-cell``; on the site that code becomes a collapsed toggle (``hide-input``,
    ``hide-cell``), so every step stays available. ``keep-removed`` opts a cell out.
    """
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = _tags(cell)
        if any(t in tags for t in REMOVE_TAGS):
            if "remove-cell" not in tags:
                tags.append("remove-cell")
            continue
        if "keep-removed" in tags:
            continue
        swapped = [{"remove-input": "hide-input", "remove-cell": "hide-cell"}.get(t, t)
                   for t in tags]
        tags[:] = list(dict.fromkeys(swapped))
        if not any(t in tags for t in KEEP_CHOICE):
            tags.append("hide-input")


def _scrub_text(text: str, paths: list[str]) -> str:
    for path in paths:
        text = text.replace(path, PATH_PLACEHOLDER)
    return text


def _scrub_value(value: object, paths: list[str]) -> object:
    if isinstance(value, str):
        return _scrub_text(value, paths)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [_scrub_text(v, paths) for v in value]
    return value


def scrub_paths(nb: nbformat.NotebookNode, paths: Iterable[str | Path]) -> None:
    """Replace every occurrence of ``paths`` (longest first) in text outputs and sources."""
    found = sorted({str(p).rstrip("/") for p in paths if p and len(str(p)) > 1},
                   key=len, reverse=True)
    if not found:
        return
    for cell in nb.cells:
        cell["source"] = _scrub_text(cell.get("source", ""), found)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = _scrub_value(out["text"], found)
            for mime, value in list(out.get("data", {}).items()):
                if mime.startswith("text/") or mime.endswith("json"):
                    out["data"][mime] = _scrub_value(value, found)
            if out.get("output_type") == "error":
                out["traceback"] = [_scrub_text(t, found) for t in out.get("traceback", [])]


def _option(text: str) -> str:
    return " ".join(str(text).split())


def figure_markdown(rel_png: str, alt: str, caption: str | None) -> str:
    """A MyST figure directive (colon fence) for one image."""
    body = f":::{{figure}} {rel_png}\n:alt: {_option(alt)}\n"
    if caption:
        body += f"\n{caption.strip()}\n"
    return body + ":::\n"


def convert_figures(nb: nbformat.NotebookNode, figures: dict[str, bytes]) -> None:
    """Turn image outputs with ``alt`` metadata into figure markdown; fill ``figures``
    (relative file name -> PNG bytes) with the images to write beside the notebook."""
    for cell in nb.cells:
        for index, out in enumerate(cell.get("outputs", [])):
            meta = out.get("metadata", {}).get("image/png", {})
            png = out.get("data", {}).get("image/png")
            if not png or not isinstance(meta, dict) or not meta.get("alt"):
                continue
            data = base64.b64decode(png if isinstance(png, str) else "".join(png))
            rel = f"{FIGURE_DIR}/{hashlib.sha256(data).hexdigest()[:24]}.png"
            figures[rel] = data
            cell["outputs"][index] = nbformat.v4.new_output(
                "display_data",
                data={"text/markdown": figure_markdown(rel, meta["alt"], meta.get("caption")),
                      "text/plain": meta.get("caption") or meta["alt"]})


def prepare(nb: nbformat.NotebookNode, scrub: Iterable[str | Path] = ()
            ) -> tuple[nbformat.NotebookNode, dict[str, bytes]]:
    """A page-ready copy of an executed notebook and the figure files it references."""
    nb = copy.deepcopy(nb)
    # papermill's record holds the parameters (data_dir) and the build's absolute paths; the
    # page's downloadable .ipynb (_sources/) must not publish them.
    nb.metadata.pop("papermill", None)
    tag_cells(nb)
    scrub_paths(nb, scrub)
    figures: dict[str, bytes] = {}
    convert_figures(nb, figures)
    return nb, figures


def write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless ``path`` already holds it (Sphinx rebuilds only changed pages)."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def prepare_file(executed: Path, dest: Path, scrub: Iterable[str | Path] = ()) -> list[Path]:
    """Write the page-ready notebook to ``dest`` (and its figures beside it); return all
    files written, so the caller can place them in the source tree."""
    nb = nbformat.read(executed, as_version=4)
    page, figures = prepare(nb, scrub)
    text = nbformat.writes(page)
    for path in sorted({str(p).rstrip("/") for p in scrub if p and len(str(p)) > 1},
                       key=len, reverse=True):
        text = text.replace(path, PATH_PLACEHOLDER)  # any metadata left (cell records…)
    write_if_changed(dest, text.encode("utf-8"))
    written = [dest]
    for rel, data in figures.items():
        target = dest.parent / rel
        write_if_changed(target, data)
        written.append(target)
    return written
