"""`make handouts`: a PDF per country x language whose page 1 shows the map in the right language.

Why these checks: a handout is printed for a room without internet, so what matters is what is
on paper — page 1 rendered to PNG must not be blank and must contain the map (a large area of
the risk-level colours), and the PDF's text layer must be in the handout's language (the title
and warnings come from the catalogs, never English on a Spanish sheet).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clrisk.i18n import _, set_language

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="needs chromium and poppler-utils")


def _level_colours(k: int) -> np.ndarray:
    from matplotlib.colors import to_rgb

    from clrisk.plots import level_colours

    return np.array([to_rgb(c) for c in level_colours(k)]) * 255


@pytest.mark.parametrize(("country", "lang"), [("guatemala", "es"), ("jamaica", "fr")])
def test_handout_pdf_page1(country: str, lang: str, tmp_path: Path) -> None:
    import build_handouts

    from clrisk.training import load_training

    pdf = build_handouts.build([country], [lang], tmp_path)[0]
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    assert b"/CreationDate (D:20260101000000" in pdf.read_bytes(), "print time not fixed"
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf),
                    str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    img = np.asarray(Image.open(png).convert("RGB")).astype(float)
    assert (img < 245).any(axis=2).mean() > 0.05, "page 1 looks blank"
    td = load_training(country, lang=lang)
    colours = _level_colours(td.k)
    dist = np.min(np.linalg.norm(img[:, :, None, :] - colours[None, None], axis=3), axis=2)
    assert (dist < 25).mean() > 0.02, "no map in the risk-level colours on page 1"
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    set_language(lang)
    title = _("How to read {country}'s risk map").format(country=td.profile.name(lang))
    set_language("en")
    assert " ".join(title.split()) in " ".join(text.split())
    english = "How to read"
    assert english not in text


def test_make_handouts_target_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nhandouts:" in makefile and "build_handouts.py" in makefile
