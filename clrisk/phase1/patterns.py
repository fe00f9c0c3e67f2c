"""Census streaming and pattern collapsing.

Why: every child with the same covariate vector in the same territory has the same predicted
probability. Collapsing the census once to a sparse (territory x covariate pattern) table of
counts makes every later step — delta-method CIs, factor counterfactuals, coefficient draws for
P(top level) — cost proportional to the number of distinct patterns, not to the number of
children, and lets those steps reuse the table without re-reading a 10-million-row file.

The census is either a DataFrame or a path to a Parquet file. A Parquet census is never loaded
whole: it is read with ``pyarrow.parquet.ParquetFile.iter_batches`` restricted to the columns
the model needs, and each batch is collapsed and added to a running sparse table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import scipy.sparse as sp

from clrisk.errors import DataError, data_error
from clrisk.schema import TERRITORY_ID

DEFAULT_BATCH_SIZE = 1_000_000
DEFAULT_MAX_PATTERNS = 2_000_000
SAMPLE_ROWS = 65_536
MAX_CELLS_PER_ROW = 0.3


class TooManyPatterns(Exception):
    """Raised internally when the census has more distinct covariate patterns than
    ``max_patterns`` (e.g. a truly continuous covariate); callers then fall back to exact
    per-territory sums accumulated row by row."""


@dataclass(frozen=True)
class Batch:
    """One slice of the census, already validated: global row offset, territory codes into
    ``territory_values`` (batch-local), covariate matrix and per-row weights (ones if none)."""

    offset: int
    territory_codes: np.ndarray
    territory_values: list[str]
    X: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class PatternTable:
    """A census collapsed to counts per (territory, covariate pattern).

    ``counts`` is a CSR matrix (territories x patterns) of summed census weights (children for a
    full count); ``patterns`` holds the distinct covariate vectors, sorted lexicographically;
    ``territory_ids`` are sorted strings. The table is model-free: any model whose covariates
    are a subset of ``covariates`` can be applied to it.
    """

    covariates: tuple[str, ...]
    territory_ids: np.ndarray
    patterns: np.ndarray
    counts: sp.csr_matrix
    n_rows: int
    weighted: bool
    source: str

    @property
    def children(self) -> np.ndarray:
        """N_t: children (sum of weights) per territory, aligned with ``territory_ids``."""
        return np.asarray(self.counts.sum(axis=1)).ravel()

    @property
    def n_patterns(self) -> int:
        return int(self.patterns.shape[0])

    def design(self, covariates: Sequence[str]) -> np.ndarray:
        """Pattern design matrix [1, x] for the model's covariates (order as given)."""
        missing = [c for c in covariates if c not in self.covariates]
        if missing:
            raise data_error(self.source, f"the pattern table lacks covariates {missing}",
                             "collapse the census with every covariate of the model")
        idx = [self.covariates.index(c) for c in covariates]
        return np.column_stack([np.ones(self.n_patterns), self.patterns[:, idx]])


def source_name(census: object) -> str:
    """How a census is named in error messages (its file name, or '<census>')."""
    if isinstance(census, (str, Path)):
        return str(Path(census).name)
    if isinstance(census, PatternTable):
        return census.source
    return "census"


def census_columns(census: pd.DataFrame | str | Path) -> list[str]:
    """Column names of a census without reading its rows (Parquet schema or DataFrame)."""
    if isinstance(census, pd.DataFrame):
        return [str(c) for c in census.columns]
    return list(open_parquet(census).schema_arrow.names)


def _unreadable(census: str | Path, exc: BaseException) -> Exception:
    return data_error(census, f"the Parquet file cannot be read ({type(exc).__name__}: {exc})",
                      "the file is truncated or corrupt: export the census again (check the "
                      "disk space and that the copy finished)")


def open_parquet(census: str | Path, **kwargs) -> pq.ParquetFile:
    """Open a Parquet census; a truncated or corrupt file is a DataError naming it."""
    try:
        return pq.ParquetFile(census, **kwargs)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(census, exc) from None


