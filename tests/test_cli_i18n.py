"""Issue 14 class 6 / issue 15: CLI messages fully translated in es/fr — field words ("column",
"rows", "(and N more)", "Fix"), the model pre-flight's messages and argparse's own texts — and
global options accepted before or after the sub-command.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _helpers import folder_digests
from test_semantic_checks import FAULTS

from clrisk.cli import hoist_global_options, main
from clrisk.i18n import set_language

ENGLISH = re.compile(r"\b(column|rows?|Fix|and \d+ more|line \d+|the following arguments|"
                     r"usage|error:|must be|cannot|Everything)\b")




pytestmark = pytest.mark.usefixtures("english_messages")


def english_words(text: str) -> list[str]:
    """English field words left in a message (file, column and code names excepted)."""
    cleaned = re.sub(r"'[^']*'|«[^»]*»|“[^”]*”|\S+\.(csv|parquet|yaml|geojson)", "", text)
    return ENGLISH.findall(cleaned)


@pytest.mark.parametrize("lang", ["es", "fr"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_messages_fully_translated(fault: str, lang: str, toy: Path, tmp_path: Path,
                                         capsys) -> None:
    FAULTS[fault][0](toy)
    before = folder_digests(toy, recursive=True)
    code = main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
                 "--quiet", "--no-maps", "--lang", lang])
    err = capsys.readouterr().err
    assert code == 2
    assert english_words(err) == [], err
    assert ("Solución" if lang == "es" else "Correction") in err
    assert not (tmp_path / "r").exists()
    assert folder_digests(toy, recursive=True) == before


@pytest.mark.parametrize("argv", [
    ["--lang", "es", "check", "--profile", "{p}"],
    ["check", "--lang", "es", "--profile", "{p}"],
    ["check", "--profile", "{p}", "--lang", "es"],
    ["check", "--profile", "{p}", "--lang=es"],
])
def test_lang_before_or_after_the_command(argv: list[str], toy: Path, capsys) -> None:
    args = [a.format(p=toy / "profile.yaml") for a in argv]
    assert main(args) == 0
    assert "Todo está bien" in capsys.readouterr().out


def test_hoist_keeps_other_arguments_in_order() -> None:
    assert hoist_global_options(["run", "--out", "x", "--lang", "fr", "--seed", "3"]) == \
        ["--lang", "fr", "run", "--out", "x", "--seed", "3"]


@pytest.mark.parametrize("lang,words", [("es", ["uso:", "faltan los siguientes argumentos "
                                                "obligatorios", "--out"]),
                                        ("fr", ["utilisation :", "erreur", "obligatoires"])])
def test_argparse_errors_translated(lang: str, words: list[str], toy: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--profile", str(toy / "profile.yaml"), "--lang", lang])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, err
    assert "usage:" not in err and "the following arguments are required" not in err


def test_argparse_invalid_choice_translated(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "es", "frobnicate"])
    err = capsys.readouterr().err
    assert "opción no válida" in err and "invalid choice" not in err


def test_help_in_french_lists_exit_codes(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help", "--lang", "fr"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "Codes de sortie" in out and "utilisation :" in out and "options:" in out
    assert "show this help message" not in out


def test_describe_rows_translated() -> None:
    from clrisk.errors import data_error

    set_language("fr")
    msg = str(data_error("survey.csv", "valeurs", "corriger", column="age",
                         rows=range(1, 20)))
    assert msg == ("survey.csv, colonne « age » : valeurs — lignes 1, 2, 3, 4, 5 (et 14 de plus)"
                   ". Correction : corriger") or ("colonne « age »" in msg and "lignes 1" in msg
                                                  and "(et 14 de plus)" in msg
                                                  and "Correction : corriger" in msg)


def _survey_text(toy: Path, fn) -> None:
    import pandas as pd

    df = pd.read_csv(toy / "survey.csv", dtype=str)
    fn(df)
    df.to_csv(toy / "survey.csv", index=False)


LOADER_FAULTS = {
    "missing_column": lambda t: _survey_text(t, lambda d: d.pop("psu")),
    "outcome_not_binary": lambda t: _survey_text(
        t, lambda d: d.__setitem__("child_labour", d["child_labour"].where(d.index > 7, "5"))),
    "weight_zero": lambda t: _survey_text(
        t, lambda d: d.__setitem__("weight", d["weight"].where(d.index != 2, "0"))),
    "unknown_territory": lambda t: _survey_text(
        t, lambda d: d.__setitem__("territory_id",
                                   d["territory_id"].where(d.index != 2, "999999"))),
    "bad_yaml": lambda t: (t / "profile.yaml").write_text("country: [a\n", encoding="utf-8"),
    "file_missing": lambda t: (t / "survey.csv").unlink(),
}


@pytest.mark.parametrize("lang", ["es", "fr"])
@pytest.mark.parametrize("fault", sorted(LOADER_FAULTS))
def test_loader_messages_fully_translated(fault: str, lang: str, toy: Path, tmp_path: Path,
                                          capsys) -> None:
    LOADER_FAULTS[fault](toy)
    before = folder_digests(toy, recursive=True)
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
                 "--quiet", "--no-maps", "--lang", lang]) == 2
    err = capsys.readouterr().err
    assert english_words(err) == [], err
    assert "np.int64" not in err and "{{" not in err
    assert not (tmp_path / "r").exists()
    assert folder_digests(toy, recursive=True) == before


@pytest.mark.parametrize("option,words", [(["--draws", "0"], "0 es menor que 1"),
                                          (["--seed", "-1"], "-1 es menor que 0"),
                                          (["--draws", "abc"], "no es un número entero")])
def test_bad_numeric_options_refused_before_anything(option: list[str], words: str, toy: Path,
                                                      tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(tmp_path / "r"),
              "--quiet", "--no-maps", "--lang", "es", *option])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and "invalid" not in err
    assert not (tmp_path / "r").exists()
