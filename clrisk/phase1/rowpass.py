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

from clrisk.phase1.patterns import DEFAULT_BATCH_SIZE, check_children, iter_census, source_name

PREFETCH_DEPTH = 2
COPY_CHUNK = 32_768  # rows per F -> C copy: the chunk stays in cache


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


def design_batches(census: Any, covariates: Sequence[str], weight: str | None,
                   batch_size: int) -> Iterator[tuple[list[str], np.ndarray, np.ndarray,
                                                      np.ndarray | None]]:
    """(territory values, codes, C-ordered design [1, x], weights or None) per batch; run in
    the reader thread so the layout copy overlaps the consumer's arithmetic."""
    k = len(covariates) + 1
    for b in iter_census(census, covariates, weight=weight, batch_size=batch_size):
        n = len(b.weights)
        Xd = np.empty((n, k), dtype=np.float64)
        Xd[:, 0] = 1.0
        for s in range(0, n, COPY_CHUNK):
            Xd[s:s + COPY_CHUNK, 1:] = b.X[s:s + COPY_CHUNK]
        yield b.territory_values, b.territory_codes, Xd, (b.weights if weight else None)


def _upper(k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(k)


def row_sums(beta: np.ndarray, covariates: Sequence[str], census: Any, *,
             weight: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
             factors: Sequence[tuple[str, float]] = (), hessian: bool = False,
             progress=None) -> RowSums:
    """Stream the census once and return the per-territory sums (see :class:`RowSums`).

    ``factors``: (covariate, reference value) pairs whose counterfactual sums are wanted."""
    covariates = list(covariates)
    k = len(covariates) + 1
    fcols = [1 + covariates.index(f) for f, _r in factors]
    frefs = [float(r) for _f, r in factors]
    iu, ju = _upper(k)
    index: dict[str, int] = {}
    cap = 0
    N, S = np.zeros(0), np.zeros(0)
    G, F = np.zeros((0, k)), np.zeros((0, len(fcols)))
    H = np.zeros((0, len(iu) if hessian else 0))

    def grow(m: int) -> None:
        nonlocal cap, N, S, G, F, H
        if m <= cap:
            return
        new = max(m, 2 * cap, 1024)
        N, S = np.pad(N, (0, new - cap)), np.pad(S, (0, new - cap))
        G, F, H = (np.pad(a, ((0, new - cap), (0, 0))) for a in (G, F, H))
        cap = new

    n_rows = 0
    for values, codes, Xd, w in prefetched(design_batches(census, covariates, weight,
                                                          batch_size)):
        tmap = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp,
                           count=len(values))
        t = tmap[codes]
        grow(len(index))
        n = len(t)
        eta = Xd @ beta
        p = expit(eta)
        N += np.bincount(t, weights=w, minlength=cap)
        wp = p if w is None else w * p
        S += np.bincount(t, weights=wp, minlength=cap)
        v = p * (1.0 - p)
        if w is not None:
            v *= w
        indptr = np.arange(n + 1, dtype=np.intp)
        G += sp.csc_matrix((v, t, indptr), shape=(cap, n)) @ Xd
        for j, (col, r) in enumerate(zip(fcols, frefs, strict=True)):
            d = r - Xd[:, col]
            rows = np.flatnonzero(d)  # children already at the reference keep p
            pj = expit(eta[rows] + beta[col] * d[rows]) - p[rows]
            if w is not None:
                pj *= w[rows]
            F[:, j] += np.bincount(t[rows], weights=pj, minlength=cap)
        if hessian:
            h = v * (1.0 - 2.0 * p)
            for s in range(0, n, COPY_CHUNK):
                Xc = Xd[s:s + COPY_CHUNK]
                Z = Xc[:, iu] * Xc[:, ju]
                H += sp.csc_matrix((h[s:s + COPY_CHUNK], t[s:s + COPY_CHUNK],
                                    indptr[:len(Xc) + 1]), shape=(cap, len(Xc))) @ Z
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
    Ho = None
    if hessian:
        Ho = np.zeros((m, k, k))
        Ht = H[:m][order]
        Ho[:, iu, ju] = Ht
        Ho[:, ju, iu] = Ht
    return RowSums(tids[order].astype(object), N, S, G, Fo, Ho, n_rows, weight is not None)
