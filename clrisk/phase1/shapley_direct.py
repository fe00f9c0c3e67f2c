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
  to computing it child by child), and is a single number for a 0/1 factor (every child on
  its risk side has the same value);
* territory sums are taken over runs of equal territory codes (a census ordered by
  geography has few runs per group), with one ``np.bincount`` of the run sums per block,
  instead of one weighted ``bincount`` per factor over every child;
* work arrays are reused from block to block (the first touch of a fresh multi-megabyte
  array costs as much as the arithmetic on it), and BLAS runs on one thread (its own
  threads spin on these small products);
* blocks are computed on two threads (NumPy releases the GIL) while a third reads ahead,
  and their sums are added in block order, so results never depend on timing.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

# Elements (subsets x children) of one chunk of a group: 2^17 float64 = 1 MiB, in L2 cache.
CHUNK_ELEMENTS = 1 << 17
MIN_ROWS = 500_000  # rows per block: fixed costs per group are paid once per block
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
    index = {str(t): i for i, t in enumerate(source.territory_ids)}
    parts: list[tuple[np.ndarray, list[np.ndarray], np.ndarray | None]] = []
    n = 0
    for c, values, cols, wt in source.column_batches():  # from memory when kept there
        # 32-bit codes: half the memory traffic when the block is reordered
        tmap = np.fromiter((index[v] for v in values), dtype=np.int32, count=len(values))
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
    moved: np.ndarray  # (k, T)
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
        # −W^T per a, C-contiguous: reductions = (−W^T) @ P, one (a x 2^a) @ (2^a x m)
        # product (negating W is exact: the same bits as negating the product)
        self.WT = [np.ascontiguousarray(-shapley_matrix(a).T) for a in range(k + 1)]
        self._local = threading.local()
        u = np.arange(256)
        v = np.where(u < 128, u, u - 256).astype(np.float64)  # int8 value of each byte
        self.tab8, self.tabu8 = [], []  # exp(−d_j) per byte value of an int8/uint8 column
        for f in self.specs:
            b = self.beta[1 + f.column]
            self.tab8.append(np.exp(-((f.reference - v) * b)))
            self.tabu8.append(np.exp(-((f.reference - u.astype(np.float64)) * b)))

    def _buffer(self, name: str, n: int, dtype: Any) -> np.ndarray:
        """A work array of this thread, reused from block to block (fresh pages of a new
        multi-megabyte array cost about as much as the arithmetic done on them)."""
        bufs = self._local.__dict__.setdefault("bufs", {})
        b = bufs.get(name)
        if b is None or len(b) < n or b.dtype != dtype:
            b = bufs[name] = np.empty(max(n, MIN_ROWS), dtype=dtype)
        return b[:n]

    def block(self, blk: ColumnBlock, p_out: np.ndarray | None = None) -> _Partial:
        """Sums of one block (thread-safe: its arrays are its own or its thread's)."""
        k, T, specs = self.k, self.T, self.specs
        codes, cols, w = blk.codes, blk.columns, blk.weights
        n = len(codes)
        lo = np.array([float(cols[f.column].min()) for f in specs])
        hi = np.array([float(cols[f.column].max()) for f in specs])
        eta = self._buffer("eta", n, np.float64)
        tmp = self._buffer("tmp", n, np.float64)
        eta.fill(self.beta[0])
        for j, col in enumerate(cols):
            b = self.beta[1 + j]
            if b != 0.0:
                tmp[:] = col
                tmp *= b
                eta += tmp
        if self.effects is not None:
            eta += self.effects[codes]
        e0 = np.negative(eta, out=eta)
        np.exp(e0, out=e0)
        p = np.add(e0, 1.0, out=tmp)
        np.reciprocal(p, out=p)
        if p_out is not None:
            p_out[:] = p
        sums = _RunSums(T)
        sums.add([k], codes, p[None, :], w)
        sdt = np.uint16 if k > 8 else np.uint8
        sig = self._buffer("sig", n, sdt)
        sig.fill(0)
        side = self._buffer("side", n, np.bool_)
        bit = self._buffer("bit", n, sdt)
        for j, f in enumerate(specs):
            x = cols[f.column]
            (np.greater if f.role == "risk" else np.less)(x, _threshold(x, f), out=side)
            np.left_shift(side.view(np.uint8), j, out=bit, dtype=sdt)
            sig |= bit
        order = np.argsort(sig, kind="stable")  # radix sort on a small integer
        count = np.bincount(sig, minlength=1 << k)
        bounds = np.concatenate([[0], np.cumsum(count)]).tolist()
        # the block laid out group after group: every chunk below is a contiguous slice
        # (mode="wrap": the indices are valid, and the default mode copies ``out`` twice)
        es = e0.take(order, out=self._buffer("es", n, np.float64), mode="wrap")
        cs = codes.take(order, out=self._buffer("cs", n, codes.dtype), mode="wrap")
        ws = None if w is None else w.take(order, out=self._buffer("ws", n, w.dtype),
                                           mode="wrap")
        xs: list[Any] = []
        for j, f in enumerate(specs):
            x = cols[f.column]
            const = self._constant_move(x, f, lo[j], hi[j])
            xs.append(const if const is not None else
                      x.take(order, out=self._buffer(f"x{j}", n, x.dtype), mode="wrap"))
        del order
        for s in np.flatnonzero(count).tolist():
            members = [j for j in range(k) if (s >> j) & 1]
            self._group(members, bounds[s], bounds[s + 1], es, cs, ws, xs, sums)
        acc = sums.total(2 * k + 2)
        return _Partial(acc[:k + 2], acc[k + 2:], lo, hi)

    def _constant_move(self, x: np.ndarray, f: Any, lo: float, hi: float) -> Any:
        """exp(−d_j) when every child on the risk side of an integer column has the same
        value (a 0/1 factor: the risk side is all 1s, or all 0s), else None."""
        if x.dtype.kind not in "iub":
            return None
        r = f.reference
        v = hi if f.role == "risk" else lo
        if not (hi - 1 <= r < hi if f.role == "risk" else lo < r <= lo + 1):
            return None
        one = np.array([v], dtype=np.float64)  # the array expression of the general case
        return np.exp(-((r - one) * self.beta[1 + f.column]))[0]

    def _group(self, members: list[int], g0: int, g1: int, es: np.ndarray, cs: np.ndarray,
               ws: np.ndarray | None, xs: list[np.ndarray], sums: _RunSums) -> None:
        """Children g0..g1 (of the sorted block) can move exactly ``members``: their 2^a
        counterfactuals, in chunks that fit in the cache."""
        a = len(members)
        k = self.k
        WT = self.WT[a]
        out_rows = [*members, k + 1]
        moved_rows = [k + 2 + j for j in members]
        step = max(256, CHUNK_ELEMENTS >> a)
        tabs = []
        for j in members:
            x = xs[j]
            tabs.append(None if not isinstance(x, np.ndarray) else self.tab8[j]
                        if x.dtype == np.int8 else self.tabu8[j] if x.dtype == np.uint8
                        else None)
        for c0 in range(g0, g1, step):
            c1 = min(g1, c0 + step)
            m = c1 - c0
            E = np.empty((1 << a, m))
            E[0] = es[c0:c1]
            for i, j in enumerate(members):  # subsets with bit i: those without, times e_j
                if not isinstance(xs[j], np.ndarray):
                    ej = xs[j]  # the same for every child
                elif tabs[i] is not None:
                    ej = tabs[i][xs[j][c0:c1].view(np.uint8)]  # (take: 5x slower on bytes)
                else:
                    x = xs[j][c0:c1]
                    f = self.specs[j]
                    ej = np.exp(-((f.reference - x.astype(np.float64, copy=False))
                                  * self.beta[1 + f.column]))
                half = 1 << i
                np.multiply(E[:half], ej, out=E[half:2 * half])
            E += 1.0
            P = np.reciprocal(E, out=E)
            V = np.empty((a + 1, m))
            if a:
                np.matmul(WT, P, out=V[:a])
            V[a] = P[-1]
            wg = None if ws is None else ws[c0:c1]
            sums.add(out_rows, cs[c0:c1], V, wg, moved_rows)


