"""Exact Shapley values over the modifiable factors, the census-scale fast path.

Used by :func:`clrisk.phase1.factors_shapley.accumulate` for the point estimate when every
factor enters the linear predictor through its own column only (``additive_mode`` is
``"direct"``). It computes the same quantities as the general kernel — for each child the
2^a counterfactual probabilities over the a factors it can move, weighted by the Shapley
matrix — in float64 throughout, and differs from it only in how the work is laid out:

* a row-streamed census is read column by column in its stored types (int8 for most
  census variables), so no float64 copy of the census is ever made; η is accumulated one
  column at a time;
* children are grouped by the set of factors they can move (a radix sort on a small
  integer) and each group is processed in chunks whose 2^a counterfactuals fit in the core's
  cache, so the products, the reciprocal and the Shapley weighting (one BLAS product) run
  on cache-resident arrays;
* exp(−β_j (r_j − x_j)) is looked up in a 256-entry table for 8-bit columns (bit-identical
  to computing it child by child);
* territory sums are taken over runs of equal territory codes (a census ordered by
  geography has few runs per group), with ``np.bincount`` for the runs, instead of one
  weighted ``bincount`` per factor over every child;
* blocks are computed on two threads (NumPy releases the GIL) while a third reads ahead,
  and their sums are added in block order, so results never depend on timing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

# Elements (subsets x children) of one chunk of a group: 2^17 float64 = 1 MiB, in L2 cache.
CHUNK_ELEMENTS = 1 << 17
MIN_ROWS = 1_000_000  # rows per block: fixed costs per group are paid once per block
ENABLED = True  # False: the general kernel only (the tests compare both)
WORKERS = 2  # blocks computed at once (the machine's cores; the reader runs alongside)


@dataclass(frozen=True)
class ColumnBlock:
    """Census rows as one 1-D array per raw covariate (stored dtype kept), territory codes
    and weights (None: every row is one child)."""

    codes: np.ndarray
    columns: list[np.ndarray]
    weights: np.ndarray | None

    def matrix(self) -> np.ndarray:
        """The float64 rows (for callbacks that need them, e.g. the markers)."""
        X = np.empty((len(self.codes), len(self.columns)), dtype=np.float64, order="F")
        for j, c in enumerate(self.columns):
            X[:, j] = c
        return X


def column_blocks(source: Any, min_rows: int | None = None) -> Iterator[ColumnBlock]:
    """Blocks of at least ``min_rows`` (default :data:`MIN_ROWS`) rows of a census source
    (or an iterable of blocks with ``territory_codes``, ``X``, ``weights``), columns in
    their stored types."""
    min_rows = MIN_ROWS if min_rows is None else min_rows
    raw = getattr(source, "raw", None)
    if hasattr(source, "blocks") and getattr(source, "table", None) is None and \
            raw is not None:
        yield from _parquet_blocks(source, min_rows)
        return
    from clrisk.phase1.factors_shapley import coalesce

    blocks = source.blocks() if hasattr(source, "blocks") else source
    for b in coalesce(blocks, min_rows):
        X = np.asarray(b.X, dtype=np.float64)
        yield ColumnBlock(np.asarray(b.territory_codes, dtype=np.intp),
                          [X[:, j] for j in range(X.shape[1])],
                          np.asarray(b.weights, dtype=np.float64))


def _parquet_blocks(source: Any, min_rows: int) -> Iterator[ColumnBlock]:
    from clrisk.phase1.patterns import iter_census_columns

    covs = list(source.covariates)
    index = {str(t): i for i, t in enumerate(source.territory_ids)}
    parts: list[tuple[np.ndarray, list[np.ndarray], np.ndarray | None]] = []
    n = 0
    for _off, c, values, cols, wt in iter_census_columns(source.raw, covs,
                                                          weight=source.weight,
                                                          batch_size=source.batch_size):
        tmap = np.fromiter((index[v] for v in values), dtype=np.intp, count=len(values))
        parts.append((tmap[c], list(cols), None if wt is None else np.asarray(wt, float)))
        n += len(c)
        if n >= min_rows:
            yield _join(parts)
            parts, n = [], 0
    if parts:
        yield _join(parts)


def _join(parts: list[tuple[np.ndarray, list[np.ndarray], np.ndarray | None]]
          ) -> ColumnBlock:
    if len(parts) == 1:
        codes, cols, w = parts[0]
        return ColumnBlock(codes, [np.asarray(c) for c in cols], w)
    codes = np.concatenate([p[0] for p in parts])
    cols = [np.concatenate([np.asarray(p[1][j]) for p in parts]) for j in range(len(parts[0][1]))]
    if all(p[2] is None for p in parts):
        w = None
    else:
        w = np.concatenate([np.ones(len(p[0])) if p[2] is None else p[2] for p in parts])
    return ColumnBlock(codes, cols, w)


@dataclass
class _Partial:
    """One block's sums: (k + 2, T) rows = k Shapley reductions, base, all moved; (k, T)
    children moved; factor ranges."""

    acc: np.ndarray
    moved: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


class DirectKernel:
    """The point estimate's exact Shapley sums for factors that act on their own column.

    ``beta`` (1 + raw covariates,) coefficients in raw-column order (``const`` first, 0 for
    raw columns not in the model); ``effects`` optional (T,) territory effects."""

    def __init__(self, specs: Sequence[Any], beta: np.ndarray, n_territories: int,
                 effects: np.ndarray | None = None) -> None:
        from clrisk.phase1.factors_shapley import shapley_matrix

        self.specs = list(specs)
        self.beta = np.asarray(beta, dtype=np.float64)
        self.T = n_territories
        self.effects = effects
        k = len(self.specs)
        self.k = k
        # W^T per a, C-contiguous, for the (a x 2^a) @ (2^a x m) product
        self.WT = [np.ascontiguousarray(shapley_matrix(a).T) for a in range(k + 1)]
        u = np.arange(256)
        v = np.where(u < 128, u, u - 256).astype(np.float64)  # int8 value of each byte
        self.tab8, self.tabu8 = [], []  # exp(−d_j) per byte value of an int8/uint8 column
        for f in self.specs:
            b = self.beta[1 + f.column]
            self.tab8.append(np.exp(-((f.reference - v) * b)))
            self.tabu8.append(np.exp(-((f.reference - u.astype(np.float64)) * b)))

    def block(self, blk: ColumnBlock, p_out: np.ndarray | None = None) -> _Partial:
        """Sums of one block (thread-safe: touches only its own arrays)."""
        k, T, specs = self.k, self.T, self.specs
        codes, cols, w = blk.codes, blk.columns, blk.weights
        n = len(codes)
        acc = np.zeros((k + 2, T))
        moved = np.zeros((k, T))
        lo = np.array([float(cols[f.column].min()) for f in specs])
        hi = np.array([float(cols[f.column].max()) for f in specs])
        eta = np.full(n, self.beta[0])
        tmp = np.empty(n)
        for j, col in enumerate(cols):
            b = self.beta[1 + j]
            if b != 0.0:
                tmp[:] = col
                tmp *= b
                eta += tmp
        if self.effects is not None:
            eta += self.effects[codes]
        e0 = np.exp(-eta, out=eta)
        p = np.add(e0, 1.0, out=tmp)
        np.reciprocal(p, out=p)
        if p_out is not None:
            p_out[:] = p
        _add_runs(acc, [k], codes, p[None, :], w)
        sig = np.zeros(n, dtype=np.uint16 if k > 8 else np.uint8)
        for j, f in enumerate(specs):
            x = cols[f.column]
            side = x > f.reference if f.role == "risk" else x < f.reference
            sig |= side.view(np.uint8).astype(sig.dtype, copy=False) << j
        order = np.argsort(sig, kind="stable")  # radix sort on a small integer
        count = np.bincount(sig, minlength=1 << k)
        bounds = np.concatenate([[0], np.cumsum(count)])
        for s in np.flatnonzero(count).tolist():
            members = [j for j in range(k) if (s >> j) & 1]
            self._group(members, order[bounds[s]:bounds[s + 1]], codes, cols, w, e0, acc,
                        moved)
        return _Partial(acc, moved, lo, hi)

    def _group(self, members: list[int], rows_all: np.ndarray, codes: np.ndarray,
               cols: list[np.ndarray], w: np.ndarray | None, e0: np.ndarray,
               acc: np.ndarray, moved: np.ndarray) -> None:
        """Children who can move exactly ``members``: 2^a counterfactuals, in chunks."""
        a = len(members)
        k = self.k
        WT = self.WT[a]
        out_rows = [*members, k + 1]
        step = max(1024, CHUNK_ELEMENTS >> a)
        for lo in range(0, len(rows_all), step):
            rows = rows_all[lo:lo + step]
            m = len(rows)
            E = np.empty((1 << a, m))
            np.take(e0, rows, out=E[0])
            for i, j in enumerate(members):  # subsets with bit i: those without, times e_j
                f = self.specs[j]
                x = cols[f.column][rows]
                tab = self.tab8[j] if x.dtype == np.int8 else \
                    self.tabu8[j] if x.dtype == np.uint8 else None
                if tab is not None:
                    ej = tab[x.view(np.uint8)]
                else:
                    ej = np.exp(-((f.reference - x.astype(np.float64, copy=False))
                                  * self.beta[1 + f.column]))
                half = 1 << i
                np.multiply(E[:half], ej, out=E[half:2 * half])
            E += 1.0
            P = np.reciprocal(E, out=E)
            V = np.empty((a + 1, m))
            if a:
                np.matmul(WT, P, out=V[:a])
                np.negative(V[:a], out=V[:a])
            V[a] = P[-1]
            cg = codes[rows]
            wg = None if w is None else w[rows]
            runs = _add_runs(acc, out_rows, cg, V, wg)
            if a:
                cnt = runs[0] if wg is None else np.add.reduceat(wg, runs[1])
                _scatter(moved, members, runs[2], cnt[None, :].repeat(a, axis=0)
                         if a > 1 else cnt[None, :])


def _add_runs(acc: np.ndarray, rows: list[int], codes: np.ndarray, V: np.ndarray,
              w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """acc[rows[r], t] += Σ over children of territory t of (w ·) V[r]; summed over runs of
    equal codes first. Returns (run lengths, run starts, run codes)."""
    m = len(codes)
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    if w is not None:
        V = V * w[None, :]
    S = np.add.reduceat(V, starts, axis=1) if m else np.zeros((len(V), 0))
    u = codes[starts]
    _scatter(acc, rows, u, S)
    lengths = np.diff(np.concatenate([starts, [m]])).astype(np.float64)
    return lengths, starts, u


def _scatter(acc: np.ndarray, rows: list[int], u: np.ndarray, S: np.ndarray) -> None:
    """acc[rows[r], u[i]] += S[r, i]; codes in ``u`` may repeat (unsorted census)."""
    if len(u) < 2 or bool(np.all(u[1:] > u[:-1])):
        acc[np.ix_(rows, u)] += S
    else:
        T = acc.shape[1]
        for r, row in enumerate(rows):
            acc[row] += np.bincount(u, weights=S[r], minlength=T)


def run(kernel: DirectKernel, blocks: Iterable[ColumnBlock], out: Any,
        on_block: Any = None) -> None:
    """Compute every block (two at a time, the next ones read in the background) and add
    their sums into ``out`` (a :class:`~clrisk.phase1.factors_shapley.Sums`) in block
    order."""
    from clrisk.phase1.rowpass import prefetched

    k = kernel.k

    def one(blk: ColumnBlock) -> tuple[_Partial, ColumnBlock, np.ndarray | None]:
        p = np.empty(len(blk.codes)) if on_block is not None else None
        return kernel.block(blk, p), blk, p

    def add(res: tuple[_Partial, ColumnBlock, np.ndarray | None]) -> None:
        part, blk, p = res
        out.shapley[:, :, 0] += part.acc[:k].T
        out.base[:, 0] += part.acc[k]
        out.all[:, 0] += part.acc[k + 1]
        out.moved += part.moved.T
        np.minimum(out.lo, part.lo, out=out.lo)
        np.maximum(out.hi, part.hi, out=out.hi)
        if on_block is not None:
            w = np.ones(len(blk.codes)) if blk.weights is None else blk.weights
            on_block(blk.codes, blk.matrix(), w, p)

    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        for blk in prefetched(blocks, depth=1):
            if not len(blk.codes):
                continue
            pending.append(ex.submit(one, blk))
            while len(pending) >= WORKERS:
                add(pending.popleft().result())
        while pending:
            add(pending.popleft().result())
