"""The instrument-2 kernel: one-directional counterfactuals and exact Shapley values on blocks.

For modifiable factor j with protective reference r_j only children on the risk side move: a
*risk* factor (higher = more risk, e.g. poverty, reference 0) is lowered to r_j for children
above it; a *protective* factor (higher = less risk, e.g. head's schooling, reference 11 years)
is raised to r_j for children below it. Nobody is moved away from the reference. Every design
column built from j (interactions, squares, recodes: :func:`clrisk.phase1.terms.columns_of`) is
recomputed from the moved raw values by :func:`clrisk.phase1.terms.design_rows`.

Why Shapley, and why it is cheap: the joint effect of moving all k factors,
p̄_t − p̄_t^(all), is split among the factors by their Shapley values, which add up to it
exactly (efficiency), whereas one-at-a-time reductions do not add up when the model is
non-linear (the logit is). For one child, a factor it is not on the risk side of is a null
player (moving it changes nothing), so its Shapley value is 0 and the child's game has only
its a ≤ k movable factors: 2^a counterfactuals instead of 2^k. Cells are grouped by the set of
factors they can move; with typical prevalences the mean of 2^a is ~10 for k = 8. Shapley
values are linear in the game, so per-territory values are the children-weighted sums of the
cells' values, for every coefficient draw at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from clrisk.phase1.terms import design_rows

# Elements (cells x subsets x draws) evaluated at once: bounds the memory of one step.
CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class FactorSpec:
    """A modifiable factor: raw column, protective reference, direction and sector."""

    name: str
    reference: float
    role: str  # "risk": lowered to the reference; "protective": raised to it
    sector: str | None
    column: int  # index into the raw covariate rows


def risk_side(X: np.ndarray, specs: Sequence[FactorSpec]) -> np.ndarray:
    """Boolean (rows x factors): the child is on the risk side of the factor's reference and
    so moves in the counterfactual."""
    out = np.empty((X.shape[0], len(specs)), dtype=bool)
    for j, f in enumerate(specs):
        x = X[:, f.column]
        out[:, j] = x > f.reference if f.role == "risk" else x < f.reference
    return out


def counterfactual_rows(X: np.ndarray, specs: Sequence[FactorSpec], moved: Iterable[int]
                        ) -> np.ndarray:
    """Raw rows with the factors ``moved`` (indices into ``specs``) set to their reference
    for the children on their risk side; everybody else keeps their value."""
    Xc = np.array(X, dtype=np.float64, copy=True)
    for j in moved:
        f = specs[j]
        x = Xc[:, f.column]
        side = x > f.reference if f.role == "risk" else x < f.reference
        x[side] = f.reference
    return Xc


def shapley_matrix(a: int) -> np.ndarray:
    """W (2^a x a): Shapley value of player i = sum_m v(m) W[m, i] over subsets m (bit masks).

    W[m, i] = +|S|!(a-|S|-1)!/a! with S = m minus i when i is in m, and -|m|!(a-|m|-1)!/a!
    when it is not."""
    masks = np.arange(1 << a)
    size = np.array([bin(m).count("1") for m in masks])
    fact = [math.factorial(n) for n in range(a + 1)]
    W = np.zeros((1 << a, a))
    for i in range(a):
        has = (masks >> i) & 1 == 1
        s = np.where(has, size - 1, size)
        w = np.array([fact[x] * fact[a - x - 1] / fact[a] for x in s])
        W[:, i] = np.where(has, w, -w)
    return W


@dataclass
class Sums:
    """Children-weighted sums per territory (first axis) and per coefficient column (last
    axis: column 0 the point estimate, then the draws).

    ``base`` Σ w p; ``all`` Σ w p^(all factors moved); ``shapley`` (T, k, D+1) Σ w φ_j;
    ``one_at_a_time`` (T, k, D+1) Σ w (p − p^(j)); ``moved`` (T, k) children moved per factor;
    ``lo``/``hi`` (k,) observed range of each factor's raw column."""

    base: np.ndarray
    all: np.ndarray
    shapley: np.ndarray
    one_at_a_time: np.ndarray
    moved: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


BlockCallback = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


