"""Every chapter of ``_toc.yml`` runs for every sample country (papermill, English).

Why the full matrix: chapters must work for countries with a survey–census pair and for IVTI-only
countries alike; a chapter that breaks on one country's data is a bug in the chapter or in
``clrisk``. Each run executes into ``tmp_path`` with the working directory set there, so runs in
parallel (``pytest -n 2``) never share files. Kernels use the installed ``python3`` spec and the
headless inline matplotlib backend.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from clrisk_book.execute import Job, error_outputs, execute
from clrisk_book.toc import chapter_names, load_toc

ROOT = Path(__file__).resolve().parents[1]
TOC_CHAPTERS = chapter_names(load_toc(ROOT))
CHAPTERS = [c for c in TOC_CHAPTERS if (ROOT / "notebooks" / f"{c}.md").is_file()]
COUNTRIES = sorted(p.name for p in (ROOT / "data_samples").glob("*")
                   if (p / "profile.yaml").is_file())

pytestmark = pytest.mark.notebooks


def test_every_toc_chapter_has_a_source() -> None:
    missing = [c for c in TOC_CHAPTERS if c not in CHAPTERS]
    assert not missing, f"_toc.yml lists chapters without notebooks/<name>.md: {missing}"


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executes(chapter: str, country: str, tmp_path: Path) -> None:
    output = tmp_path / f"{chapter}.ipynb"
    execute(Job(source=ROOT / "notebooks" / f"{chapter}.md", output=output, country=country,
                lang="en", timeout=900))
    nb = nbformat.read(output, as_version=4)
    assert not error_outputs(nb), f"{chapter} ({country}): {error_outputs(nb)}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(c.get("outputs") for c in code), f"{chapter} ({country}) produced no output"
    injected = [c for c in code if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f'country = "{country}"' in injected[0].source
