"""Page-level language check of the built es/fr sites: ``python scripts/language_check.py``.

Writes every finding to ``_build/language_check.txt`` and exits 1 when there is one; the logic
lives in ``clrisk_book.langcheck`` (the book's tooling in ``book/_tooling``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_tooling"))

from clrisk_book.langcheck import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
