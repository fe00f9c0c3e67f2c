"""Results cached on disk under a key of everything that determines them.

Why: the chapters (Phase I, Phase II, training) each need the same Phase I run of a country, and
the book executes them for nine countries and three languages. Computing it once per set of
input files and reusing it everywhere keeps the book build within its time budget without any
chapter holding results of its own. The key covers the data files (name, size, modification
time), the clrisk code and catalogs that compute the results, and the caller's parameters, so
any change recomputes. The cache lives in the user's clrisk cache (``$CLRISK_CACHE`` or
``~/.cache/clrisk``), never beside the inputs; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from clrisk.data.census_stream import cache_dir
from clrisk.io import atomic_path

T = TypeVar("T")

# The code whose change must invalidate a cached Phase I run (relative to the package).
_CODE = ("phase1/*.py", "phase2/inputs.py", "pipeline.py", "ivti.py", "data/*.py",
         "profile.py", "schema.py", "locales/*/LC_MESSAGES/*.po")


def cache_path(root: str | Path, kind: str, *params: Any) -> Path:
    """Where the result ``kind`` of the data folder ``root`` with ``params`` is kept."""
    import clrisk

    h = hashlib.sha256(f"{Path(root).resolve()}|{kind}|{params!r}".encode())
    for f in sorted(Path(root).iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    pkg = Path(clrisk.__file__).parent
    for f in sorted(p for pattern in _CODE for p in pkg.glob(pattern)):
        st = f.stat()
        h.update(f"{f.relative_to(pkg)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache_dir() / kind / f"{h.hexdigest()[:32]}.pkl"


def cached(path: Path | None, compute: Callable[[], T]) -> T:
    """The object pickled at ``path``, or ``compute()`` stored there (atomically).

    A corrupt or incompatible file is recomputed; a cache that cannot be written (read-only
    home, full disk) only costs the recomputation. ``path=None`` computes without caching.
    """
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 — any unreadable cache entry is just recomputed
            pass
    value = compute()
    if path is not None:
        try:
            with atomic_path(path) as tmp, tmp.open("wb") as fh:
                pickle.dump(value, fh)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass
    return value