def accumulate(model: object, blocks: Iterable[object], n_territories: int,
               raw_names: Sequence[str], specs: Sequence[FactorSpec], coefs: np.ndarray,
               effects: np.ndarray | None = None, *, exact: bool = True,
               on_block: BlockCallback | None = None) -> Sums:
    """One pass over census blocks (objects with ``territory_codes``, ``X``, ``weights``).

    ``coefs`` (D+1, p) in design order (``const`` first), row 0 the point estimate;
    ``effects`` optional territory effects (T, D+1) added to the linear predictor.
    ``exact=False`` computes only the one-at-a-time reductions (for k beyond the exact
    limit; the caller then samples permutations). ``on_block(codes, X, weights, p)`` receives
    each block's point probabilities (the markers use it)."""
    k = len(specs)
    Dp = coefs.shape[0]
    Bt = np.ascontiguousarray(coefs.T)
    out = Sums(np.zeros((n_territories, Dp)), np.zeros((n_territories, Dp)),
               np.zeros((n_territories, k, Dp)), np.zeros((n_territories, k, Dp)),
               np.zeros((n_territories, k)), np.full(k, np.inf), np.full(k, -np.inf))
    bits = 1 << np.arange(k)
    for block in blocks:
        codes = np.asarray(block.territory_codes, dtype=np.intp)
        X = np.asarray(block.X, dtype=np.float64)
        w = np.asarray(block.weights, dtype=np.float64)
        if len(w) == 0:
            continue
        for j, f in enumerate(specs):
            col = X[:, f.column]
            out.lo[j] = min(out.lo[j], float(col.min()))
            out.hi[j] = max(out.hi[j], float(col.max()))
        side = risk_side(X, specs)
        for j in range(k):
            out.moved[:, j] += np.bincount(codes, weights=w * side[:, j], minlength=len(out.base))
        sig = side.astype(np.int64) @ bits if k else np.zeros(len(w), dtype=np.int64)
        order = np.argsort(sig, kind="stable")
        sig_sorted = sig[order]
        starts = np.flatnonzero(np.r_[True, sig_sorted[1:] != sig_sorted[:-1]])
        ends = np.r_[starts[1:], len(order)]
        p_point = np.empty(len(w)) if on_block is not None else None
        for s, e in zip(starts, ends, strict=True):
            members = [j for j in range(k) if (int(sig_sorted[s]) >> j) & 1]
            idx = order[s:e]
            _group(model, X[idx], codes[idx], w[idx], raw_names, specs, members, Bt,
                   effects, exact, out, p_point, idx)
        if on_block is not None:
            on_block(codes, X, w, p_point)
    return out


