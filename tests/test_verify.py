"""Issue 15 item 6: ``manifest.json``, ``clrisk verify`` and ``clrisk --version``.

A fresh run verifies as identical file by file; changing one input byte makes verify name that
input; an output edited after the run is named; the manifest lists exactly the folder's files
and is byte-identical on a rerun.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _helpers import folder_digests

from clrisk.cli import main

FAST = ["--quiet", "--no-maps", "--draws", "20"]




pytestmark = pytest.mark.usefixtures("english_messages")


def _run(toy: Path, out: Path, *extra: str) -> None:
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), *FAST,
                 *extra]) == 0


def test_manifest_lists_exactly_the_folder_and_is_byte_identical(toy: Path,
                                                                 tmp_path: Path) -> None:
    _run(toy, tmp_path / "a")
    _run(toy, tmp_path / "b")
    a = (tmp_path / "a" / "manifest.json").read_bytes()
    assert a == (tmp_path / "b" / "manifest.json").read_bytes()
    doc = json.loads(a)
    files = folder_digests(tmp_path / "a", recursive=True)
    files.pop("manifest.json")
    assert doc["outputs"] == files
    assert folder_digests(tmp_path / "a") == folder_digests(tmp_path / "b")
    import clrisk

    assert doc["clrisk"]["version"] == clrisk.__version__
    assert {"python", "numpy", "pandas"} <= set(doc["versions"])
    assert doc["parameters"]["draws"] == 20 and doc["parameters"]["maps"] is False
    assert str(tmp_path / "a") not in a.decode()  # no output path: runs compare byte for byte


def test_verify_fresh_run_identical(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    _run(toy, out)
    before = folder_digests(out)
    inputs = folder_digests(toy, recursive=True)
    assert main(["verify", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Every file is identical" in text
    assert "✗" not in text and "territories.csv: identical" in text
    assert folder_digests(out) == before and folder_digests(toy, recursive=True) == inputs
    assert not [p for p in tmp_path.iterdir() if ".clrisk" in p.name]


def test_verify_names_a_changed_input(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    _run(toy, out)
    raw = bytearray((toy / "admin_records.csv").read_bytes())
    i = raw.rindex(b"0.")  # flip one digit of the last indicator value
    raw[i + 2] = ord("9") if raw[i + 2] != ord("9") else ord("1")
    (toy / "admin_records.csv").write_bytes(bytes(raw))
    assert main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "✗ input          admin_records.csv: different" in text
    assert "survey.csv: identical" in text
    assert "differ from the manifest" in text and "admin_records.csv" in text.splitlines()[-1]


def test_verify_names_an_edited_output(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    _run(toy, out)
    with (out / "report.md").open("a", encoding="utf-8") as fh:
        fh.write("edited\n")
    (out / "notes.txt").write_text("added later")
    assert main(["verify", "--no-rerun", str(out)]) == 1
    text = capsys.readouterr().out
    assert "report.md: different" in text and "notes.txt: extra" in text


def test_verify_a_folder_without_manifest(tmp_path: Path, capsys) -> None:
    (tmp_path / "x").mkdir()
    assert main(["verify", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "no manifest.json" in err and "Fix:" in err


def test_verify_in_spanish(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    _run(toy, out)
    assert main(["verify", "--no-rerun", str(out), "--lang", "es"]) == 0
    text = capsys.readouterr().out
    assert "idéntico" in text.lower() or "idénticos" in text
    assert "identical" not in text


def test_version(capsys) -> None:
    import clrisk

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"clrisk {clrisk.__version__}")


def test_manifest_holds_no_absolute_path(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    _run(toy, out)
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and "/tmp" not in text


def test_verify_after_moving_results_and_data(toy: Path, tmp_path: Path, capsys) -> None:
    """Folders copied elsewhere (another machine): verify finds the data with --data-dir."""
    out = tmp_path / "out"
    _run(toy, out)
    moved = tmp_path / "elsewhere"
    shutil.copytree(out, moved / "results")
    shutil.copytree(toy, moved / "mydata")
    assert main(["verify", str(moved / "results"), "--data-dir", str(moved / "mydata")]) == 0
    assert "Every file is identical" in capsys.readouterr().out


def test_verify_a_corrupted_manifest(tmp_path: Path, capsys) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "manifest.json").write_text("{bad", encoding="utf-8")
    assert main(["verify", str(tmp_path / "x"), "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert "JSON invalide (ligne 1)" in err and "Expecting" not in err
