"""Translation layer for every user-visible string in figures, tables, widgets and the CLI.

Why gettext catalogs read straight from ``.po`` files: translators edit ``.po`` with standard
tools, there is no compile step to forget, and several modules can own separate catalogs
(``clrisk/locales/<lang>/LC_MESSAGES/<domain>.po``) that are merged at load time, so parallel
work never edits the same file. English is the source language (msgid == English text).
"""

from __future__ import annotations

import functools
import re
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


# --- locale-aware formatting ---------------------------------------------------------------
# Why Babel: "12,3 %" in Spanish and French, "12.3%" in English; thousands separators differ
# too ("1,234" / "1.234" / "1 234"). Tables and figure labels must follow the reader's language.


def _babel_locale(lang: str | None) -> str:
    return lang or _current


def format_number(value: float, digits: int = 0, lang: str | None = None) -> str:
    """``value`` with ``digits`` decimals and the language's separators (1,234.5 / 1.234,5)."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_babel_locale(lang))


def format_percent(value: float, digits: int = 1, lang: str | None = None) -> str:
    """A proportion (0.123) as a percentage in the language's style (12.3% / 12,3 %)."""
    from babel import Locale
    from babel.numbers import format_percent as _fmt

    locale = Locale.parse(_babel_locale(lang))
    pattern = locale.percent_formats[None].pattern  # keeps the language's "12,3 %" spacing
    if digits > 0:
        pattern = pattern.replace("#,##0", "#,##0." + "0" * digits, 1)
    return _fmt(value, format=pattern, locale=locale)


def format_date(value, style: str = "long", lang: str | None = None) -> str:
    """A date (``datetime.date``) in the language's words, e.g. 24 de noviembre de 2026."""
    from babel.dates import format_date as _fmt

    return _fmt(value, format=style, locale=_babel_locale(lang))


# --- catalog checks ------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_]+(?:![rsa])?(?::[^{}]*)?\}|\{\}"
                          r"|%\([A-Za-z_]+\)[#0+-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]"
                          r"|%[#0+-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def placeholders(text: str) -> list[str]:
    """Sorted ``{name}`` / ``%s`` / ``%(name)s`` placeholders of a message."""
    return sorted(_PLACEHOLDER.findall(text.replace("%%", "")))


def catalog_problems(po_path: str | Path) -> list[tuple[str, str]]:
    """(msgid, problem) for every untranslated, fuzzy or placeholder-breaking entry of a .po.

    Why a function and not only a test: translators run it to see what is left to do
    (``python -c "from clrisk.i18n import untranslated; print(untranslated())"``).
    """
    with open(po_path, "rb") as fh:
        cat = read_po(fh)
    problems = []
    for msg in cat:
        if not msg.id:
            continue
        msgid = str(msg.id)
        if not msg.string:
            problems.append((msgid, "untranslated"))
        elif msg.fuzzy:
            problems.append((msgid, "fuzzy"))
        elif placeholders(msgid) != placeholders(str(msg.string)):
            problems.append((msgid, f"placeholders differ: msgid {placeholders(msgid)}, "
                                    f"msgstr {placeholders(str(msg.string))}"))
    return problems


def untranslated(lang: str | None = None, folder: str | Path = LOCALE_DIR) -> dict[str, list[str]]:
    """Untranslated or fuzzy msgids per catalog file under ``folder/<lang>/LC_MESSAGES``.

    ``lang`` None means every non-English language. Only files with problems are listed.
    """
    langs = [lang] if lang else [code for code in LANGUAGES if code != "en"]
    found: dict[str, list[str]] = {}
    for code in langs:
        for po in sorted((Path(folder) / code / "LC_MESSAGES").rglob("*.po")):
            bad = [msgid for msgid, why in catalog_problems(po)
                   if why in ("untranslated", "fuzzy")]
            if bad:
                found[str(po)] = bad
    return found