def _threshold(x: np.ndarray, f: Any) -> Any:
    """The reference as the column compares it: for an integer column, x > r ⇔ x > ⌊r⌋ and
    x < r ⇔ x < ⌈r⌉, and an integer of the column's type compares twice as fast as a
    float (which casts every value)."""
    r = f.reference
    if x.dtype.kind in "iu":
        t = math.floor(r) if f.role == "risk" else math.ceil(r)
        info = np.iinfo(x.dtype)
        if info.min <= t <= info.max:
            return x.dtype.type(t)
    return r


class _RunSums:
    """Per-territory sums of rows of values: each call sums its children over runs of equal
    territory codes (a census ordered by geography has few runs), and :meth:`total` adds all
    runs into a (rows x T) array with one ``bincount``, in call order (deterministic)."""

    def __init__(self, n_territories: int) -> None:
        self.T = n_territories
        self._zero = np.zeros(1, dtype=np.intp)
        self.index: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def add(self, rows: Sequence[int], codes: np.ndarray, V: np.ndarray,
            w: np.ndarray | None, count_rows: Sequence[int] = ()) -> None:
        """rows[r] += Σ (w ·) V[r] per territory; count_rows[r] += Σ w (children)."""
        m = len(codes)
        if not m:
            return
        starts = np.flatnonzero(codes[1:] != codes[:-1])
        starts += 1
        starts = np.concatenate((self._zero, starts))
        if w is not None:
            V = V * w
        r, c = len(rows), len(count_rows)
        S = np.empty((r + c, len(starts)))
        np.add.reduceat(V, starts, axis=1, out=S[:r])
        if c:
            if w is None:  # run lengths
                np.subtract(starts[1:], starts[:-1], out=S[r, :-1])
                S[r, -1] = m - starts[-1]
            else:
                np.add.reduceat(w, starts, out=S[r])
            S[r + 1:] = S[r]
        u = codes.take(starts)
        self.index.append((np.asarray([*rows, *count_rows])[:, None] * self.T + u).ravel())
        self.values.append(S.ravel())

    def total(self, n_rows: int) -> np.ndarray:
        if not self.index:
            return np.zeros((n_rows, self.T))
        return np.bincount(np.concatenate(self.index), weights=np.concatenate(self.values),
                           minlength=n_rows * self.T).reshape(n_rows, self.T)


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
    # one BLAS thread: the products are small (a x 2^a by 2^a x 16k) and the blocks already
    # run on every core; OpenBLAS's own threads would spin and double the CPU time
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=WORKERS) as ex:
        for blk in prefetched(blocks, depth=1):
            if not len(blk.codes):
                continue
            pending.append(ex.submit(one, blk))
            while len(pending) >= WORKERS:
                add(pending.popleft().result())
        while pending:
            add(pending.popleft().result())