def _parquet_batches(census: str | Path, pf: pq.ParquetFile, **kwargs) -> Iterator:
    """``pf.iter_batches`` with read errors (a corrupt page) turned into a DataError."""
    it = pf.iter_batches(**kwargs)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise _unreadable(census, exc) from None
        yield batch


def _check_columns(census: pd.DataFrame | str | Path, needed: Sequence[str]) -> None:
    have = set(census_columns(census))
    missing = [c for c in needed if c not in have]
    if missing:
        raise data_error(
            source_name(census),
            f"missing column(s) {', '.join(repr(c) for c in missing)} needed by the model",
            "add these covariates to the census with the same definitions as in the survey, "
            "or map them in profile.yaml (mapping:), or drop them from the model",
        )


def _territory_codes(arr: pa.Array | pa.ChunkedArray, offset: int, src: str
                     ) -> tuple[np.ndarray, list[str]]:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        bad = np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)) + offset + 1
        raise data_error(src, "territory identifier is empty", "give every child the "
                         "territory_id of the territory where it lives", TERRITORY_ID, bad)
    if not pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.string())
        arr = pc.dictionary_encode(arr)
    codes = arr.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    values = [str(v) for v in arr.dictionary.to_pylist()]
    return codes, values


def _numeric(arr: pa.Array | pa.ChunkedArray | pd.Series, name: str, offset: int, src: str
             ) -> np.ndarray:
    try:
        if isinstance(arr, pd.Series):
            values = pd.to_numeric(arr, errors="raise").to_numpy(dtype=np.float64,
                                                                  na_value=np.nan)
        else:
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if arr.null_count == 0 and pa.types.is_integer(arr.type):
                return arr.to_numpy().astype(np.float64)  # integers without nulls: all finite
            values = arr.to_numpy(zero_copy_only=False).astype(np.float64)
    except (ValueError, TypeError, pa.ArrowInvalid) as exc:
        raise data_error(src, f"values are not numeric ({exc})",
                         "recode the column to numbers in profile.yaml (mapping:)", name) from None
    bad = ~np.isfinite(values)
    if bad.any():
        raise data_error(src, "missing or non-finite values", "impute or drop these children "
                         "before scoring (the model cannot score a child without covariates)",
                         name, np.flatnonzero(bad) + offset + 1)
    return values


def iter_census(census: pd.DataFrame | str | Path, covariates: Sequence[str], *,
                weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE
                ) -> Iterator[Batch]:
    """Yield validated batches of the census, reading only ``territory_id``, the covariates
    and the weight. Parquet files are streamed batch by batch (never loaded whole)."""
    k = len(covariates)
    for offset, codes, values, cols, w in iter_census_columns(census, covariates,
                                                              weight=weight,
                                                              batch_size=batch_size):
        n = len(codes)
        X = np.empty((n, k), dtype=np.float64, order="F")
        for j, col in enumerate(cols):
            X[:, j] = col  # integers are cast in place
        yield Batch(offset, codes, values, X, np.ones(n) if w is None else w)


