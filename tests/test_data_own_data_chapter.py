"""The chapter "Using your own data" executes for a survey country and an IVTI-only country.

Why beyond the generic chapter matrix: this chapter writes national files, runs the CLI and
compares the harmonised tables with the canonical sample; we assert on what it prints (the
round trip is exact; for Jamaica the survey part says it does not apply), in two languages.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import papermill
import pytest

from clrisk.data.country import data_root

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "own_data.md"

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def _run(country: str, lang: str, tmp_path: Path) -> str:
    if not (data_root() / country / "profile.yaml").is_file():
        pytest.skip(f"data_samples/{country} not generated")
    nb = jupytext.read(CHAPTER)
    out = tmp_path / f"own_data_{country}_{lang}.ipynb"
    executed = papermill.execute_notebook(nb, str(out), parameters={"country": country,
                                                                    "lang": lang},
                                          kernel_name="python3", cwd=str(tmp_path),
                                          progress_bar=False)
    texts = []
    for cell in executed.cells:
        for o in cell.get("outputs", []):
            assert o.get("output_type") != "error", o
            texts.append(o.get("text", "") or "".join(o.get("data", {}).get("text/markdown", "")))
    return "\n".join(texts)


def test_chapter_peru(tmp_path: Path) -> None:
    text = _run("peru", "en", tmp_path)
    assert re.search(r"survey identical:\s+yes", text)
    assert re.search(r"census identical:\s+yes", text)
    assert re.search(r"territory codes identical:\s+yes", text)
    assert "Everything is fine" in text and "exit code: 2" in text
    assert "2 ('Mujer')" in text  # the deliberate mistake is reported with its label


def test_chapter_jamaica_spanish(tmp_path: Path) -> None:
    text = _run("jamaica", "es", tmp_path)
    assert "no se aplica a Jamaica" in text
    assert re.search(r"registros administrativos idénticos:\s+sí", text)
    assert re.search(r"encuesta idéntica:\s+no corresponde", text)
    assert "Todo está bien" in text  # the CLI speaks the chapter's language
