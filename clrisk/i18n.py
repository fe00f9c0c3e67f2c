"""Translation layer for every user-visible string in figures, tables, widgets and the CLI.

Why gettext catalogs read straight from ``.po`` files: translators edit ``.po`` with standard
tools, there is no compile step to forget, and several modules can own separate catalogs
(``clrisk/locales/<lang>/LC_MESSAGES/<domain>.po``) that are merged at load time, so parallel
work never edits the same file. English is the source language (msgid == English text).
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("en", "es", "fr")
LOCALE_DIR = Path(__file__).parent / "locales"
_current = "en"


def set_language(lang: str) -> None:
    """Select the language for subsequent ``_()`` calls (chapters call it from ``lang``)."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"Unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current = lang


def get_language() -> str:
    return _current


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """All translated, non-fuzzy messages for ``lang``, merged over every domain file."""
    messages: dict[str, str] = {}
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    if lang == "en" or not folder.is_dir():
        return messages
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for msg in cat:
            if msg.id and msg.string and not msg.fuzzy:
                messages[str(msg.id)] = str(msg.string)
    return messages


def gettext(message: str, lang: str | None = None) -> str:
    """Translate ``message`` (English source) into ``lang`` (default: the current language).

    A missing translation falls back to English at run time; the catalog check in the test
    suite is what makes a missing translation a failure.
    """
    lang = lang or _current
    if lang == "en":
        return message
    return catalog(lang).get(message, message)


_ = gettext
