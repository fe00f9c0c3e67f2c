"""A manifest that lets anyone check a published map was produced from given data and code.

Why: a country team publishes a risk map; months later someone asks "is this the map the data
give?". The manifest records the SHA-256 of every input and output file and the versions of
Python and the packages that produced them. Re-running on the same inputs and comparing
checksums (:func:`verify_manifest`, :func:`compare_manifests`) answers the question without
trusting anybody. The manifest holds no date or machine name, so two honest runs produce the
same manifest byte for byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.io import write_json

FORMAT = "clrisk.manifest/1"
PACKAGES = ("clrisk", "numpy", "pandas", "scipy", "statsmodels", "geopandas", "shapely",
            "pyproj", "matplotlib", "mapclassify", "pyarrow", "babel")


# File formats that stamp the time of writing, and how to pin it: GDAL writes the current date
# into a GeoPackage's metadata tables unless OGR_CURRENT_DATE is set; SOURCE_DATE_EPOCH is the
# reproducible-builds convention that several writers honour.
FIXED_ENV = {"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z", "SOURCE_DATE_EPOCH": "946684800"}


@contextlib.contextmanager
def reproducible_environment(env: Mapping[str, str] = FIXED_ENV) -> Iterator[None]:
    """Within the block, writers that embed a timestamp use a fixed one, so two runs on the
    same inputs write the same bytes (previous values are restored afterwards)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (read in chunks: census files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` plus Python ("not installed" when absent)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _files(paths: Iterable[str | Path], root: Path | None) -> dict[str, str]:
    """{relative path: sha256} for files (folders are expanded recursively, sorted)."""
    out: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        items = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for q in items:
            key = q.relative_to(root).as_posix() if root and q.is_relative_to(root) else q.name
            out[key] = sha256_file(q)
    return dict(sorted(out.items()))


def build_manifest(inputs: Iterable[str | Path], outputs: Iterable[str | Path], *,
                   input_root: str | Path | None = None, output_root: str | Path | None = None,
                   parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Manifest dict: format, parameters of the run, package versions, and the SHA-256 of each
    input and output file, keyed by path relative to ``input_root`` / ``output_root``."""
    return {
        "format": FORMAT,
        "parameters": dict(parameters or {}),
        "versions": package_versions(),
        "inputs": _files(inputs, Path(input_root) if input_root else None),
        "outputs": _files(outputs, Path(output_root) if output_root else None),
    }


def write_manifest(manifest: Mapping[str, Any], path: str | Path) -> Path:
    """Write the manifest as deterministic JSON (sorted keys), atomically."""
    return write_json(dict(manifest), path)


def read_manifest(path: str | Path) -> dict[str, Any]:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"{Path(path).name}: not a clrisk manifest (format {doc.get('format')!r})")
    return doc


def verify_manifest(manifest: Mapping[str, Any], input_root: str | Path,
                    output_root: str | Path) -> pd.DataFrame:
    """Re-hash the files a manifest lists; one row per file with ``role``, ``file``,
    ``recorded``, ``current`` (None if the file is gone) and ``identical``."""
    rows = []
    for role, root in (("input", Path(input_root)), ("output", Path(output_root))):
        for name, recorded in manifest[role + "s"].items():
            path = root / name
            current = sha256_file(path) if path.is_file() else None
            rows.append({"role": role, "file": name, "recorded": recorded, "current": current,
                         "identical": current == recorded})
    return pd.DataFrame(rows, columns=["role", "file", "recorded", "current", "identical"])


def compare_manifests(first: Mapping[str, Any], second: Mapping[str, Any]) -> pd.DataFrame:
    """File-by-file comparison of two runs' manifests (inputs and outputs)."""
    rows = []
    for role in ("inputs", "outputs"):
        names = sorted(set(first[role]) | set(second[role]))
        for name in names:
            a, b = first[role].get(name), second[role].get(name)
            rows.append({"role": role[:-1], "file": name, "first": a, "second": b,
                         "identical": a is not None and a == b})
    return pd.DataFrame(rows, columns=["role", "file", "first", "second", "identical"])


def input_files(root: str | Path, files: Mapping[str, Any]) -> list[Path]:
    """Existing data files a profile lists (``Profile.files``), plus profile.yaml itself."""
    root = Path(root)
    out = [root / "profile.yaml"] if (root / "profile.yaml").is_file() else []
    for entry in files.values():
        rel = entry if isinstance(entry, str) else (entry or {}).get("path")
        if rel and (root / rel).is_file():
            out.append(root / rel)
    return sorted(set(out))
