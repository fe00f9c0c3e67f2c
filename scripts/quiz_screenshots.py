"""Screenshots of the self-check quiz answered wrongly and rightly, in Spanish and French.

``python scripts/quiz_screenshots.py [--site _build/html] [--out _build/browser/quiz]``

Why: the quiz must work on the static, offline site in a real browser (jupyterquiz draws it
with JavaScript). The page has a hook — ``#quiz-right`` / ``#quiz-wrong`` in the address
clicks the first multiple-choice question's right / wrong answer — so headless Chromium's
plain ``--screenshot`` can show both states without a driver. Each screenshot is checked for
the feedback colour (green for right, red for wrong); the exit status is 1 if one is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PAGE = "notebooks/training_quiz.html"
# jupyterquiz's feedback colours as clrisk.training.quiz sets them
COLOURS = {"right": (0x00, 0x91, 0x13), "wrong": (0xC8, 0x02, 0x02)}


def find_page(site: Path, lang: str) -> Path | None:
    """The quiz page of a language site (``<site>/<lang>/...`` or ``<site>/<country>/<lang>``)."""
    for candidate in sorted(site.glob(f"**/{lang}/{PAGE}")):
        return candidate
    return None


def shoot(page: Path, state: str, png: Path) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("headless Chromium is needed")
    with tempfile.TemporaryDirectory(prefix="clrisk-quiz-") as tmp:
        subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={tmp}", "--window-size=1100,1400",
                        "--virtual-time-budget=5000", f"--screenshot={png}",
                        f"{page.resolve().as_uri()}#quiz-{state}"],
                       check=True, capture_output=True, timeout=180)


def has_colour(png: Path, rgb: tuple[int, int, int], min_pixels: int = 200) -> bool:
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    close = (np.abs(img - np.array(rgb)).sum(axis=2) < 40).sum()
    return int(close) >= min_pixels


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    p.add_argument("--out", type=Path, default=ROOT / "_build" / "browser" / "quiz")
    p.add_argument("--langs", nargs="+", default=["es", "fr"])
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    problems = []
    for lang in args.langs:
        page = find_page(args.site, lang)
        if page is None:  # that language's site was not built (e.g. `make book` builds one)
            print(f"{lang}: no {PAGE} under {args.site}; skipped")
            continue
        for state, rgb in COLOURS.items():
            png = args.out / f"quiz_{lang}_{state}.png"
            shoot(page, state, png)
            ok = has_colour(png, rgb)
            print(f"{png}: {'ok' if ok else 'feedback colour missing'}")
            if not ok:
                problems.append(f"{lang} {state}: no {state} feedback in {png}")
    for line in problems:
        print("PROBLEM:", line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
