"""Execute one chapter with papermill: jupytext MyST markdown in, executed ``.ipynb`` out.

Why papermill over Jupyter Book's own execution: the same chapter is run once per country and
per language with injected parameters (``country``, ``lang``, ``data_dir``), and a failure must
name the chapter and the cell. The markdown source is converted to a notebook in memory, so no
``.ipynb`` is ever written next to the sources.

Working directory: the folder of the executed notebook
(``_build/executed/<lang>/<country>/notebooks/``). Chapters find their data through
``clrisk.load_country(country)`` / ``data_dir``, never through paths relative to the current
directory, and anything a chapter writes lands in the build tree, not in ``notebooks/``. Runs
for different countries and languages therefore never collide.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat

KERNEL = "python3"


class ChapterError(RuntimeError):
    """A chapter failed to execute; the message names the chapter, the cell and the error."""


@dataclass(frozen=True)
class Job:
    """One chapter execution: source markdown, output notebook and parameters."""

    source: Path
    output: Path
    country: str
    lang: str
    data_dir: str | None = None
    timeout: int = 1800
    # The kernel's TMPDIR: files a chapter writes to the temporary folder (Phase II worksheets,
    # plans) land in the build tree, where the build collects them for the downloads page.
    tmpdir: Path | None = None


def read_chapter(source: Path) -> nbformat.NotebookNode:
    """Read a jupytext MyST markdown chapter as a notebook (in memory)."""
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3",
                                 "language": "python"}
    return nb


def has_parameters_cell(nb: nbformat.NotebookNode) -> bool:
    return any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells)


def _strip_widget_state(nb: nbformat.NotebookNode) -> None:
    """Drop saved widget state so the site never loads widget JavaScript from a CDN."""
    nb.metadata.pop("widgets", None)


def _hide_default_parameters(nb: nbformat.NotebookNode) -> None:
    """Hide the source's default ``parameters`` cell on the page: the cell papermill injects
    right after it shows the values this page was actually run with."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")


def error_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, "EName: value") for every error output in an executed notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((index, f"{out.get('ename')}: {out.get('evalue')}"))
    return found


KERNEL_ENV = {
    # Headless but still emitting figures: MPLBACKEND=Agg would silence plt.show() in a
    # kernel (no figure outputs at all), so the inline backend is named explicitly.
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


@contextlib.contextmanager
def kernel_environment(extra: dict[str, str] | None = None) -> Iterator[None]:
    """Set ``KERNEL_ENV`` (and ``extra``) while a kernel is launched (it inherits the
    environment), then restore the caller's environment so e.g. a test process keeps its own
    matplotlib backend."""
    env = {**KERNEL_ENV, **(extra or {})}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(job: Job, start_timeout: int = 60) -> Path:
    """Execute ``job`` and write the executed notebook atomically; raise ChapterError on failure.

    On failure the partial notebook (with the traceback) is kept next to the output as
    ``<stem>.failed.ipynb`` for inspection.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from clrisk.io import atomic_path

    name = job.source.stem
    nb = read_chapter(job.source)
    if not has_parameters_cell(nb):
        raise ChapterError(f"{job.source}: no code cell tagged 'parameters'. Fix: tag the cell "
                           f"defining country, lang and data_dir with `:tags: [parameters]`.")
    job.output.parent.mkdir(parents=True, exist_ok=True)
    parameters: dict[str, Any] = {"country": job.country, "lang": job.lang,
                                  "data_dir": job.data_dir}
    failed = job.output.with_suffix(".failed.ipynb")
    extra = {}
    if job.tmpdir is not None:
        Path(job.tmpdir).mkdir(parents=True, exist_ok=True)
        extra["TMPDIR"] = str(Path(job.tmpdir).resolve())
    try:
        with kernel_environment(extra):
            executed = papermill.execute_notebook(
                nb, str(failed), parameters=parameters, kernel_name=KERNEL, language="python",
                progress_bar=False, cwd=str(job.output.parent), start_timeout=start_timeout,
                request_save_on_cell_execute=False, execution_timeout=job.timeout,
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],  # no transport chatter
            )
    except PapermillExecutionError as exc:
        raise ChapterError(
            f"chapter {name} ({job.country}, {job.lang}) failed in cell "
            f"{exc.exec_count or exc.cell_index}: {exc.ename}: {exc.evalue}\n"
            f"  partial notebook: {failed}") from None
    except Exception as exc:  # kernel died, timeout, bad source…
        raise ChapterError(f"chapter {name} ({job.country}, {job.lang}) could not run: "
                           f"{type(exc).__name__}: {exc}") from exc
    _strip_widget_state(executed)
    _hide_default_parameters(executed)
    with atomic_path(job.output) as tmp:
        nbformat.write(executed, str(tmp))
    failed.unlink(missing_ok=True)
    return job.output


def execute_job(job: Job) -> tuple[str, str | None, float]:
    """Process-pool entry point: (chapter name, error message or None, seconds); never raises."""
    import time

    start = time.perf_counter()
    try:
        execute(job)
        error = None
    except ChapterError as exc:
        error = str(exc)
    return f"{job.source.stem} ({job.lang})", error, time.perf_counter() - start
