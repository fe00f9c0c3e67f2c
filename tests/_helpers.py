"""Shared test helpers.

Why one place: several suites prove that raw inputs are never modified and that outputs are
byte-identical across runs; both compare the SHA-256 of every file in a folder.
"""

from __future__ import annotations

from pathlib import Path

from clrisk.reproduce import sha256_file


def folder_digests(folder: Path, recursive: bool = False) -> dict[str, str]:
    """SHA-256 of every file in ``folder`` keyed by its path relative to the folder."""
    files = folder.rglob("*") if recursive else folder.iterdir()
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(files) if p.is_file()}
