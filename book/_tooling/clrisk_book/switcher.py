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


def country_links(pagename: str, lang: str, current: str,
                  sites: list[tuple[str, str, str]]) -> list[tuple[str, str, str, bool]]:
    """(key, label, relative url, is_current) for each country site, pointing at ``pagename``
    in the same language (issue 16 item 5).

    ``sites`` is ``[(key, label, prefix)]``: the first country's sites are
    ``_build/html/<lang>/`` (prefix ``""``), the others ``_build/html/<key>/<lang>/`` (prefix
    ``"<key>/"``). From a page, ``../`` * (depth + 1) reaches the folder holding the language
    sites; the current site's prefix depth more reaches ``_build/html/``.
    """
    prefixes = {key: prefix for key, _label, prefix in sites}
    up = "../" * (pagename.count("/") + 1 + prefixes.get(current, "").count("/"))
    return [(key, label, f"{up}{prefix}{lang}/{pagename}.html", key == current)
            for key, label, prefix in sites]
