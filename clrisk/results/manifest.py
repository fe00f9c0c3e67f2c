"""``manifest.json`` of a results folder: what produced it, from which bytes, with which code.

Why: a published risk map must be checkable months later. The manifest records the clrisk
version and git commit, Python and key package versions, the profile, seed, draws and methods,
and the SHA-256 of every input and of every other file in the folder (it lists exactly the
folder's files). It holds no date, user or temporary path, so two honest runs on the same
inputs write the same manifest byte for byte. ``clrisk verify`` re-runs from it.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clrisk.reproduce import FORMAT, package_versions, sha256_file

MANIFEST = "manifest.json"


@functools.cache
def git_commit() -> str | None:
    """The commit of the clrisk source tree when it is a git checkout (None otherwise).

    Cached per process: a run and its verification see the same value.
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def input_paths(data: Any) -> list[Path]:
    """The files a run reads: profile.yaml and every data file the profile lists."""
    profile = data.profile
    paths = [Path(profile.path)] if getattr(profile, "path", None) else []
    for kind in sorted(profile.files):
        path = profile.file(kind)
        if path is not None and Path(path).is_file():
            paths.append(Path(path))
    truth = Path(profile.root) / "truth.json"
    if truth.is_file() and truth not in paths:
        paths.append(truth)
    return sorted({p.resolve() for p in paths})


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def relative_to_results(path: Path, results: Path) -> str:
    """``path`` relative to the results folder (POSIX), so a published manifest does not
    disclose where the microdata live and two runs into sibling folders write the same bytes."""
    return Path(os.path.relpath(path.resolve(), results.resolve())).as_posix()


def resolve_recorded(recorded: str, results: Path) -> Path:
    """A path the manifest records (relative to the results folder, or absolute)."""
    p = Path(recorded)
    return p if p.is_absolute() else (results / p).resolve()


def build_run_manifest(data: Any, folder: Path, *, parameters: Mapping[str, Any],
                       methods: Mapping[str, Any], results: Path | None = None
                       ) -> dict[str, Any]:
    """The manifest of the files now in ``folder`` (every file except the manifest itself);
    ``results`` is where the folder ends up (paths to the inputs are relative to it)."""
    import clrisk

    profile = data.profile
    root = Path(profile.root).resolve()
    inputs = {_key(p, root): sha256_file(p) for p in input_paths(data)}
    outputs = {p.relative_to(folder).as_posix(): sha256_file(p)
               for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    return {
        "format": FORMAT,
        "clrisk": {"version": clrisk.__version__, "commit": git_commit()},
        "versions": package_versions(),
        "country": data.key,
        "profile": (relative_to_results(Path(profile.path), results or folder)
                    if profile.path else None),
        "input_root": relative_to_results(root, results or folder),
        "parameters": dict(parameters),
        "methods": dict(methods),
        "inputs": dict(sorted(inputs.items())),
        "outputs": dict(sorted(outputs.items())),
    }


def run_methods(data: Any) -> dict[str, Any]:
    """The method choices of a run, as the profile sets them (recorded for readers)."""
    profile = data.profile
    levels = dict(profile.risk_levels or {})
    ivti = dict(profile.ivti or {})
    return {
        "instruments": list(profile.instruments),
        "covariates": list(profile.covariates) if profile.has_risk_model else [],
        "model": "survey-weighted logit, Taylor-linearised design SEs (lonely_psu=adjust)",
        "risk_levels": {k: levels[k] for k in sorted(levels)},
        "ivti_weighting": ivti.get("weighting", "equal") if profile.has_ivti else None,
    }
