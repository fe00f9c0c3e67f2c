"""Compiled row kernels for the small-area passes (numba, compiled once and cached on disk):
the census pass (Taylor path and PSU-level path), the fit's per-PSU scores and the
interpolation of the predictive draws.

Why: the small-area census pass touches every census child (10 M at Brazil's scale) and is
the largest step after the fit. Written as whole-array NumPy operations it makes ~30 passes
over each chunk (the logistic, 15 powers, 12 gradient rows, a segmented sum) and holds
Python's global interpreter lock between them, so a second thread gains nothing (measured:
0.40 s on one thread, 0.41 s on two). A kernel makes one pass per row and releases the lock
(``nogil``), so two threads split a census in memory between the two cores.

Arithmetic: each kernel sums a chunk's rows in row order into per-territory accumulators and
adds them to the totals once per run of one territory, so the result depends only on the rows
and their order — never on threads or timing (callers fix which rows each accumulator sees,
see :func:`clrisk.phase1.sae.census_curves`).

Compilation: each kernel has an explicit signature, so it is compiled when this module is
imported. The first import after installation compiles them (about 1.5 s) into numba's cache
(``__pycache__`` beside this file, or ``NUMBA_CACHE_DIR``); later imports load them (numba's
import and the load: about 0.4 s per process). Inputs are declared read-only, which ordinary
arrays also satisfy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, types


def _array(dtype: types.Type, ndim: int, readonly: bool = True) -> types.Array:
    """A C-ordered array type; inputs are declared read-only so that a census held in memory
    (read-only arrays, :mod:`clrisk.phase1.census_cache`) and ordinary arrays both match."""
    return types.Array(dtype, ndim, "C", readonly=readonly)


def _kernel(signature: types.Type, **options: object) -> Callable[[Callable], Callable]:
    """``njit`` with the given signature, releasing the interpreter lock, cached on disk.
    Where no cache location is writable (a read-only installation without a writable home or
    ``NUMBA_CACHE_DIR``) numba refuses to cache; the kernel is then compiled in memory at
    every import instead of failing the import."""

    def compile_(fn: Callable) -> Callable:
        try:
            return njit(signature, nogil=True, cache=True, **options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(signature, nogil=True, **options)(fn)

    return compile_


_F1, _F2, _I1 = _array(types.float64, 1), _array(types.float64, 2), _array(types.intp, 1)
_OUT1, _OUT2 = _array(types.float64, 1, False), _array(types.float64, 2, False)
_OUT3 = _array(types.float64, 3, False)


@_kernel(types.void(_F2, _F1, _I1, _F1, _F1, _OUT2, _OUT2))
def taylor_sums(X: np.ndarray, eta: np.ndarray, tc: np.ndarray, c: np.ndarray,
                at: np.ndarray, M: np.ndarray, G: np.ndarray) -> None:  # pragma: no cover
    """For every row i (territory t = tc[i], weight c_i, p_i = Λ(η_i + at_t)), add to the
    totals of t: c_i p_i^(j+1) to ``M[t, j]`` for j = 0..M.shape[1]−1 (the Taylor path's
    power sums), c_i p_i(1 − p_i) to ``G[t, 0]`` and c_i p_i(1 − p_i) X[j, i] to
    ``G[t, j + 1]`` (the gradient of the curve in β). ``X``: k x n design columns (without
    the constant), C order per column as the census pass lays them out."""
    n = eta.shape[0]
    k = X.shape[0]
    n1 = M.shape[1]
    acc = np.zeros(n1 + 1 + k)
    i = 0
    while i < n:
        t = tc[i]
        a_t = at[t]
        acc[:] = 0.0
        while i < n and tc[i] == t:
            p = 1.0 / (1.0 + np.exp(-(eta[i] + a_t)))
            ci = c[i]
            a = ci * p
            for j in range(n1):
                acc[j] += a
                a *= p
            v = ci * p * (1.0 - p)
            acc[n1] += v
            for j in range(k):
                acc[n1 + 1 + j] += v * X[j, i]
            i += 1
        for j in range(n1):
            M[t, j] += acc[j]
        for j in range(k + 1):
            G[t, j] += acc[n1 + j]


@_kernel(types.void(_F2, _F2, _I1, _F1, _F2, _OUT1, _OUT3))
def psu_scores(Q: np.ndarray, om: np.ndarray, cp: np.ndarray, sign: np.ndarray,
               Xw: np.ndarray, vw: np.ndarray, Sc: np.ndarray) -> None:  # pragma: no cover
    """The mixed-model fit's per-PSU complete-data scores of β and posterior weights, rows in
    PSU order (:func:`clrisk.phase1.sae._louis`): for row i of PSU c = cp[i] and quadrature
    point g, with q = Q[i, g] (Λ of the observed outcome), add (y_i − p_ig) w_i x_i =
    sign_i (1 − q) Xw[i] to ``Sc[c, g, :p]`` (p = Xw.shape[1]; further columns of ``Sc``
    are left as they are) and set vw[i] = Σ_g q(1 − q) om[c, g].
    Rows are summed in order, as ``np.add.reduceat`` sums a PSU's rows."""
    n, gk = Q.shape
    p = Xw.shape[1]
    for i in range(n):
        c = cp[i]
        s = 0.0
        for g in range(gk):
            q = Q[i, g]
            s += q * (1.0 - q) * om[c, g]
            r = sign[i] * (1.0 - q)
            for j in range(p):
                Sc[c, g, j] += r * Xw[i, j]
        vw[i] = s


