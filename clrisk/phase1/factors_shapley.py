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

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from clrisk.phase1.terms import design_rows

# Elements (cells x subsets x draws) evaluated at once: bounds the memory of one step.
CHUNK_ELEMENTS = 8_000_000


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


@functools.cache
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
    W.setflags(write=False)
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
MIN_BLOCK_ROWS = 1_000_000
LARGE_BLOCK_ROWS = 500_000


@dataclass(frozen=True)
class _Block:
    territory_codes: np.ndarray
    X: np.ndarray
    weights: np.ndarray


def coalesce(blocks: Iterable[object], min_rows: int = MIN_BLOCK_ROWS) -> Iterable[_Block]:
    """Join consecutive census blocks until each has at least ``min_rows`` rows.

    Why: a Parquet census arrives in row groups of ~65,000 rows; the kernel's cost per block
    includes a pass over up to 2^k groups of children, so small blocks multiply that fixed
    cost. One copy of the rows is cheaper than thousands of tiny groups."""
    pending: list[object] = []
    n = 0
    for b in blocks:
        pending.append(b)
        n += len(b.weights)
        if n >= min_rows:
            yield _join(pending)
            pending, n = [], 0
    if pending:
        yield _join(pending)


def row_blocks(source: object, min_rows: int = MIN_BLOCK_ROWS) -> Iterable[object]:
    """Blocks of a census source of at least ``min_rows`` rows, read once.

    For a row-streamed Parquet/DataFrame census the validated columns of each batch are cast
    straight into one float64 matrix per block (one copy, instead of a matrix per Parquet row
    group joined afterwards); a collapsed pattern table keeps its own blocks."""
    raw = getattr(source, "raw", None)
    if getattr(source, "table", None) is not None or raw is None:
        yield from coalesce(source.blocks(), min_rows)
        return
    covs = list(source.covariates)
    index = {str(t): i for i, t in enumerate(source.territory_ids)}
    X = codes = w = None
    n = 0

    def start(m: int) -> None:
        nonlocal X, codes, w, n
        cap = max(min_rows, m) + 65_536
        X = np.empty((cap, len(covs)), dtype=np.float64, order="F")
        codes, w, n = np.empty(cap, dtype=np.intp), np.empty(cap), 0

    for c, values, cols, wt in source.column_batches():  # from memory when kept there
        m = len(c)
        if X is None or n + m > len(codes):
            if X is not None and n:
                yield _Block(codes[:n], X[:n], w[:n])
            start(m)
        tmap = np.fromiter((index[v] for v in values), dtype=np.intp, count=len(values))
        codes[n:n + m] = tmap[c]
        for j, col in enumerate(cols):
            X[n:n + m, j] = col  # cast (int8 -> float64) while copying
        w[n:n + m] = 1.0 if wt is None else wt
        n += m
        if n >= min_rows:
            yield _Block(codes[:n], X[:n], w[:n])
            X = None
    if X is not None and n:
        yield _Block(codes[:n], X[:n], w[:n])


def _join(parts: list[object]) -> object:
    if len(parts) == 1:
        return parts[0]
    n = sum(len(p.weights) for p in parts)
    X = np.empty((n, parts[0].X.shape[1]), dtype=np.float64, order="F")  # column by column
    o = 0
    for p in parts:
        X[o:o + len(p.weights)] = p.X
        o += len(p.weights)
    return _Block(np.concatenate([np.asarray(p.territory_codes) for p in parts]), X,
                  np.concatenate([np.asarray(p.weights, dtype=np.float64) for p in parts]))


def _observe(out: Any, X: np.ndarray, codes: np.ndarray, w: np.ndarray, specs: Any,
             n_territories: int) -> np.ndarray:
    """Record each factor's observed range and the children on its risk side in one block;
    return the risk-side matrix (children x factors) for the caller's counterfactuals."""
    for j, f in enumerate(specs):
        col = X[:, f.column]
        out.lo[j] = min(out.lo[j], float(col.min()))
        out.hi[j] = max(out.hi[j], float(col.max()))
    side = risk_side(X, specs)
    for j in range(len(specs)):
        out.moved[:, j] += np.bincount(codes, weights=w * side[:, j], minlength=n_territories)
    return side


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
    mode = additive_mode(model, specs)
    covs = list(model.covariates)
    from clrisk.phase1 import shapley_direct as sd

    if sd.ENABLED and exact and Dp == 1 and mode == "direct" and set(covs) <= set(raw_names):
        # the point estimate alone, factors acting on their own column: the float64
        # census-scale kernel (same values; see clrisk.phase1.shapley_direct)
        beta = np.zeros(1 + len(raw_names))
        beta[0] = Bt[0, 0]
        for i, c in enumerate(covs):
            beta[1 + list(raw_names).index(c)] = Bt[1 + i, 0]
        kern = sd.DirectKernel(specs, beta, n_territories,
                               None if effects is None else effects[:, 0])
        sd.run(kern, sd.column_blocks(blocks), out, on_block)
        return out
    from clrisk.phase1.rowpass import prefetched

    # reading, decoding and joining blocks run in a background thread (GIL released by
    # pyarrow and NumPy copies) while this thread computes on the previous block
    if hasattr(blocks, "blocks"):  # a census source: read it in large blocks
        blocks = row_blocks(blocks)
    else:
        blocks = coalesce(blocks)
    for block in prefetched(blocks, depth=1):
        codes = np.asarray(block.territory_codes, dtype=np.intp)
        X = np.asarray(block.X, dtype=np.float64)
        w = np.asarray(block.weights, dtype=np.float64)
        if len(w) == 0:
            continue
        if mode is not None:
            _additive_block(model, X, codes, w, raw_names, specs, Bt, effects, exact, out,
                            mode, on_block)
            continue
        side = _observe(out, X, codes, w, specs, len(out.base))
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