def iter_census_columns(census: pd.DataFrame | str | Path, covariates: Sequence[str], *,
                        weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                        use_threads: bool = True) -> Iterator[tuple[int, np.ndarray, list[str], list[np.ndarray],
                                            np.ndarray | None]]:
    """Like :func:`iter_census` but without assembling a matrix: (row offset, territory
    codes, territory values, one validated 1-D array per covariate, weights or None).

    Why: integer Parquet columns without nulls are returned as zero-copy views in their
    stored type (e.g. int8, all finite by construction), so a consumer can lay them out as it
    needs (the row pass builds cache-sized C-ordered chunks) without an intermediate copy.
    ``use_threads=False`` decodes a Parquet file on the calling thread only (a background
    reader then leaves the other core to the work it runs beside)."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    covariates = list(covariates)
    src = source_name(census)
    needed = [TERRITORY_ID, *covariates] + ([weight] if weight else [])
    _check_columns(census, needed)
    if isinstance(census, pd.DataFrame):
        batches: Iterator = (census.iloc[i:i + batch_size] for i in range(0, len(census),
                                                                          batch_size))
    else:
        pf = open_parquet(census, read_dictionary=[TERRITORY_ID])
        batches = _parquet_batches(census, pf, batch_size=batch_size, columns=needed,
                                   use_threads=use_threads)
    offset = 0
    for chunk in batches:
        n = len(chunk)
        if n == 0:
            continue
        if isinstance(chunk, pd.DataFrame):
            tid = chunk[TERRITORY_ID]
            tarr = pa.array(tid.astype(object).where(tid.notna(), None), from_pandas=True)
            codes, values = _territory_codes(tarr, offset, src)
            cols = [chunk[c] for c in covariates]
            wcol = chunk[weight] if weight else None
        else:
            codes, values = _territory_codes(chunk.column(TERRITORY_ID), offset, src)
            cols = [chunk.column(c) for c in covariates]
            wcol = chunk.column(weight) if weight else None
        arrays = []
        for name, col in zip(covariates, cols, strict=True):
            if isinstance(col, pa.Array) and col.null_count == 0 and pa.types.is_integer(
                    col.type):
                arrays.append(col.to_numpy())  # integers without nulls: all finite
            else:
                arrays.append(_numeric(col, name, offset, src))
        w = None
        if wcol is not None:
            w = _numeric(wcol, weight, offset, src)
            if (w < 0).any():
                raise data_error(src, "negative census weights", "census weights must be "
                                 ">= 0", weight, np.flatnonzero(w < 0) + offset + 1)
        yield offset, codes, values, arrays, w
        offset += n
    if offset == 0:
        raise data_error(src, "the census has no rows", "check the census file and the "
                         "age filter in profile.yaml")


class _ColumnCoder:
    """Append-only global codes for the values of one covariate (stable across batches)."""

    def __init__(self, name: str, max_levels: int) -> None:
        self.name = name
        self.max_levels = max_levels
        self.index: dict[float, int] = {}

    @property
    def values(self) -> np.ndarray:
        return np.fromiter(self.index, dtype=np.float64, count=len(self.index))

    def _lookup(self, local_values: np.ndarray) -> np.ndarray:
        out = np.fromiter((self.index.setdefault(float(v), len(self.index))
                           for v in local_values), dtype=np.int64, count=len(local_values))
        if len(self.index) > self.max_levels:
            raise TooManyPatterns(f"covariate '{self.name}' has more than {self.max_levels} "
                                  "distinct values")
        return out

    def codes(self, v: np.ndarray) -> np.ndarray:
        """Global code of every value. Integer-valued columns with a short range use a lookup
        table (one pass, no hashing); other columns are factorised."""
        vmin, vmax = float(v.min()), float(v.max())
        if vmax - vmin < 65_536:
            iv = (v - vmin).astype(np.int64)
            if np.array_equal(iv + vmin, v):
                present = np.flatnonzero(np.bincount(iv))
                lut = np.zeros(int(vmax - vmin) + 1, dtype=np.int64)
                lut[present] = self._lookup(present + vmin)
                return lut[iv]
        local, uniques = pd.factorize(v)
        return self._lookup(np.asarray(uniques))[local]


def _shifts(coders: list[_ColumnCoder]) -> tuple[np.ndarray, int]:
    """Bit offset of each covariate's code in the packed pattern key, and the key width."""
    bits = [max(1, (len(c.index) - 1).bit_length()) for c in coders]
    if sum(bits) > 62:
        raise TooManyPatterns("covariate patterns do not fit a 62-bit key")
    shifts = np.concatenate([[0], np.cumsum(bits[:-1])]).astype(np.int64) if bits else \
        np.zeros(0, np.int64)
    return shifts, int(sum(bits))