@_kernel(types.void(_F2, _F2, _F2, _F2, _OUT2))
def logit_segments(L: np.ndarray, slope: np.ndarray, nodes: np.ndarray, u: np.ndarray,
                   out: np.ndarray) -> None:  # pragma: no cover
    """Linear interpolation on the logit scale for draws u (D x T) between a territory's K
    ascending nodes (T x K; ``L`` the logits there, ``slope`` T x (K − 1) per segment),
    extrapolated from the outer segments: out[d, t] = L[t, j] + slope[t, j] (u − nodes[t, j])
    with j the segment of u (the number of inner nodes at or below u). One pass per draw
    instead of K − 2 comparison passes and three gathers."""
    D, T = u.shape
    K = nodes.shape[1]
    for d in range(D):
        for t in range(T):
            x = u[d, t]
            j = 0
            for k in range(1, K - 1):
                if x >= nodes[t, k]:
                    j += 1
            out[d, t] = L[t, j] + slope[t, j] * (x - nodes[t, j])


@_kernel(types.float64(_F1, types.float64, types.float64, types.float64), inline="always")
def _on_grid(values: np.ndarray, s: float, inv_step: float, offset: float
             ) -> float:  # pragma: no cover
    """``values`` (a table on a uniform grid) at s, linearly interpolated and clamped at the
    ends — the arithmetic of :func:`clrisk.phase1.sae._on_grid`, one value at a time; an
    empty table stands for Λ itself."""
    n = values.shape[0]
    if n == 0:  # no table: the logistic itself (no PSU effect)
        return 1.0 / (1.0 + np.exp(-s))
    x = s * inv_step + offset
    if x < 0.0:
        x = 0.0
    elif x > n - 1.0:
        x = n - 1.0
    j = int(x)
    x -= j
    lo = values[j]
    return (values[min(j, n - 2) + 1] - lo) * x + lo


@_kernel(types.void(_F2, _F1, _I1, _F1, _F2, _F1, _F1, _F1, types.float64, types.float64,
                    _OUT2, _OUT2, _OUT2))
def psu_curve_sums(X: np.ndarray, eta: np.ndarray, tc: np.ndarray, c: np.ndarray,
                   nodes: np.ndarray, at: np.ndarray, F: np.ndarray, dF: np.ndarray,
                   inv_step: float, offset: float, S: np.ndarray, G: np.ndarray,
                   spread: np.ndarray) -> None:  # pragma: no cover
    """The census pass with a PSU effect: F(s) = E Λ(s + v) and F' tabulated on a uniform grid.
    For every row i of territory t: c_i F(η_i + nodes[t, k]) added to ``S[t, k]``;
    c_i F'(η_i + at_t) to ``G[t, 0]`` and times X[j, i] to ``G[t, j + 1]``; when ``spread``
    has rows, c_i f and c_i f² with f = F(η_i + at_t) to ``spread[t]`` (a census sample's
    spread of the children's probabilities). Empty ``F`` and ``dF``: no PSU effect, F = Λ
    computed exactly (the exact pass that checks the Taylor series)."""
    n = eta.shape[0]
    k = X.shape[0]
    K = nodes.shape[1]
    with_spread = spread.shape[0] > 0
    for i in range(n):
        t = tc[i]
        ci = c[i]
        e = eta[i]
        for q in range(K):
            S[t, q] += ci * _on_grid(F, e + nodes[t, q], inv_step, offset)
        centre = e + at[t]
        if dF.shape[0] == 0:  # Λ' = Λ(1 − Λ)
            p = _on_grid(dF, centre, inv_step, offset)
            v = p * (1.0 - p) * ci
        else:
            v = _on_grid(dF, centre, inv_step, offset) * ci
        G[t, 0] += v
        for j in range(k):
            G[t, j + 1] += X[j, i] * v
        if with_spread:
            f = _on_grid(F, centre, inv_step, offset)
            a = f * ci
            spread[t, 0] += a
            spread[t, 1] += a * f