def additive_mode(model: object, specs: Sequence[FactorSpec]) -> str | None:
    """How the factors' moves combine on the linear predictor.

    ``"direct"``: no derived terms use a factor, so moving factor j changes η by
    β_j (r_j − x_j) whatever else moves; ``"design"``: every derived term uses at most one
    factor, so the changes still add up over factors (each computed from design rows);
    ``None``: a derived term combines two factors (e.g. poverty × unemployment) and every
    subset's design rows are rebuilt (the general path)."""
    from clrisk.phase1.terms import columns_of, derived_terms

    derived = derived_terms(model)
    cols = [set(columns_of(f.name, model)) for f in specs]
    if not any(c & set(derived) for c in cols):
        return "direct"
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            if a & b:
                return None
    return "design"


def _additive_block(model, X, codes, w, raw_names, specs, Bt, effects, exact, out, mode,
                    on_block) -> None:
    """A block when moves add up on the linear predictor (see :func:`additive_mode`).

    Why this is fast: with e0 = exp(−η) and e_j = exp(−d_j) for the change d_j of factor j,
    the probability after moving the subset S is 1 / (1 + e0 Π_{j∈S} e_j): one exp per child
    and factor, then one product per subset, instead of one design matrix and one exp per
    subset. Children are sorted by the set of factors they can move (a radix sort on a small
    integer), and each group's 2^a subsets are built by doubling."""
    k = len(specs)
    n = len(w)
    T = out.base.shape[0]
    want_oat = not exact
    side = risk_side(X, specs)
    for j in range(k):
        out.lo[j] = min(out.lo[j], float(X[:, specs[j].column].min()))
        out.hi[j] = max(out.hi[j], float(X[:, specs[j].column].max()))
    sig = np.zeros(n, dtype=np.uint16 if k > 8 else np.uint8)
    for j in range(k):
        sig |= side[:, j].astype(sig.dtype) << j
    order = np.argsort(sig, kind="stable")  # radix sort on a small integer
    Dp = Bt.shape[1]
    # census-scale blocks: the subset arithmetic of the point estimate in float32 too (half
    # the memory traffic; relative error ~1e-6 on a territory's weight, far below the
    # coefficients' uncertainty); small censuses (the samples, the tests) stay in float64
    point = np.float32 if n >= LARGE_BLOCK_ROWS else np.float64
    parts = [(point, slice(0, 1))] + ([(np.float32, slice(1, Dp))] if Dp > 1 else [])
    covs = list(model.covariates)
    design_cols = {f.name: 1 + covs.index(f.name) for f in specs if mode == "direct"}
    direct = mode == "direct" and set(covs) <= set(raw_names)
    p_point = np.empty(n) if on_block is not None else None
    width = 2 + k + (k if want_oat else 0)
    for dtype, cols in parts:
        B = np.ascontiguousarray(Bt[:, cols], dtype=dtype)
        d = B.shape[1]
        eta_all = None
        if direct:  # η for every row at once, on the unsorted block (one BLAS product)
            B_raw = np.zeros((X.shape[1], d), dtype=np.float64)
            B_raw[[list(raw_names).index(c) for c in covs]] = B[1:]
            eta_all = (X @ B_raw + B[0]).astype(dtype, copy=False)
        step = max(1, CHUNK_ELEMENTS // (d * (k + 1)))
        if d == 1 and n >= LARGE_BLOCK_ROWS:
            step = min(step, -(-n // 2))  # census scale: two halves, one per core

        def work(s0: int, B=B, d=d, dtype=dtype, cols=cols, eta_all=eta_all, step=step
                 ) -> tuple[np.ndarray, np.ndarray]:
            """One chunk of sorted children: (territory sums, children moved)."""
            moved = np.zeros((T, k))
            rows = order[s0:s0 + step]
            if eta_all is not None:
                Xr = Xd = None
                eta = eta_all[rows]
            else:
                Xr = X[rows]
                Xd = design_rows(model, Xr, raw_names)
                eta = Xd.astype(dtype, copy=False) @ B
            if effects is not None:
                eta += effects[codes[rows], cols].astype(dtype)
            e0 = np.exp(-eta)

            def e_of(j: int, a0: int, a1: int) -> np.ndarray:
                """exp(−d_j) for rows a0..a1, all on the risk side of factor j."""
                f = specs[j]
                if mode == "direct":  # gather only this factor's column, only these rows
                    dj = (f.reference - X[rows[a0:a1], f.column]).astype(dtype)
                    return np.exp(-(dj[:, None] * B[design_cols[f.name]][None, :]))
                Xc = counterfactual_rows(Xr[a0:a1], specs, [j])
                diff = (design_rows(model, Xc, raw_names) - Xd[a0:a1]).astype(dtype)
                return np.exp(-(diff @ B))

            if p_point is not None and cols.start == 0:
                p_point[rows] = 1.0 / (1.0 + e0[:, 0])
            ss = sig[rows]
            starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
            ends = np.r_[starts[1:], len(rows)]
            # per-child results: base, all moved, k Shapley values (, k one-at-a-time)
            R = np.zeros((width, len(rows), d), dtype=dtype)  # one block per result
            for a0, a1 in zip(starts, ends, strict=True):
                members = [j for j in range(k) if (int(ss[a0]) >> j) & 1]
                if cols.start == 0 and members:  # children moved: one bincount per group
                    g = rows[a0:a1]
                    moved[:, members] += np.bincount(codes[g], weights=w[g],
                                                     minlength=T)[:, None]
                ej = [e_of(j, a0, a1) for j in members]
                _additive_group_point(e0[a0:a1], ej, members, k, exact, R[:, a0:a1], want_oat)
            if d == 1:  # one weighted bincount per result row (no transposition)
                cr = codes[rows]
                R *= w[rows][None, :, None]
                tot = np.stack([np.bincount(cr, weights=r[:, 0], minlength=T) for r in R],
                               axis=1)[:, :, None]
            else:
                S = sp.csr_matrix((w[rows].astype(dtype), (codes[rows],
                                                           np.arange(len(rows)))),
                                  shape=(T, len(rows)))
                tot = np.stack([S @ r for r in R], axis=1)
            return tot, moved

        chunks = list(range(0, n, step))
        if len(chunks) > 1 and d == 1 and n >= LARGE_BLOCK_ROWS:
            # NumPy releases the GIL in its loops and BLAS: the halves run on two cores;
            # results are added in chunk order, so the sums do not depend on timing
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=2) as ex:
                results = list(ex.map(work, chunks))
        else:
            results = [work(s0) for s0 in chunks]
        for tot, moved in results:
            out.moved += moved
            out.base[:, cols] += tot[:, 0]
            out.all[:, cols] += tot[:, 1]
            out.shapley[:, :, cols] += tot[:, 2:2 + k]
            if want_oat:
                out.one_at_a_time[:, :, cols] += tot[:, 2 + k:]
    if on_block is not None:
        on_block(codes, X, w, p_point)


def _additive_group_point(e0, ej, members, k, exact, R, want_oat) -> None:
    """One group of children who can move the factors ``members``: all 2^a subsets.

    ``e0`` (n, d), ``ej`` a list of (n, d), ``R`` (results, n, d). Subsets are laid out as the
    first axis of a (2^a, n, d) array so that every product, the reciprocal and the Shapley
    weighting (one BLAS product W' P over n·d columns) run over long contiguous rows."""
    a, (n, d) = len(members), e0.shape
    if d == 1:  # the point estimate: drop the unit axis so inner loops run along children
        e0, ej, R = e0[:, 0], [x[:, 0] for x in ej], R[:, :, 0]
        E = np.empty((1 << a, n), dtype=e0.dtype)
    else:
        E = np.empty((1 << a, n, d), dtype=e0.dtype)
    E[0] = e0
    for i in range(a):  # subsets with bit i = subsets without it, times e_j
        half = 1 << i
        np.multiply(E[:half], ej[i][None], out=E[half:2 * half])
    P = np.reciprocal(np.add(E, 1.0, out=E), out=E)
    R[0] = P[0]
    R[1] = P[-1]
    if a == 0:
        return
    idx = np.asarray(members)
    if exact:
        W = shapley_matrix(a).astype(P.dtype)
        R[2 + idx] = -(W.T @ P.reshape(1 << a, n * d)).reshape(R[2 + idx].shape)
    if want_oat:
        R[2 + k + idx] = P[:1] - P[[1 << i for i in range(a)]]


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
        _observe(out, X, codes, w, specs, n_territories)
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
