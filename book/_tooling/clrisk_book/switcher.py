"""Language switcher: links to the same page in the other language sites.

Why Python rather than template logic: the relative URL to the sibling site depends on the
page depth, which is easiest to compute in Python. The sites live side by side
(``_build/html/{en,es,fr}/``), so ``../`` * (depth + 1) reaches ``_build/html/``.
The template ``book/_templates/clrisk-language-switcher.html`` renders the list.
"""

from __future__ import annotations

LABELS = {"en": "English", "es": "Español", "fr": "Français"}


def language_links(pagename: str, current: str, languages: list[str]) -> list[tuple[str, str, str, bool]]:
    """(code, label, relative url, is_current) for each site, pointing at ``pagename``."""
    up = "../" * (pagename.count("/") + 1)
    return [(code, LABELS.get(code, code), f"{up}{code}/{pagename}.html", code == current)
            for code in languages]