def _keys(codes: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    key = np.zeros(codes.shape[0], dtype=np.int64)
    for j, sh in enumerate(shifts):
        key |= codes[:, j] << sh
    return key


DENSE_BITS = 24  # key spaces up to 2**24 use a dense look-up table (64 MB of int32)


class _PatternIndex:
    """Global pattern ids for packed keys, stable across batches.

    Why two modes: when the key space is small (the usual census: a dozen discrete covariates
    packing into ~20-24 bits) a dense look-up table maps every row's key to its id with one
    gather; otherwise new keys are kept in a sorted array searched with ``np.searchsorted``."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.code_parts: list[np.ndarray] = []
        self.n = 0
        self.shifts = np.zeros(k, dtype=np.int64)
        self.lut: np.ndarray | None = None
        self.sorted_keys = np.zeros(0, dtype=np.int64)
        self.sorted_ids = np.zeros(0, dtype=np.int64)

    def codes(self) -> np.ndarray:
        if len(self.code_parts) != 1:
            self.code_parts = [np.vstack(self.code_parts) if self.code_parts
                               else np.zeros((0, self.k), dtype=np.int64)]
        return self.code_parts[0]

    def rekey(self, shifts: np.ndarray, total_bits: int) -> None:
        self.shifts = shifts
        keys = _keys(self.codes(), shifts)
        if total_bits <= DENSE_BITS:
            self.lut = np.full(1 << total_bits, -1, dtype=np.int32)
            self.lut[keys] = np.arange(self.n, dtype=np.int32)
        else:
            self.lut = None
            self.sorted_ids = np.argsort(keys, kind="stable")
            self.sorted_keys = keys[self.sorted_ids]

    def ids(self, codes: np.ndarray) -> np.ndarray:
        """Global id of every row's pattern, registering patterns not seen before."""
        key = _keys(codes, self.shifts)
        if self.lut is not None:
            gid = self.lut[key]
            new_rows = np.flatnonzero(gid < 0)
            if len(new_rows):
                new_keys, first = np.unique(key[new_rows], return_index=True)
                self.lut[new_keys] = self.n + np.arange(len(new_keys), dtype=np.int32)
                self.code_parts.append(codes[new_rows[first]])
                self.n += len(new_keys)
                gid[new_rows] = self.lut[key[new_rows]]
            return gid.astype(np.int64)
        local, uniq = pd.factorize(key)
        pos = np.searchsorted(self.sorted_keys, uniq)
        found = pos < len(self.sorted_keys)
        found[found] = self.sorted_keys[pos[found]] == uniq[found]
        gid = np.full(len(uniq), -1, dtype=np.int64)
        gid[found] = self.sorted_ids[pos[found]]
        new = np.flatnonzero(~found)
        if len(new):
            first = np.empty(len(uniq), dtype=np.int64)
            first[local[::-1]] = np.arange(len(local) - 1, -1, -1)
            gid[new] = self.n + np.arange(len(new))
            self.code_parts.append(codes[first[new]])
            self.n += len(new)
            order = np.argsort(uniq[new])
            ins = np.searchsorted(self.sorted_keys, uniq[new][order])
            self.sorted_keys = np.insert(self.sorted_keys, ins, uniq[new][order])
            self.sorted_ids = np.insert(self.sorted_ids, ins, gid[new][order])
        return gid[local]


def collapse_census(census: pd.DataFrame | str | Path, covariates: Sequence[str], *,
                    weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                    max_patterns: int = DEFAULT_MAX_PATTERNS, max_levels: int = 4096,
                    progress=None) -> PatternTable:
    """Collapse the census to counts per (territory, covariate pattern), streaming batches.

    Each covariate value gets a global code; a pattern is the bit-packed vector of codes (an
    int64 key), so matching a batch's patterns to the patterns already seen is a vectorised
    hash look-up. Raises :class:`TooManyPatterns` when a covariate has more than
    ``max_levels`` distinct values or the census more than ``max_patterns`` patterns
    (collapsing would then not save work); :func:`score_territories` catches it and uses exact
    per-territory sums instead. ``progress`` is an optional callable receiving the number of
    rows processed after each batch (e.g. a tqdm ``update``).
    """
    covariates = tuple(covariates)
    src = source_name(census)
    terr_index: dict[str, int] = {}
    coders = [_ColumnCoder(c, max_levels) for c in covariates]
    index = _PatternIndex(len(covariates))
    total_bits = -1
    parts: list[sp.coo_matrix] = []
    n_rows = 0
    for batch in iter_census(census, covariates, weight=weight, batch_size=batch_size):
        tmap = np.fromiter((terr_index.setdefault(v, len(terr_index))
                            for v in batch.territory_values), dtype=np.int64,
                           count=len(batch.territory_values))
        codes = np.empty(batch.X.shape, dtype=np.int64, order="F")
        for j, coder in enumerate(coders):
            codes[:, j] = coder.codes(batch.X[:, j])
        shifts, bits = _shifts(coders)
        if bits != total_bits or not np.array_equal(shifts, index.shifts):
            total_bits = bits  # a covariate gained values: re-key the known patterns
            index.rekey(shifts, bits)
        gid = index.ids(codes)
        if index.n > max_patterns:
            raise TooManyPatterns(f"{src}: more than {max_patterns} covariate patterns")
        m = sp.csr_matrix((batch.weights, (tmap[batch.territory_codes], gid)),
                          shape=(len(terr_index), index.n))
        m.sum_duplicates()
        parts.append(m.tocoo())
        n_rows += len(batch.weights)
        if progress is not None:
            progress(len(batch.weights))
    pat_codes = index.codes()
    values = [c.values for c in coders]
    patterns = np.column_stack([values[j][pat_codes[:, j]] for j in range(len(coders))]) \
        if coders else np.zeros((len(pat_codes), 0))
    tids = np.array(list(terr_index), dtype=object)
    t_order = np.argsort(tids.astype(str), kind="stable")
    p_order = np.lexsort(patterns.T[::-1]) if patterns.shape[1] else np.arange(len(patterns))
    t_rank = np.empty_like(t_order)
    t_rank[t_order] = np.arange(len(t_order))
    p_rank = np.empty_like(p_order)
    p_rank[p_order] = np.arange(len(p_order))
    counts = sp.csr_matrix((np.concatenate([p.data for p in parts]),
                            (t_rank[np.concatenate([p.row for p in parts])],
                             p_rank[np.concatenate([p.col for p in parts])])),
                           shape=(len(tids), len(patterns)))
    counts.sum_duplicates()
    counts.eliminate_zeros()
    table = PatternTable(covariates, tids[t_order], patterns[p_order], counts, n_rows,
                         weight is not None, src)
    check_children(table.territory_ids, table.children, src)
    return table


def check_children(territory_ids: np.ndarray, children: np.ndarray, src: str) -> None:
    """A territory whose children sum to zero has no mean probability: name it."""
    zero = np.flatnonzero(children <= 0)
    if len(zero):
        names = ", ".join(str(territory_ids[i]) for i in zero[:5])
        more = f" (and {len(zero) - 5} more)" if len(zero) > 5 else ""
        raise data_error(src, f"territory {names}{more} has zero children (all census weights "
                         "are 0)", "drop the territory from the census or fix its weights",
                         TERRITORY_ID)


def as_pattern_table(census: PatternTable | pd.DataFrame | str | Path,
                     covariates: Sequence[str], *, weight: str | None = None,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     max_patterns: int = DEFAULT_MAX_PATTERNS) -> PatternTable:
    """Return ``census`` if it is already a PatternTable covering ``covariates``, else
    collapse it (raising :class:`TooManyPatterns` when collapsing would not pay)."""
    if isinstance(census, PatternTable):
        missing = [c for c in covariates if c not in census.covariates]
        if missing:
            raise data_error(census.source, f"the pattern table lacks covariates {missing}",
                             "collapse the census with every covariate of the model")
        return census
    return collapse_census(census, covariates, weight=weight, batch_size=batch_size,
                           max_patterns=max_patterns)


def choose_method(census: PatternTable | pd.DataFrame | str | Path, covariates: Sequence[str],
                  *, weight: str | None = None, max_patterns: int = DEFAULT_MAX_PATTERNS,
                  sample_rows: int = SAMPLE_ROWS, max_cells_per_row: float = MAX_CELLS_PER_ROW
                  ) -> tuple[str, PatternTable | None]:
    """Pick how to project the model: ``("patterns", table_or_None)`` or ``("rows", None)``.

    Why: collapsing to (territory x pattern) cells pays only when cells are far fewer than
    children; otherwise one streaming pass over the rows is cheaper (about the cost of
    reading). The distinct (territory, covariate vector) rows among the first ``sample_rows``
    rows are counted on row hashes (a few milliseconds): if they give fewer than
    ``max_cells_per_row`` cells per row, the census is collapsed.
    A census no larger than the sample is collapsed outright and its table returned (the
    results then do not depend on the row order, bit for bit). The sample is the start of the
    file: for a census not ordered by territory it sees fewer children per territory than the
    whole file and so overestimates the cells — the choice then errs towards the row pass,
    which is never slow.
    """
    if isinstance(census, PatternTable):
        return "patterns", census
    needed = [TERRITORY_ID, *covariates] + ([weight] if weight else [])
    _check_columns(census, needed)
    if isinstance(census, pd.DataFrame):
        total = len(census)
    else:
        pf = open_parquet(census, read_dictionary=[TERRITORY_ID])
        total = pf.metadata.num_rows
    if total <= sample_rows:
        try:
            return "patterns", collapse_census(census, covariates, weight=weight,
                                               max_patterns=max_patterns)
        except TooManyPatterns:
            return "rows", None
    try:
        if isinstance(census, pd.DataFrame):
            head = census.iloc[:sample_rows]
            tid = pa.array(head[TERRITORY_ID].astype(str).to_numpy(dtype=object))
            cols = [head[c].to_numpy(dtype=np.float64) for c in covariates]
        else:
            first = next(_parquet_batches(census, pf, batch_size=sample_rows, columns=needed))
            tid = first.column(TERRITORY_ID)
            cols = [np.asarray(first.column(c).to_numpy(zero_copy_only=False),
                               dtype=np.float64) for c in covariates]
        codes, _values = _territory_codes(tid, 0, source_name(census))
    except (DataError, ValueError, TypeError, pa.ArrowException):
        return "rows", None  # bad rows are reported by the pass over the file, naming it
    ratio = _distinct_rows(codes, cols) / max(1, len(codes))
    return ("patterns" if ratio < max_cells_per_row else "rows"), None


def _distinct_rows(codes: np.ndarray, cols: list[np.ndarray]) -> int:
    """Number of distinct (territory, covariate vector) rows, counted on 64-bit hashes of the
    rows (a multiply-xor mix of the values' bits; a collision only lowers the estimate by one
    in ~1e19 pairs, irrelevant for a compression ratio)."""
    h = codes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for c in cols:
        bits = np.ascontiguousarray(c + 0.0).view(np.uint64)  # + 0.0: -0.0 -> 0.0
        h ^= bits + np.uint64(0x632BE59BD9B4E019) + (h << np.uint64(6)) + (h >> np.uint64(2))
        h *= np.uint64(0xBF58476D1CE4E5B9)
    h.sort()
    return int(len(h) > 0) + int(np.count_nonzero(h[1:] != h[:-1]))
