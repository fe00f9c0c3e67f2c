"""Locale formatting and catalog inspection helpers of clrisk.i18n."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from clrisk import i18n


@pytest.mark.parametrize(("lang", "number", "percent"), [
    ("en", "1,234.6", "12.3%"),
    ("es", "1.234,6", "12,3\xa0%"),
    ("fr", "1\u202f234,6", "12,3\xa0%"),
])
def test_numbers_follow_the_language(lang: str, number: str, percent: str) -> None:
    assert i18n.format_number(1234.56, 1, lang) == number
    assert i18n.format_percent(0.1234, 1, lang) == percent


def test_format_defaults_to_current_language() -> None:
    try:
        i18n.set_language("es")
        assert i18n.format_number(0.5, 2) == "0,50"
        assert i18n.format_date(datetime.date(2026, 11, 24)) == "24 de noviembre de 2026"
    finally:
        i18n.set_language("en")
    assert i18n.format_date(datetime.date(2026, 11, 24)) == "November 24, 2026"
    assert i18n.format_percent(0.5, 0) == "50%"


def test_gettext_api_is_stable() -> None:
    assert i18n._ is i18n.gettext
    assert i18n.gettext("Error", "fr") == "Erreur"
    assert i18n.gettext("Error", "en") == "Error"
    assert i18n.gettext("no such message", "es") == "no such message"
    with pytest.raises(ValueError, match="Unknown language"):
        i18n.set_language("de")


def test_untranslated_lists_untranslated_and_fuzzy(tmp_path: Path) -> None:
    folder = tmp_path / "es" / "LC_MESSAGES" / "sub"
    folder.mkdir(parents=True)
    (folder / "a.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done"\nmsgstr "Hecho"\n\nmsgid "Todo"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Maybe"\nmsgstr "Quizás"\n', encoding="utf-8")
    found = i18n.untranslated("es", tmp_path)
    assert list(found.values()) == [["Todo", "Maybe"]]
    assert i18n.untranslated("fr", tmp_path) == {}


def test_placeholders_recognises_python_and_printf_forms() -> None:
    assert i18n.placeholders("{n} of {total:,} in %s (%(pct).1f%%)") == [
        "%(pct).1f", "%s", "{n}", "{total:,}"]
    assert i18n.placeholders("50 % ou plus") == []


def test_country_list_joins_in_each_language_with_french_articles():
    from clrisk.i18n import country_list, format_list

    assert format_list(["a"], "en") == "a" and format_list([], "en") == ""
    assert country_list(["Argentina", "Brazil", "Chile"], "en") == "Argentina, Brazil and Chile"
    assert country_list(["Argentina", "Brasil", "Chile"], "es") == "Argentina, Brasil y Chile"
    # French keeps the article in a list: l’ before a vowel, le/la by gender
    assert country_list(["Argentine", "Brésil", "Colombie"], "fr") == \
        "l’Argentine, le Brésil et la Colombie"
