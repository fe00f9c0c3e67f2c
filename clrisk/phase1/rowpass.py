"""One streaming pass over the census rows: exact per-territory sums for scoring, factor
weights and the P(top level) approximation.

Why a row pass at all: collapsing to (territory x covariate pattern) cells only pays when the
census has far fewer cells than children. With fine covariates (single years of age, years of
schooling, household size) almost every child is its own cell and the collapse costs several
times the reading. The row pass instead touches each child once, in float64:

* a reader thread (:func:`prefetched`) decodes the next Parquet batch, validates it and lays
  it out as one C-ordered design matrix ``[1, x]`` while the main thread computes on the
  current one — pyarrow decoding and NumPy copies release the GIL, so the two overlap on two
  cores;
* eta = X beta is one BLAS product, p = expit(eta) in place;
* N_t = sum w, S_t = sum w p are ``np.bincount``; the delta-method gradient
  G_t = sum w p (1 - p) x is ONE sparse product: the (territories x rows) CSC matrix with one
  entry w p (1 - p) per row (its territory) times X, a single pass over X;
* factor j's counterfactual reuses eta: eta + beta_j (r_j - x_j), recomputed only for the
  rows where x_j != r_j (for a binary factor, the exposed minority);
* optionally the Hessian H_t = sum w p (1 - p)(1 - 2p) x x' (upper triangle, one more sparse
  product on the row-wise outer products) for the second-order approximation of the mean
  probability under coefficient draws (see :mod:`clrisk.phase1.classify`).

All sums are float64; results differ from the pattern path only by summation order
(relative differences ~1e-15).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from clrisk.phase1.patterns import (
    DEFAULT_BATCH_SIZE,
    check_children,
    iter_census_columns,
    source_name,
)

PREFETCH_DEPTH = 2
SPREAD_STRIDE = 8  # every 8th child estimates the spread of the linear predictor
ROW_BATCH_SIZE = 262_144  # rows per batch of the row pass (at most): measured best of 256k-2M
CHUNK = 16_384  # rows per cache-resident block of the design matrix


@dataclass(frozen=True)
class RowSums:
    """Per-territory sums from one pass (territories sorted as strings).

    ``G`` is sum w p (1 - p) [1, x] (not divided by N); ``F`` (territories x factors) the
    counterfactual sums sum w p^(j); ``H`` (territories x k x k, k = 1 + covariates) the
    Hessian sums sum w p (1 - p)(1 - 2p) x x'."""

    territory_ids: np.ndarray
    N: np.ndarray
    S: np.ndarray
    G: np.ndarray
    F: np.ndarray | None
    H: np.ndarray | None
    n_rows: int
    weighted: bool
    spread: np.ndarray | None = None

    def expansion_error(self) -> np.ndarray:
        """Per territory, a bound on the expected third-order remainder of the expansion of
        the mean probability under draws d ~ N(0, V) (needs ``spread``).

        The third derivative of expit is at most 1/8 in absolute value, so a child's
        remainder is at most |x'd|^3 / 48; with x'd ~ N(0, x'Vx),
        E|x'd|^3 = 2 sqrt(2/pi) (x'Vx)^(3/2), hence 2 sqrt(2/pi) / 48 times the territory's
        mean of (x'Vx)^(3/2) (``spread``, estimated on every ``SPREAD_STRIDE``-th child)."""
        if self.spread is None:
            raise ValueError("row sums without the spread (row_sums(..., cov=V))")
        return 2.0 * np.sqrt(2.0 / np.pi) / 48.0 * self.spread