def _group(model, X, codes, w, raw_names, specs, members, Bt, effects, exact, out, p_point,
           idx) -> None:
    """Cells that can move exactly the factors ``members`` (a of them).

    The point estimate (coefficient column 0) is computed in float64; the draws, used only
    for intervals and P(rank 1), in float32 (5x faster exp and products; their rounding,
    ~1e-7 relative, is far below the draws' own spread)."""
    a = len(members)
    Dp = Bt.shape[1]
    masks = list(range(1 << a)) if exact else [0, *[1 << i for i in range(a)], (1 << a) - 1]
    n_sub = len(masks)
    step = max(1, CHUNK_ELEMENTS // (n_sub * Dp))
    W = shapley_matrix(a) if exact and a else None
    T = out.base.shape[0]
    B0, Bd = Bt[:, :1], np.ascontiguousarray(Bt[:, 1:], dtype=np.float32)
    E0 = Ed = None
    if effects is not None:
        E0, Ed = effects[:, :1], np.ascontiguousarray(effects[:, 1:], dtype=np.float32)
    for s in range(0, len(w), step):
        Xs, cs, ws = X[s:s + step], codes[s:s + step], w[s:s + step]
        n = len(ws)
        P0 = np.empty((n, n_sub, 1))
        Pd = np.empty((n, n_sub, Dp - 1), dtype=np.float32)
        for m_i, m in enumerate(masks):
            moved = [members[i] for i in range(a) if (m >> i) & 1]
            Xc = counterfactual_rows(Xs, specs, moved) if moved else Xs
            Xd = design_rows(model, Xc, raw_names)
            eta0 = Xd @ B0
            if E0 is not None:
                eta0 += E0[cs]
            P0[:, m_i, :] = expit(eta0)
            if Dp > 1:
                etad = Xd.astype(np.float32) @ Bd
                if Ed is not None:
                    etad += Ed[cs]
                Pd[:, m_i, :] = expit(etad)
        S = sp.csr_matrix((ws, (cs, np.arange(n))), shape=(T, n))
        if p_point is not None:
            p_point[idx[s:s + step]] = P0[:, 0, 0]
        Sf = S.astype(np.float32)
        for P, cols, SS in ((P0, slice(0, 1), S), (Pd, slice(1, Dp), Sf)):
            d = P.shape[2]
            if d == 0:
                continue
            out.base[:, cols] += SS @ P[:, 0, :]
            out.all[:, cols] += SS @ P[:, -1, :]
            if a == 0:
                continue
            if exact:
                phi = -np.einsum("nmd,ma->nad", P, W.astype(P.dtype)).reshape(n, a * d)
                out.shapley[:, members, cols] += (SS @ phi).reshape(T, a, d)
                single = [m_i for m_i, m in enumerate(masks) if m and not m & (m - 1)]
            else:
                single = list(range(1, a + 1))
            oat = (P[:, :1, :] - P[:, single, :]).reshape(n, a * d)
            out.one_at_a_time[:, members, cols] += (SS @ oat).reshape(T, a, d)


def permutation_shapley(model: object, blocks_factory: Callable[[], Iterable[object]],
                        n_territories: int, raw_names: Sequence[str],
                        specs: Sequence[FactorSpec], coefs: np.ndarray,
                        effects: np.ndarray | None, n_perm: int, seed: int) -> Sums:
    """Shapley values estimated from ``n_perm`` random factor orders (for k > the exact
    limit): each order moves factors one by one and credits each with its marginal change,
    so the estimate still adds up exactly to the joint effect; its sampling error shrinks as
    1/sqrt(n_perm). Costs n_perm × (k + 1) evaluations per cell instead of 2^k."""
    rng = np.random.default_rng(seed)
    k = len(specs)
    perms = [rng.permutation(k) for _ in range(n_perm)]
    Dp = coefs.shape[0]
    Bt = np.ascontiguousarray(coefs.T)
    out = Sums(np.zeros((n_territories, Dp)), np.zeros((n_territories, Dp)),
               np.zeros((n_territories, k, Dp)), np.zeros((n_territories, k, Dp)),
               np.zeros((n_territories, k)), np.full(k, np.inf), np.full(k, -np.inf))
    for block in blocks_factory():
        codes = np.asarray(block.territory_codes, dtype=np.intp)
        X = np.asarray(block.X, dtype=np.float64)
        w = np.asarray(block.weights, dtype=np.float64)
        n = len(w)
        if n == 0:
            continue
        S = sp.csr_matrix((w, (codes, np.arange(n))), shape=(n_territories, n))

        def prob(Xc: np.ndarray, codes: np.ndarray = codes) -> np.ndarray:
            eta = design_rows(model, Xc, raw_names) @ Bt
            if effects is not None:
                eta += effects[codes]
            return expit(eta)

        p0 = prob(X)
        out.base += S @ p0
        for j, f in enumerate(specs):
            col = X[:, f.column]
            out.lo[j] = min(out.lo[j], float(col.min()))
            out.hi[j] = max(out.hi[j], float(col.max()))
        side = risk_side(X, specs)
        for j in range(k):
            out.moved[:, j] += np.bincount(codes, weights=w * side[:, j], minlength=n_territories)
        for j in range(k):
            out.one_at_a_time[:, j, :] += S @ (p0 - prob(counterfactual_rows(X, specs, [j])))
        p_all = None
        for perm in perms:
            prev, moved = p0, []
            for j in perm:
                moved.append(int(j))
                cur = prob(counterfactual_rows(X, specs, moved))
                out.shapley[:, j, :] += (S @ (prev - cur)) / n_perm
                prev = cur
            p_all = prev
        out.all += S @ p_all
    return out
