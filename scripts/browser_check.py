"""Check the built site in headless Chromium: ``python scripts/browser_check.py [--site DIR]``.

Thin wrapper so the check runs from a fresh clone without remembering the module path; the
logic lives in ``clrisk_book.browser`` (the book's tooling in ``book/_tooling``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_tooling"))

from clrisk_book.browser import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
