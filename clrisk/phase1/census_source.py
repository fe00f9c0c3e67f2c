"""One census source: the census resolved once, consumed by every estimator as blocks.

Why: scoring, classification, factor weights and the small-area estimator each used to
re-decide whether the census was a DataFrame, a Parquet path or a pattern table (and whether
to collapse it). :func:`resolve_census` makes that decision ONCE — collapsing to the
(territory x covariate pattern) table when that compresses (see
:func:`~clrisk.phase1.patterns.choose_method`), else streaming rows — and returns a
:class:`CensusSource`. Every estimator then loops over :meth:`CensusSource.blocks`: each block
holds territory codes (int index into ``territory_ids``), the raw covariate rows ``X`` and the
weights (census weights, or the counts of a pattern table). For a pattern table a block is a
slice of its nonzero (territory, pattern) cells, so every estimator costs O(cells), not
O(children); for a row-streamed census a block is one Parquet batch.

Design rows: the model may carry derived terms (interactions). :func:`design_matrix` builds
them in one place — with ``clrisk.phase1.terms.design_rows`` when that module exists, else
``[1, X]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.phase1.census_cache import (
    CACHE_BYTES,
    CachedBatch,
    CensusCache,
    read_batches,
    stored_bytes,
)
from clrisk.phase1.patterns import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_PATTERNS,
    PatternTable,
    TooManyPatterns,
    check_children,
    choose_method,
    collapse_census,
    iter_census,
    iter_census_columns,
    source_name,
)

CELLS_PER_BLOCK = 1_000_000


@dataclass(frozen=True)
class _Totals:
    codes: np.ndarray
    values: list[str]
    weights: np.ndarray | None


@dataclass(frozen=True)
class CensusBlock:
    """A slice of the census: ``territory_codes`` index ``CensusSource.territory_ids``; ``X``
    (rows x covariates, float) holds raw covariate values in ``CensusSource.covariates`` order;
    ``weights`` are children represented by each row (census weight, or pattern count)."""

    territory_codes: np.ndarray
    X: np.ndarray
    weights: np.ndarray

    @property
    def columns(self) -> list[np.ndarray]:
        """The covariate columns of ``X`` (views)."""
        return [self.X[:, j] for j in range(self.X.shape[1])]


class StoredBlock:
    """A census block read from memory (:mod:`clrisk.phase1.census_cache`): ``columns`` in
    their stored types (e.g. int8); ``X`` (float64 rows, as :class:`CensusBlock`) is built
    the first time a consumer asks for it. Why: a consumer that works column by column (the
    small-area pass) then never writes the eight-byte copy."""

    def __init__(self, territory_codes: np.ndarray, columns: list[np.ndarray],
                 weights: np.ndarray) -> None:
        self.territory_codes = territory_codes
        self.columns = columns
        self.weights = weights

    @cached_property
    def X(self) -> np.ndarray:  # noqa: N802 - the name CensusBlock gives it
        X = np.empty((len(self.territory_codes), len(self.columns)), dtype=np.float64,
                     order="F")
        for j, col in enumerate(self.columns):
            X[:, j] = col  # the cast iter_census makes
        return X


@dataclass
class CensusSource:
    """A census resolved once (see the module docstring).

    ``table`` is the pattern table when the census was collapsed, else None and ``raw`` (the
    DataFrame or Parquet path) is streamed by :meth:`blocks`."""

    covariates: tuple[str, ...]
    territory_ids: np.ndarray
    children: np.ndarray
    name: str
    weighted: bool
    n_rows: int
    table: PatternTable | None = None
    raw: Any = None
    weight: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    # census rows (sampled children) per territory, aligned with ``territory_ids``: kept for a
    # weighted census (a census SAMPLE), whose territory rates carry the sample's own error
    # (clrisk.phase1.census_error); None for a full count or a pattern table given as such
    rows: np.ndarray | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    # the census in memory (resolve_census(keep_in_memory=True); clrisk.phase1.census_cache)
    _cache: CensusCache | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = None  # a reader thread is not pickled: the copy streams its passes
        return state

    def column_batches(self) -> Iterator[tuple[np.ndarray, list[str], list[np.ndarray],
                                               np.ndarray | None]]:
        """A streamed census batch by batch as :func:`iter_census_columns` gives it
        (territory codes into the batch's ``values``, the covariate columns as stored,
        weights or None) — from memory when the census is kept there. For consumers that lay
        the columns out themselves (instrument 2's kernels)."""
        if self._cache is not None:
            for item in self._cache:
                yield item.codes, item.values, item.columns, item.weights
            return
        for _off, codes, values, cols, w in iter_census_columns(
                self.raw, list(self.covariates), weight=self.weight,
                batch_size=self.batch_size):
            yield codes, values, cols, w

    def _territory_index(self) -> dict[str, int]:
        if not self._index:
            self._index = {str(t): i for i, t in enumerate(self.territory_ids)}
        return self._index

    @property
    def method(self) -> str:
        """``"patterns"`` (collapsed table) or ``"rows"`` (streamed)."""
        return "patterns" if self.table is not None else "rows"

    @property
    def legacy(self) -> Any:
        """What older entry points accept: the pattern table, else the raw census."""
        return self.table if self.table is not None else self.raw

    @property
    def n_cells(self) -> int:
        """Rows an estimator touches per pass: nonzero cells, or census rows."""
        return int(self.table.counts.nnz) if self.table is not None else self.n_rows

    @staticmethod
    def _stored_block(item: CachedBatch, index: dict) -> StoredBlock:
        tmap = np.fromiter((index[v] for v in item.values), dtype=np.intp,
                           count=len(item.values))
        return StoredBlock(tmap[item.codes], item.columns,
                           np.ones(len(item.codes)) if item.weights is None else item.weights)

    @property
    def in_memory(self) -> bool:
        """True when the census rows are held in memory (``keep_in_memory``): a pass can
        then read its blocks from several threads (:meth:`blocks` ``part=``)."""
        return self._cache is not None

    def blocks(self, cells_per_block: int = CELLS_PER_BLOCK, part: tuple[int, int] | None = None
               ) -> Iterator[CensusBlock | StoredBlock]:
        """Yield the census as :class:`CensusBlock` s (pattern cells, or row batches).

        ``part=(i, n)``: only the blocks whose position is i modulo n (the same blocks
        ``enumerate(blocks())`` would number so), for n threads sharing one pass."""
        if part is not None and self._cache is None:
            i, n = part
            yield from (b for j, b in enumerate(self.blocks(cells_per_block)) if j % n == i)
            return
        covs = list(self.covariates)
        if self.table is not None:
            tab = self.table
            idx = [tab.covariates.index(c) for c in covs]
            coo = tab.counts.tocoo()
            order = np.lexsort((coo.col, coo.row))  # cells grouped by territory
            rows, cols, data = coo.row[order], coo.col[order], coo.data[order]
            for s in range(0, len(rows), cells_per_block):
                e = s + cells_per_block
                X = tab.patterns[cols[s:e]][:, idx] if idx else np.zeros((len(rows[s:e]), 0))
                yield CensusBlock(rows[s:e].astype(np.intp), np.asarray(X, dtype=np.float64),
                                  data[s:e].astype(np.float64))
            return
        if self._cache is not None:  # the batches in memory, as the file would give them
            index = self._territory_index()
            i, n = part or (0, 1)
            for j, item in enumerate(self._cache):
                if j % n == i:
                    yield self._stored_block(item, index)
            return
        index = self._territory_index()
        for b in iter_census(self.raw, covs, weight=self.weight, batch_size=self.batch_size):
            tmap = np.fromiter((index[v] for v in b.territory_values), dtype=np.intp,
                               count=len(b.territory_values))
            yield CensusBlock(tmap[b.territory_codes], b.X, b.weights)

    def positions(self, territory_ids: Sequence[str]) -> np.ndarray:
        """Index into ``territory_ids`` of each given id (-1 when absent)."""
        index = self._territory_index()
        return np.array([index.get(str(t), -1) for t in territory_ids], dtype=np.intp)


def design_matrix(model: Any, X: np.ndarray) -> np.ndarray:
    """Design rows of ``model`` for raw covariate rows ``X``: the derived terms of
    ``clrisk.phase1.terms.design_rows`` when that module provides them, else ``[1, X]``."""
    try:
        from clrisk.phase1 import terms  # type: ignore[attr-defined]
    except ImportError:
        terms = None
    fn = getattr(terms, "design_rows", None) if terms is not None else None
    if fn is not None and model is not None:
        return np.asarray(fn(model, X), dtype=np.float64)
    return np.column_stack([np.ones(X.shape[0]), X])


def _cacheable(raw: Any, covariates: Sequence[str], weight: str | None, max_bytes: int
               ) -> bool:
    """A Parquet census whose stored columns fit in ``max_bytes``."""
    if not isinstance(raw, (str, Path)) or max_bytes <= 0:
        return False
    import pyarrow.parquet as pq

    n_rows = pq.ParquetFile(raw).metadata.num_rows
    cols = list(covariates) + ([weight] if weight else [])
    return stored_bytes(raw, cols, n_rows) <= max_bytes


def _territory_totals(census: Any, weight: str | None, batch_size: int,
                      batches: Iterable[Any] | None = None
                      ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Sorted territory ids, children per territory, rows, and rows per territory, reading
    only the territory (and weight) columns — or from ``batches`` (a census cache being
    filled) when given, so the file is decoded once."""
    index: dict[str, int] = {}
    N = np.zeros(0)
    R = np.zeros(0)
    n_rows = 0
    if batches is None:
        batches = (_Totals(codes, values, w) for _off, codes, values, _cols, w in
                   iter_census_columns(census, [], weight=weight, batch_size=batch_size))
    for b in batches:
        codes, values, w = b.codes, b.values, b.weights
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp,
                           count=len(values))
        N = np.pad(N, (0, len(index) - len(N)))
        R = np.pad(R, (0, len(index) - len(R)))
        N += np.bincount(tmap[codes], weights=w, minlength=len(index))
        R += np.bincount(tmap[codes], minlength=len(index))
        n_rows += len(codes)
    tids = np.array(list(index), dtype=object).astype(str)
    order = np.argsort(tids, kind="stable")
    return tids[order].astype(object), N[order], n_rows, R[order]


def resolve_census(census: CensusSource | PatternTable | pd.DataFrame | str | Path,
                   covariates: Sequence[str], *, weight: str | None = None,
                   batch_size: int = DEFAULT_BATCH_SIZE,
                   max_patterns: int = DEFAULT_MAX_PATTERNS, method: str = "auto",
                   progress: Callable[[int], Any] | None = None,
                   keep_in_memory: bool = False) -> CensusSource:
    """Resolve a census (DataFrame, Parquet path or PatternTable) ONCE into a
    :class:`CensusSource`.

    ``method``: ``"auto"`` collapses when the census compresses (fewer than 0.3 cells per
    child on a sample of its start), ``"patterns"`` always collapses (falls back to rows when
    there are too many patterns), ``"rows"`` always streams. ``progress`` receives the rows
    read after each batch while collapsing. A :class:`CensusSource` is returned unchanged.

    ``keep_in_memory``: a streamed Parquet census that fits in
    :data:`~clrisk.phase1.census_cache.CACHE_BYTES` is read once, in its stored types, by a
    background thread; the territory totals are counted from those batches as they arrive
    and every later pass reads memory (see :mod:`clrisk.phase1.census_cache`)."""
    if isinstance(census, CensusSource):
        return census
    if method not in ("auto", "patterns", "rows"):
        raise ValueError(f"method must be 'auto', 'patterns' or 'rows', not {method!r}")
    covs = tuple(covariates)
    name = source_name(census)
    table: PatternTable | None = None
    if isinstance(census, PatternTable):
        table = census
        missing = [c for c in covs if c not in table.covariates]
        if missing:
            from clrisk.errors import data_error

            raise data_error(table.source, f"the pattern table lacks covariates {missing}",
                             "collapse the census with every covariate of the model")
    else:
        how = method
        if method == "auto":
            how, table = choose_method(census, covs, weight=weight, max_patterns=max_patterns)
        if table is None and how == "patterns":
            try:
                table = collapse_census(census, covs, weight=weight, batch_size=batch_size,
                                        max_patterns=max_patterns, progress=progress)
            except TooManyPatterns:
                table = None
    if table is not None:
        rows = None
        if table.weighted and weight is not None and not isinstance(census, PatternTable):
            # the collapsed counts are sums of weights: count the sampled rows per territory
            # (one more read of the territory column, census samples only)
            tids_r, _N, _n, R = _territory_totals(census, None, batch_size)
            rows = pd.Series(R, index=tids_r.astype(str)).reindex(
                table.territory_ids.astype(str)).fillna(0.0).to_numpy()
        return CensusSource(covs, table.territory_ids, table.children, name, table.weighted,
                            table.n_rows, table=table, raw=census, weight=weight,
                            batch_size=batch_size, rows=rows)
    cache = None
    if keep_in_memory and _cacheable(census, covs, weight, CACHE_BYTES):
        cache = CensusCache(read_batches(census, list(covs), weight, batch_size))
    tids, N, n_rows, R = _territory_totals(census, weight, batch_size, cache)
    check_children(tids, N, name)
    return CensusSource(covs, tids, N, name, weight is not None, n_rows, raw=census,
                        weight=weight, batch_size=batch_size,
                        rows=R if weight is not None else None, _cache=cache)