_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetched(items: Iterable[Any], depth: int = PREFETCH_DEPTH) -> Iterator[Any]:
    """Iterate ``items`` with the next ``depth`` items produced by a background thread.

    Why: reading and decoding Parquet (pyarrow, GIL released) overlaps the NumPy work of the
    consumer. An exception in the producer is re-raised in the consumer (after the thread has
    ended); if the consumer stops early (exception, ``break``), the producer is told to stop
    and joined — no thread is left behind and nothing hangs."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(item):
                    break
            else:
                put(_END)
        except BaseException as exc:  # noqa: BLE001 - forwarded to the consumer
            put(_Failure(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="clrisk-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, _Failure):
                thread.join()
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=10.0)


try:  # the CSC kernel behind ``csc_matrix @ dense``, called to add into ``out`` in place
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover - private SciPy module moved: use the public product
    _csc_matvecs = None


def _add_gram(t: np.ndarray, h: np.ndarray, X: np.ndarray, out: np.ndarray) -> None:
    """out[t] += sum over the rows of t of h x x', one small BLAS product per run of equal
    ``t`` (rows must be grouped by territory for this to be fast)."""
    bounds = np.concatenate([[0], np.flatnonzero(t[1:] != t[:-1]) + 1, [len(t)]])
    Xh = X * h[:, None]
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        out[t[a]] += Xh[a:b].T @ X[a:b]


def _scatter_rows(t: np.ndarray, weights: np.ndarray, X: np.ndarray, out: np.ndarray) -> None:
    """out[t[i]] += weights[i] * X[i] for every row i, in one pass over X.

    It is the product (territories x rows) @ X with the sparse matrix holding one entry per
    row (a CSC matrix whose column i has ``weights[i]`` at row ``t[i]``)."""
    n = len(t)
    X = np.ascontiguousarray(X)
    if _csc_matvecs is not None and out.flags.c_contiguous:
        indptr = np.arange(n + 1, dtype=np.intp)
        _csc_matvecs(out.shape[0], n, X.shape[1], indptr, t, weights, X.ravel(), out.ravel())
    else:  # pragma: no cover
        out += sp.csc_matrix((weights, t, np.arange(n + 1)), shape=(out.shape[0], n)) @ X


def row_sums(beta: np.ndarray, covariates: Sequence[str], census: Any, *,
             weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
             factors: Sequence[tuple[str, float]] = (), hessian: bool = False,
             cov: np.ndarray | None = None, progress=None) -> RowSums:
    """Stream the census once and return the per-territory sums (see :class:`RowSums`).

    ``factors``: (covariate, reference value) pairs whose counterfactual sums are wanted;
    ``hessian``: also the Hessian sums; ``cov`` (the coefficients' covariance V): also
    the mean of (x'Vx)^(3/2), the spread of the linear predictor under draws, estimated on
    every ``SPREAD_STRIDE``-th child (it only decides whether the expansion is accurate
    enough; an exact value would cost a (rows x k x k) product, more than the Hessian)."""
    covariates = list(covariates)
    batch_size = min(batch_size, ROW_BATCH_SIZE)  # small batches: the reader keeps ahead
    k = len(covariates) + 1
    fcols = [1 + covariates.index(f) for f, _r in factors]
    frefs = [float(r) for _f, r in factors]
    index: dict[str, int] = {}
    cap = 0
    N, S = np.zeros(0), np.zeros(0)
    G, F = np.zeros((0, k)), np.zeros((0, len(fcols)))
    H = np.zeros((0, k, k) if hessian else (0, 0))

    def grow(m: int) -> None:
        nonlocal cap, N, S, G, F, H, R, Rn
        if m <= cap:
            return
        new = max(m, 2 * cap, 1024)
        N, S, R, Rn = (np.pad(a, (0, new - cap)) for a in (N, S, R, Rn))
        G, F = (np.pad(a, ((0, new - cap), (0, 0))) for a in (G, F))
        H = np.pad(H, ((0, new - cap),) + ((0, 0),) * (H.ndim - 1))
        cap = new

    R, Rn = np.zeros(0), np.zeros(0)
    root = None
    if cov is not None:
        ev, Q = np.linalg.eigh((cov + cov.T) / 2.0)
        root = Q * np.sqrt(np.clip(ev, 0.0, None))  # V = root root'
    n_rows = 0
    buf = np.empty((CHUNK, k))
    buf[:, 0] = 1.0
    for _off, codes, values, cols, w in prefetched(iter_census_columns(
            census, covariates, weight=weight, batch_size=batch_size)):
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp,
                           count=len(values))
        t = tmap[codes]
        grow(len(index))
        n = len(t)
        if hessian and np.count_nonzero(t[1:] != t[:-1]) > n // 64:
            # the Hessian sums are per-territory Gram matrices over runs of rows: bring
            # each territory's rows together (censuses ordered by geography skip this)
            order = np.argsort(t, kind="stable")
            t = t[order]
            cols = [c[order] for c in cols]
            w = None if w is None else w[order]
        eta = np.empty(n)
        p = np.empty(n)
        v = np.empty(n)
        for s in range(0, n, CHUNK):
            e = min(n, s + CHUNK)
            Xc = buf[:e - s]
            for j, col in enumerate(cols):  # cache-sized C-ordered design [1, x]
                Xc[:, j + 1] = col[s:e]
            np.matmul(Xc, beta, out=eta[s:e])
            expit(eta[s:e], out=p[s:e])
            vc = v[s:e]
            np.multiply(p[s:e], 1.0 - p[s:e], out=vc)
            if w is not None:
                vc *= w[s:e]
            _scatter_rows(t[s:e], vc, Xc, G)
            if hessian:
                _add_gram(t[s:e], vc * (1.0 - 2.0 * p[s:e]), Xc, H)
            if root is not None:
                Y = Xc[::SPREAD_STRIDE] @ root
                q = np.einsum("ij,ij->i", Y, Y)
                q *= np.sqrt(q)
                ts = t[s:e:SPREAD_STRIDE]
                ws = None if w is None else w[s:e:SPREAD_STRIDE]
                R += np.bincount(ts, weights=q if ws is None else q * ws, minlength=cap)
                Rn += np.bincount(ts, weights=ws, minlength=cap)
        N += np.bincount(t, weights=w, minlength=cap)
        S += np.bincount(t, weights=p if w is None else w * p, minlength=cap)
        for j, (col, r) in enumerate(zip(fcols, frefs, strict=True)):
            x = cols[col - 1]
            rows = np.flatnonzero(x != r)  # children already at the reference keep p
            pj = expit(eta[rows] + beta[col] * (r - x[rows])) - p[rows]
            if w is not None:
                pj *= w[rows]
            F[:, j] += np.bincount(t[rows], weights=pj, minlength=cap)
        n_rows += n
        if progress is not None:
            progress(n)
    m = len(index)
    tids = np.array(list(index), dtype=object).astype(str)
    order = np.argsort(tids, kind="stable")
    N, S, G = N[:m][order], S[:m][order], G[:m][order]
    check_children(tids[order], N, source_name(census))
    Fo = None
    if fcols:
        Fo = F[:m][order] + S[:, None]
    Ho = H[:m][order] if hessian else None
    spread = None
    if root is not None:
        R, Rn = R[:m][order], Rn[:m][order]
        overall = R.sum() / max(Rn.sum(), 1e-300)  # territories with no sampled child
        spread = np.divide(R, Rn, out=np.full(m, overall), where=Rn > 0)
    return RowSums(tids[order].astype(object), N, S, G, Fo, Ho, n_rows, weight is not None,
                   spread)
