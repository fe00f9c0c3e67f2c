"""A Parquet census kept in memory in its stored column types, read by a background thread.

Why: a run passes over the census several times (the small-area curves, the factor weights,
P(top) for the projection), and every Parquet pass decodes the file again — 0.3–0.4 s per pass
at 10 M children, the floor of every step. The small-area pass cannot start before the mixed
model is fitted (its curves need β̂), so the core that would wait for the fit decodes the
census into memory instead (``resolve_census(..., keep_in_memory=True)``, which counts the
territory totals from those same batches), and the passes after it read memory.

Stored types: an int8 covariate costs one byte per child (10 M children × 11 covariates:
110 MB), not the eight of the float64 rows each pass builds per block and then drops. A
census whose stored columns would exceed :data:`CACHE_BYTES` is not kept (every pass streams
it, as before), so memory stays bounded whatever the census.

Same numbers: the batches are the ones a streaming pass reads (same file, same batch size, same
validation) and the float64 rows are built from them the same way, so a pass over the cache
gives the same bytes as a pass over the file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Memory for a census kept in its stored types. Why 768 MB: the ceiling for a 10 M
# run is 2 GB, and a run's own peak without the cache is ~0.6 GB.
CACHE_BYTES = 768 * 2 ** 20


@dataclass(frozen=True)
class CachedBatch:
    """One validated census batch as :func:`~clrisk.phase1.patterns.iter_census_columns`
    gives it: territory codes into ``values`` (the batch's own territory ids), the covariate
    columns as stored (e.g. int8 views), weights or None."""

    codes: np.ndarray
    values: list[str]
    columns: list[np.ndarray]
    weights: np.ndarray | None


def read_batches(path: str | Path, covariates: list[str], weight: str | None,
                 batch_size: int) -> Callable[[], Iterator[CachedBatch]]:
    """The reader a :class:`CensusCache` runs: the file's validated batches, decoded on the
    reader's own thread (``use_threads=False``: measured at 10 M children beside the
    mixed-model fit, Arrow's thread pool slowed the fit more than it sped the read)."""
    from clrisk.phase1.patterns import iter_census_columns

    def read() -> Iterator[CachedBatch]:
        for _off, codes, values, arrays, w in iter_census_columns(
                path, covariates, weight=weight, batch_size=batch_size, use_threads=False):
            # codes index the batch's few territory values: the smallest integer type
            codes = codes.astype(np.min_scalar_type(max(len(values) - 1, 0)))
            for a in (codes, *arrays, *([] if w is None else [w])):
                a.flags.writeable = False  # shared by every pass: a write would be a bug
            yield CachedBatch(codes, values, arrays, w)

    return read


def stored_bytes(path: str | Path, columns: list[str], n_rows: int) -> int:
    """Bytes the cache would hold: each column's stored width (integers keep theirs, every
    other type becomes float64 when validated) plus 4 for the territory code, per row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    width = 4
    for name in columns:
        t = schema.field(name).type
        width += t.bit_width // 8 if pa.types.is_integer(t) else 8
    return width * n_rows


class CensusCache:
    """Batches appended by one reader thread; any number of passes follow it (a pass that
    starts before the reader is done waits for each next batch instead of reading the file).
    A reading error is raised in every pass that reaches it, as a streaming pass would."""

    def __init__(self, read: Callable[[], Iterator[CachedBatch]]) -> None:
        self._read = read
        self._items: list[CachedBatch] = []
        self._done = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._fill, name="census-cache", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        try:
            for item in self._read():
                with self._cond:
                    self._items.append(item)
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to every pass that reaches it
            with self._cond:
                self._error = exc
                self._cond.notify_all()
            return
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def __iter__(self) -> Iterator[CachedBatch]:
        i = 0
        while True:
            with self._cond:
                while i >= len(self._items) and not self._done and self._error is None:
                    self._cond.wait()
                if i < len(self._items):
                    item = self._items[i]
                elif self._error is not None:
                    raise self._error
                else:
                    return
            i += 1
            yield item