# --- country names inside a sentence --------------------------------------------------------
# Why a table: French (and, less often, Spanish) put a preposition and article before a
# country name that depends on its gender and first letter — "au Pérou", "en Argentine",
# "du Mexique", "de la Colombie". A sentence such as "say nothing about child labour in {country}"
# cannot be translated by substituting the bare name ("en Pérou" is wrong). Messages therefore
# take the whole phrase ({in_country}, {of_country}) from here. A profile may override the
# forms with ``name_forms: {fr: {in: "à Cuba", of: "de Cuba"}}``.
COUNTRY_FORMS: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "Argentine": ("en Argentine", "de l’Argentine"),
        "Brésil": ("au Brésil", "du Brésil"),
        "Chili": ("au Chili", "du Chili"),
        "Colombie": ("en Colombie", "de la Colombie"),
        "Costa Rica": ("au Costa Rica", "du Costa Rica"),
        "Guatemala": ("au Guatemala", "du Guatemala"),
        "Jamaïque": ("en Jamaïque", "de la Jamaïque"),
        "Mexique": ("au Mexique", "du Mexique"),
        "Pérou": ("au Pérou", "du Pérou"),
        "Équateur": ("en Équateur", "de l’Équateur"),
        "Paraguay": ("au Paraguay", "du Paraguay"),
        "Uruguay": ("en Uruguay", "de l’Uruguay"),
        "Honduras": ("au Honduras", "du Honduras"),
        "Panama": ("au Panama", "du Panama"),
        "Bolivie": ("en Bolivie", "de la Bolivie"),
        "Salvador": ("au Salvador", "du Salvador"),
        "Nicaragua": ("au Nicaragua", "du Nicaragua"),
        "République dominicaine": ("en République dominicaine",
                                   "de la République dominicaine"),
    },
}
_VOWELS = "AEIOUYÉÈÊÂÎÔÛaeiouyéèêâîôû"


def _french_forms(name: str) -> tuple[str, str]:
    """French "in"/"of" phrases for a country not in the table (gender from the final -e)."""
    if name[:1] in _VOWELS:
        return f"en {name}", f"de l’{name}"
    if name.endswith("e") and name not in ("Mexique", "Cambodge", "Mozambique", "Zimbabwe"):
        return f"en {name}", f"de la {name}"
    return f"au {name}", f"du {name}"


def country_forms(country: object, lang: str | None = None) -> dict[str, str]:
    """``{"country", "in_country", "of_country"}`` for a profile (or a bare name) in ``lang``.

    English: "Peru", "in Peru", "of Peru"; Spanish: "Perú", "en Perú", "de Perú"; French:
    "Pérou", "au Pérou", "du Pérou". Messages use these placeholders so that every language
    can put the right preposition and article in front of the name.
    """
    lang = lang or _current
    if isinstance(country, str):
        name, override = country, {}
    else:
        name = country.name(lang)  # type: ignore[attr-defined]
        raw = getattr(country, "raw", None) or {}
        override = (raw.get("name_forms") or {}).get(lang) or {}
    if lang == "fr":
        in_c, of_c = COUNTRY_FORMS["fr"].get(name) or _french_forms(name)
    elif lang == "es":
        in_c, of_c = f"en {name}", f"de {name}"
    else:
        in_c, of_c = f"in {name}", f"of {name}"
    return {"country": name, "in_country": override.get("in", in_c),
            "of_country": override.get("of", of_c)}


def format_list(items: list[str], lang: str | None = None) -> str:
    """"a, b and c" in ``lang`` (the catalog's "{items} and {last}": "a, b y c", "a, b et c").

    Why not Babel's list format: its English pattern has the serial comma, which the rest of
    the book does not use."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return gettext("{items} and {last}", lang).format(items=", ".join(items[:-1]),
                                                      last=items[-1])


_FR_ARTICLES = (("du ", "le "), ("de la ", "la "), ("de l’", "l’"), ("des ", "les "))


def country_list(names: list[str], lang: str | None = None) -> str:
    """Country names joined for a sentence ("Argentina, Chile and Mexico"); in French with
    their article ("l’Argentine, le Chili et le Mexique"), taken from the "of" form that
    :func:`country_forms` already knows, because French does not drop it in a list."""
    lang = lang or _current
    if lang == "fr":
        named = []
        for name in names:
            of_c = country_forms(name, "fr")["of_country"]
            named.append(next((art + of_c[len(pre):] for pre, art in _FR_ARTICLES
                               if of_c.startswith(pre)), name))
        names = named
    return format_list(names, lang)
