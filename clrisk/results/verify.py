"""Re-run a results folder from its manifest and say, file by file, whether it is reproduced.

Why: "is this published map what these data give?" should be answered by a command, not by
trust. :func:`verify_folder` re-hashes the inputs the manifest names (a changed input is named
at once), re-hashes the folder's files (a file edited after the run is named), then runs the
same profile with the recorded seed, draws, language and maps into a temporary folder and
compares every output with the recorded SHA-256.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.errors import DataError, ModelError, OutputError
from clrisk.i18n import _
from clrisk.reproduce import FORMAT, package_versions, sha256_file
from clrisk.results.manifest import MANIFEST

IDENTICAL, DIFFERENT, MISSING, EXTRA = "identical", "different", "missing", "extra"
COLUMNS = ["role", "file", "status", "recorded", "current"]


def read_run_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder, or a DataError saying why there is none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DataError(_("{folder}: no {manifest}, so this is not a folder written by "
                          "'clrisk run' (or it was written by an older version). Fix: give "
                          "the folder that 'clrisk run --out' wrote").format(
                              folder=folder, manifest=MANIFEST))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (_("line {line}").format(line=exc.lineno)
                 if isinstance(exc, json.JSONDecodeError) else "UTF-8")
        raise DataError(_("{file}: not valid JSON ({problem}). Fix: restore the manifest "
                          "written by 'clrisk run'").format(file=path, problem=where)) from exc
    if doc.get("format") != FORMAT or "outputs" not in doc or "profile" not in doc:
        raise DataError(_("{file}: not a clrisk run manifest. Fix: give the folder that "
                          "'clrisk run --out' wrote").format(file=path))
    return doc


def _status(recorded: str | None, current: str | None) -> str:
    if recorded is None:
        return EXTRA
    if current is None:
        return MISSING
    return IDENTICAL if recorded == current else DIFFERENT


def _input_path(doc: dict[str, Any], key: str, root: Path) -> Path:
    p = Path(key)
    return p if p.is_absolute() else root / key


def verify_folder(folder: str | Path, *, rerun: bool = True, data_dir: str | Path | None = None
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Rows (role, file, status, recorded, current) for every input, every file in the
    folder and every re-run output; plus notes (version differences, a re-run that failed).

    ``role`` is ``input`` (data the manifest names), ``folder`` (files now in ``folder``) or
    ``rerun`` (outputs of the fresh run). ``status`` is identical / different / missing /
    extra. ``data_dir``: where the inputs are now, when the results folder or the data were
    moved (default: the place the manifest records, relative to ``folder``).
    """
    from clrisk.pipeline import run
    from clrisk.results.manifest import resolve_recorded

    folder = Path(folder)
    doc = read_run_manifest(folder)
    root = Path(data_dir).resolve() if data_dir else resolve_recorded(doc["input_root"], folder)
    profile = (root / Path(doc["profile"]).name if data_dir
               else resolve_recorded(doc["profile"], folder))
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for key, recorded in doc["inputs"].items():
        path = _input_path(doc, key, root)
        current = sha256_file(path) if path.is_file() else None
        rows.append({"role": "input", "file": key, "status": _status(recorded, current),
                     "recorded": recorded, "current": current})
    present = {p.relative_to(folder).as_posix(): sha256_file(p)
               for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    for key in sorted(set(doc["outputs"]) | set(present)):
        recorded, current = doc["outputs"].get(key), present.get(key)
        rows.append({"role": "folder", "file": key, "status": _status(recorded, current),
                     "recorded": recorded, "current": current})
    now = package_versions()
    for name, version in sorted(doc.get("versions", {}).items()):
        if now.get(name) != version:
            notes.append(_("{package}: recorded {old}, installed {new}").format(
                package=name, old=version, new=now.get(name)))
    if rerun:
        params = doc.get("parameters", {})
        tmp = Path(tempfile.mkdtemp(prefix="clrisk-verify-"))
        try:
            out = tmp / "out"
            kwargs = {k: params[k] for k in ("draws", "seed") if params.get(k) is not None}
            run(profile, out, lang=params.get("lang", "en"),
                maps=bool(params.get("maps", True)), **kwargs)
            fresh = read_run_manifest(out)["outputs"]
            for key in sorted(set(doc["outputs"]) | set(fresh)):
                recorded, current = doc["outputs"].get(key), fresh.get(key)
                rows.append({"role": "rerun", "file": key, "status": _status(recorded, current),
                             "recorded": recorded, "current": current})
        except (DataError, ModelError, OutputError) as exc:
            notes.append(_("the re-run failed: {problem}").format(problem=exc))
            rows.append({"role": "rerun", "file": "*", "status": DIFFERENT,
                         "recorded": None, "current": None})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return pd.DataFrame(rows, columns=COLUMNS), notes
