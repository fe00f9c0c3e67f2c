"""Issue 14, classes 1-3: inputs are read-only, the results folder is written whole or not at
all, by one run at a time, and file-system faults end in one translated line (exit 3).

Every case asserts the message, the exit code, the inputs' SHA-256 (unchanged) and the state of
the output folder. The country is the small toy (``clrisk.data.toy``), maps off unless a case
is about them, so the module stays fast.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from _helpers import folder_digests

from clrisk import io as clrisk_io
from clrisk.cli import main
from clrisk.results.folder import ResultsFolder

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--quiet", "--no-maps", "--draws", "20"]



@pytest.fixture(scope="module")
def previous_result(toy_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete earlier run of the toy (copied into each test that needs one)."""
    out = tmp_path_factory.mktemp("prev") / "results"
    assert main(["run", "--profile", str(toy_template / "profile.yaml"), "--out", str(out),
                 *FAST]) == 0
    return out


@pytest.fixture
def toy(toy_template: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "data" / "toy"
    shutil.copytree(toy_template, dst)
    return dst


pytestmark = pytest.mark.usefixtures("english_messages")


def run(toy: Path, out: Path | str, *extra: str) -> int:
    return main(["run", "--profile", str(toy / "profile.yaml"), "--out", str(out), *FAST,
                 *extra])


def assert_complete(folder: Path) -> dict:
    """The folder holds exactly the files its manifest lists, with the recorded hashes."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    digests = folder_digests(folder, recursive=True)
    digests.pop("manifest.json")
    assert digests == manifest["outputs"]
    return manifest


def no_leftovers(parent: Path) -> None:
    hidden = [p.name for p in parent.iterdir() if ".clrisk-" in p.name]
    assert hidden == [], hidden


# --- 1. inputs are read-only ------------------------------------------------------------------
@pytest.mark.parametrize("where", ["data_dir", "inside", "parent", "input_file", "profile_file"])
def test_out_overlapping_an_input_is_refused(toy: Path, where: str, capsys) -> None:
    target = {"data_dir": toy, "inside": toy / "results", "parent": toy.parent,
              "input_file": toy / "territories.geojson",
              "profile_file": toy / "profile.yaml"}[where]
    before = folder_digests(toy.parent, recursive=True)
    assert run(toy, target) == 2
    err = capsys.readouterr().err
    assert "overlaps the input" in err and "never writes into its inputs" in err
    assert "Fix:" in err and "Traceback" not in err
    assert folder_digests(toy.parent, recursive=True) == before
    assert not (toy / "results").exists()


def test_out_through_a_symlink_into_the_data_is_refused(toy: Path, tmp_path: Path,
                                                        capsys) -> None:
    link = tmp_path / "link"
    link.symlink_to(toy, target_is_directory=True)
    before = folder_digests(toy, recursive=True)
    assert run(toy, link / "out") == 2
    assert "overlaps the input" in capsys.readouterr().err
    assert folder_digests(toy, recursive=True) == before


def test_out_overlapping_an_input_outside_the_data_folder(toy: Path, tmp_path: Path,
                                                          capsys) -> None:
    """A data file that lives elsewhere (files: {admin_records: ../x/admin.csv}) is an input
    too: an --out naming its folder is refused."""
    elsewhere = tmp_path / "shared"
    elsewhere.mkdir()
    shutil.move(toy / "admin_records.csv", elsewhere / "admin_records.csv")
    prof = yaml.safe_load((toy / "profile.yaml").read_text(encoding="utf-8"))
    prof["files"]["admin_records"] = "../../shared/admin_records.csv"
    (toy / "profile.yaml").write_text(yaml.safe_dump(prof), encoding="utf-8")
    before = folder_digests(elsewhere)
    assert run(toy, elsewhere) == 2
    assert "overlaps the input" in capsys.readouterr().err
    assert folder_digests(elsewhere) == before


# --- 2. whole-folder atomicity ------------------------------------------------------------------
def test_run_writes_a_complete_folder_with_manifest(toy: Path, tmp_path: Path) -> None:
    before = folder_digests(toy, recursive=True)
    out = tmp_path / "out"
    assert run(toy, out) == 0
    manifest = assert_complete(out)
    assert {"territories.csv", "ivti.csv", "model.json", "report.md"} <= set(manifest["outputs"])
    assert folder_digests(toy, recursive=True) == before
    assert set(manifest["inputs"]) >= {"profile.yaml", "survey.csv", "census.parquet"}
    assert manifest["inputs"]["survey.csv"] == before["survey.csv"]
    no_leftovers(tmp_path)


def test_rerun_without_ivti_leaves_no_ivti_file(toy: Path, tmp_path: Path,
                                                previous_result: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    assert (out / "ivti.csv").exists()
    prof = yaml.safe_load((toy / "profile.yaml").read_text(encoding="utf-8"))
    prof["instruments"] = ["risk_model"]
    (toy / "profile.yaml").write_text(yaml.safe_dump(prof), encoding="utf-8")
    assert run(toy, out) == 0
    manifest = assert_complete(out)
    assert not (out / "ivti.csv").exists() and "ivti.csv" not in manifest["outputs"]
    no_leftovers(tmp_path)


def test_stray_file_in_a_results_folder_does_not_survive(toy: Path, tmp_path: Path,
                                                         previous_result: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    (out / "map_old.png").write_bytes(b"old")
    assert run(toy, out) == 0
    assert not (out / "map_old.png").exists()
    assert_complete(out)


def test_non_results_folder_is_not_replaced(toy: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    assert run(toy, out) == 3
    err = capsys.readouterr().err
    assert "not a clrisk results folder" in err and "manifest.json" in err and "Fix:" in err
    assert folder_digests(out) == {"thesis.docx": folder_digests(out)["thesis.docx"]}
    assert (out / "thesis.docx").read_bytes() == b"precious"
    no_leftovers(tmp_path)


def test_empty_folder_is_used(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert run(toy, out) == 0
    assert_complete(out)


def test_leftovers_of_a_killed_run_are_cleaned(toy: Path, tmp_path: Path,
                                               previous_result: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    stale = tmp_path / ".out.clrisk-new-99999"
    stale.mkdir()
    (stale / "territories.csv").write_text("half")
    old = tmp_path / ".out.clrisk-old-99998"
    shutil.copytree(previous_result, old)
    assert run(toy, out) == 0
    assert_complete(out)
    no_leftovers(tmp_path)


def test_killed_between_the_two_renames_restores_the_previous_result(
        toy: Path, tmp_path: Path, previous_result: Path) -> None:
    """Target renamed aside, new folder not yet in: the next run puts the old one back first
    (and then replaces it as usual)."""
    old = tmp_path / ".out.clrisk-old-4242"
    shutil.copytree(previous_result, old)
    folder = ResultsFolder(tmp_path / "out")
    with folder:
        assert (tmp_path / "out" / "manifest.json").exists()
    assert_complete(tmp_path / "out")
    no_leftovers(tmp_path)


def test_second_run_into_a_locked_folder_is_refused(toy: Path, tmp_path: Path,
                                                    previous_result: Path, capsys) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    before = folder_digests(out)
    with ResultsFolder(out):
        assert run(toy, out) == 3
    err = capsys.readouterr().err
    assert "another clrisk run is writing into this folder" in err
    assert folder_digests(out) == before
    assert run(toy, out) == 0  # the lock is released with the first run
    no_leftovers(tmp_path)


def test_lock_file_is_removed_after_a_run(toy: Path, tmp_path: Path) -> None:
    assert run(toy, tmp_path / "out") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]


# --- property: an interruption at every write leaves the previous result or nothing -----------
class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def computed(toy_template: Path):
    """One computed run of the toy (the interruption tests only exercise the writing)."""
    import warnings

    from clrisk.data import load_country
    from clrisk.pipeline import run_country

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_country(toy_template / "profile.yaml")
        return data, run_country(data, draws=20)


@pytest.mark.parametrize("previous", [True, False])
def test_interruption_at_every_write(computed, tmp_path: Path, previous_result: Path,
                                     monkeypatch, previous: bool) -> None:
    from clrisk.results import write as results_write
    from clrisk.results import write_outputs

    def cheap_map(gdf, column, kind, lang, title, path, *args, **kwargs) -> list[Path]:
        """Same files and write points as a real map, without the rendering time."""
        out = []
        for ext in (".png", ".svg"):
            with clrisk_io.atomic_write(path.with_suffix(ext)) as fh:
                fh.write(f"{column} {kind}")
            out.append(path.with_suffix(ext))
        return out

    monkeypatch.setattr(results_write, "_map", cheap_map)
    real_hook = clrisk_io.before_write
    data, result = computed
    calls: list[Path] = []
    monkeypatch.setattr(clrisk_io, "before_write", lambda path: calls.append(path))
    write_outputs(result, data, tmp_path / "count", maps=True)
    monkeypatch.setattr(clrisk_io, "before_write", real_hook)
    n_writes = len(calls)
    assert n_writes >= 15  # tables, GeoPackage, five maps x PNG/SVG, report, manifest
    for n in range(n_writes):
        case = tmp_path / f"case{n}"
        case.mkdir()
        out = case / "out"
        if previous:
            shutil.copytree(previous_result, out)
        expected = folder_digests(out, recursive=True) if previous else None
        seen: list[Path] = []

        def stop_at_n(path: Path, n: int = n, seen: list = seen) -> None:
            seen.append(path)
            if len(seen) == n + 1:
                raise Interrupted(f"simulated interruption at write {n}")

        monkeypatch.setattr(clrisk_io, "before_write", stop_at_n)
        with pytest.raises(Interrupted):
            write_outputs(result, data, out, maps=True)
        monkeypatch.setattr(clrisk_io, "before_write", real_hook)
        if previous:
            assert folder_digests(out, recursive=True) == expected, n
            assert_complete(out)
        else:
            assert not out.exists(), n
        no_leftovers(case)
    write_outputs(result, data, tmp_path / "final", maps=True)  # and uninterrupted: complete
    assert_complete(tmp_path / "final")


def test_interruption_while_drawing_a_real_map(computed, tmp_path: Path,
                                               previous_result: Path, monkeypatch) -> None:
    from clrisk.results import write_outputs

    data, result = computed
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    expected = folder_digests(out)

    def stop_at_second_map(path: Path, seen: list = []) -> None:  # noqa: B006
        if Path(path).suffix in (".png", ".svg"):
            seen.append(path)
            if len(seen) == 3:
                raise Interrupted("while drawing maps")

    monkeypatch.setattr(clrisk_io, "before_write", stop_at_second_map)
    with pytest.raises(Interrupted):
        write_outputs(result, data, out, maps=True)
    assert folder_digests(out) == expected
    no_leftovers(tmp_path)


# --- 3. file-system faults ----------------------------------------------------------------------
def test_out_is_an_existing_file(toy: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "results.csv"
    target.write_text("a,b\n")
    assert run(toy, target) == 3
    err = capsys.readouterr().err
    assert "is an existing file, not a folder" in err and "Traceback" not in err
    assert target.read_text() == "a,b\n"


def test_out_below_an_existing_file(toy: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "results.csv"
    target.write_text("a,b\n")
    assert run(toy, target / "sub") == 3
    err = capsys.readouterr().err
    assert "results.csv" in err and "Fix:" in err and "Traceback" not in err
    assert target.read_text() == "a,b\n"


@pytest.mark.parametrize("code,words", [
    (errno.ENOSPC, "the disk is full"),
    (errno.EROFS, "read-only"),
    (errno.EACCES, "permission denied"),
])
def test_os_error_while_writing(toy: Path, tmp_path: Path, previous_result: Path, monkeypatch,
                                capsys, code: int, words: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    before = folder_digests(out)
    inputs = folder_digests(toy, recursive=True)
    seen = []

    def fail_on_third(path: Path) -> None:
        seen.append(path)
        if len(seen) == 3:
            raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(clrisk_io, "before_write", fail_on_third)
    assert run(toy, out) == 3
    err = capsys.readouterr().err.strip()
    assert words in err and str(out) in err and "Fix:" in err
    assert len(err.splitlines()) == 1
    assert folder_digests(out) == before
    assert folder_digests(toy, recursive=True) == inputs
    no_leftovers(tmp_path)


@pytest.mark.parametrize("code,words", [(errno.EACCES, "permission denied"),
                                        (errno.EROFS, "read-only")])
def test_unwritable_parent_folder(toy: Path, tmp_path: Path, monkeypatch, capsys, code: int,
                                  words: str) -> None:
    """The parent of --out cannot be written (root ignores chmod, so the OS refusal is
    simulated at the lock file, the first thing a run creates)."""
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if ".clrisk-lock" in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert run(toy, tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert words in err and "--out" in err
    assert not (tmp_path / "out").exists()


def test_os_error_message_in_spanish(toy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    def full(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(clrisk_io, "before_write", full)
    assert main(["run", "--profile", str(toy / "profile.yaml"), "--out",
                 str(tmp_path / "out"), *FAST, "--lang", "es"]) == 3
    err = capsys.readouterr().err
    assert "el disco está lleno" in err and "Solución" in err and "Fix" not in err


# --- real processes: kill -9 while writing, two concurrent runs --------------------------------
def _spawn(toy: Path, out: Path, delay: str, extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "CLRISK_TEST_WRITE_DELAY": delay, "PYTHONPATH": str(ROOT),
           **(extra or {})}
    return subprocess.Popen([sys.executable, "-m", "clrisk", "run", "--profile",
                             str(toy / "profile.yaml"), "--out", str(out), *FAST],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_staging(parent: Path, n_files: int, proc: subprocess.Popen,
                      timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        staging = [p for p in parent.iterdir() if ".clrisk-new-" in p.name]
        if staging and len([q for q in staging[0].iterdir() if not q.name.startswith(".")]) >= \
                n_files:
            return
        if proc.poll() is not None:
            pytest.fail(f"run ended before the kill: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    pytest.fail("the run never started writing")


@pytest.mark.parametrize("previous", [True, False])
def test_kill_9_while_writing(toy: Path, tmp_path: Path, previous_result: Path,
                              previous: bool) -> None:
    out = tmp_path / "out"
    if previous:
        shutil.copytree(previous_result, out)
    expected = folder_digests(out) if previous else None
    inputs = folder_digests(toy, recursive=True)
    proc = _spawn(toy, out, "0.4")
    try:
        _wait_for_staging(tmp_path, 3, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    if previous:
        assert folder_digests(out) == expected
        assert_complete(out)
    else:
        assert not out.exists()
    assert folder_digests(toy, recursive=True) == inputs
    # the next run cleans the killed run's staging folder and writes a complete result
    assert run(toy, out) == 0
    assert_complete(out)
    no_leftovers(tmp_path)


def test_two_concurrent_runs(toy: Path, tmp_path: Path) -> None:
    """The first run is held before its first write (it owns the folder); a second run into
    the same folder is refused at once; released, the first completes."""
    out = tmp_path / "out"
    hold = tmp_path / "hold"
    hold.write_text("")
    env = {"CLRISK_TEST_WRITE_HOLD": str(hold)}
    first = _spawn(toy, out, "0", env)
    try:
        _wait_for_staging(tmp_path, 0, first)
        second = _spawn(toy, out, "0")
        _o2, e2 = second.communicate(timeout=300)
    finally:
        hold.unlink()
        _o1, e1 = first.communicate(timeout=300)
    assert first.returncode == 0, e1
    assert second.returncode == 3, e2
    assert "another clrisk run is writing into this folder" in e2
    assert "Traceback" not in e2
    assert_complete(out)
    no_leftovers(tmp_path)


def test_sigterm_while_writing_removes_the_staging_folder(toy: Path, tmp_path: Path,
                                                          previous_result: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    expected = folder_digests(out)
    proc = _spawn(toy, out, "0.4")
    try:
        _wait_for_staging(tmp_path, 2, proc)
        proc.terminate()
    finally:
        _o, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "nothing was changed" in err
    assert folder_digests(out) == expected
    no_leftovers(tmp_path)


def test_results_folder_of_an_older_version_is_replaced(toy: Path, tmp_path: Path,
                                                        previous_result: Path) -> None:
    """A folder holding only files clrisk run writes (an older run, before manifests) is a
    results folder; one extra foreign file makes it not one."""
    out = tmp_path / "out"
    shutil.copytree(previous_result, out)
    (out / "manifest.json").unlink()
    assert run(toy, out) == 0
    assert_complete(out)
    (out / "manifest.json").unlink()
    (out / "budget.xlsx").write_bytes(b"team file")
    assert run(toy, out) == 3
    assert (out / "budget.xlsx").read_bytes() == b"team file"


def test_init_profile_out_is_a_folder(toy: Path, tmp_path: Path, capsys) -> None:
    before = folder_digests(toy, recursive=True)
    assert main(["init-profile", "--territories", str(toy / "territories.geojson"), "--out",
                 str(toy), "--force"]) == 2
    err = capsys.readouterr().err
    assert "--out is a folder" in err and "profile.yaml" in err
    assert folder_digests(toy, recursive=True) == before
