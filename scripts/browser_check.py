"""Check the built site in headless Chromium: ``python scripts/browser_check.py [--site DIR]``.

Thin wrapper so the check runs from a fresh clone without remembering the module path; the
logic lives in ``clrisk.booktools.browser``.
"""

from clrisk.booktools.browser import main

if __name__ == "__main__":
    raise SystemExit(main())
