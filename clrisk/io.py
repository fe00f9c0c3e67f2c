"""Atomic output writing.

Why: an interrupted run must never leave a half-written file that looks complete. Every output
goes to a temporary file in the destination folder and is renamed into place (atomic on POSIX).
(A whole ``clrisk run`` folder is made atomic on top of this by :mod:`clrisk.results.folder`.)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def before_write(path: Path) -> None:
    """Called before every output file is written.

    Why a hook: the interruption tests must stop a run at *each* write (they replace this
    function) and kill a real process while it writes (``CLRISK_TEST_WRITE_DELAY`` = seconds
    to wait before each file, so the kill lands mid-run deterministically;
    ``CLRISK_TEST_WRITE_HOLD`` = a file whose existence holds the run before its next write, so
    a second run can be started while the first one certainly holds the folder). No effect
    otherwise.
    """
    delay = os.environ.get("CLRISK_TEST_WRITE_DELAY")
    if delay:
        time.sleep(float(delay))
    hold = os.environ.get("CLRISK_TEST_WRITE_HOLD")  # wait while this file exists
    while hold and os.path.exists(hold):
        time.sleep(0.05)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    Use for writers that want a filename (GeoPackage, matplotlib savefig, parquet).
    """
    path = Path(path)
    before_write(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # some writers (GDAL) refuse to overwrite an existing empty file
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[Any]:
    """Open a temporary file for writing; rename it onto ``path`` only if the block succeeds."""
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with open(tmp, mode, **kwargs) as fh:
            yield fh


def write_csv(df, path: str | Path, float_format: str = "%.6g") -> Path:
    """Deterministic CSV: no index, fixed float format, LF line endings."""
    with atomic_write(path) as fh:
        df.to_csv(fh, index=False, float_format=float_format, lineterminator="\n")
    return Path(path)


def write_json(obj: Any, path: str | Path) -> Path:
    """Deterministic JSON (sorted keys, 2-space indent, trailing newline)."""
    with atomic_write(path) as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    return Path(path)
