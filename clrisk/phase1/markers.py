"""Markers: who is at risk (sex, age, ethnicity, rurality, female headship, household size).

Why a separate table: markers describe children, they are not conditions a policy changes,
so they never enter factor rankings, plan objectives or monitoring targets. What a country
team needs from them is *where the risk concentrates*: for every marker group, nationally and
per region, the children, the expected children in child labour (Σ w p̂ over the census) and
the rate. Computed in the same census pass as the factor weights (no extra read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from clrisk.schema import REGION_ID

MARKER_COLUMNS = ["level", REGION_ID, "marker", "group", "children", "expected_children",
                  "rate", "share_of_children", "share_of_expected"]

# Bands for non-binary markers: [lower, upper) edges; the label says the range in years or
# persons. Age bands follow the ILO's (5–11, 12–14, 15–17).
BANDS: dict[str, list[float]] = {
    "age": [5, 12, 15, 18],
    "household_size": [0, 5, 7, 999],
    "n_children": [0, 3, 5, 999],
}


def _label(lo: float, hi: float, top: bool) -> str:
    """``5–11`` for the band [5, 12); ``7+`` for an open top band (edge ≥ 99)."""
    return f"{lo:g}+" if top and hi >= 99 else f"{lo:g}–{hi - 1:g}"


class MarkerSums:
    """Accumulates children and expected children per (marker group, territory) from census
    blocks; :meth:`table` aggregates them nationally and per region."""

    def __init__(self, markers: Sequence[str], raw_names: Sequence[str], n_territories: int):
        names = list(raw_names)
        self.markers = [m for m in markers if m in names]
        self.columns = [names.index(m) for m in self.markers]
        self.T = n_territories
        self.sums: dict[tuple[str, str], np.ndarray] = {}
        self.order: dict[tuple[str, str], float] = {}

    def __call__(self, codes: np.ndarray, X: np.ndarray, w: np.ndarray, p: np.ndarray) -> None:
        wp = w * p
        for m, col in zip(self.markers, self.columns, strict=True):
            x = X[:, col]
            edges = BANDS.get(m)
            if edges is not None:
                g = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
                groups = [(float(edges[b]), _label(edges[b], edges[b + 1], b == len(edges) - 2))
                          for b in range(len(edges) - 1)]
            elif len(x) and x.min() >= 0 and x.max() < 64 and np.all(x == np.floor(x)):
                g = x.astype(np.intp)  # small whole numbers (0/1 markers): no sort needed
                groups = [(float(v), f"{v:g}") for v in range(int(x.max()) + 1)]
            else:
                values, g = np.unique(x, return_inverse=True)
                groups = [(float(v), f"{v:g}") for v in values]
            G = len(groups)
            key = codes * G + g.ravel()  # one bincount per marker, not one per group
            n_t = np.bincount(key, weights=w, minlength=self.T * G).reshape(self.T, G)
            e_t = np.bincount(key, weights=wp, minlength=self.T * G).reshape(self.T, G)
            present = np.bincount(g.ravel(), minlength=G) > 0
            for b, (value, label) in enumerate(groups):
                if not present[b]:
                    continue
                acc = self.sums.get((m, label))
                if acc is None:
                    acc = self.sums[(m, label)] = np.zeros((2, self.T))
                    self.order[(m, label)] = value
                acc[0] += n_t[:, b]
                acc[1] += e_t[:, b]

    def table(self, territory_ids: Sequence[str], regions: Mapping[str, str] | None = None
              ) -> pd.DataFrame:
        """Long table: national rows then one row per region, per marker group."""
        tids = [str(t) for t in territory_ids]
        reg = np.array([str((regions or {}).get(t, "")) for t in tids], dtype=object)
        rows = []
        keys = sorted(self.sums, key=lambda k: (self.markers.index(k[0]), self.order[k]))
        region_ids = sorted(set(reg) - {""}) if regions else []
        for level, rid, sel in [("national", "", np.ones(len(tids), bool))] + [
                ("region", r, reg == r) for r in region_ids]:
            per_marker: dict[str, tuple[float, float]] = {}
            for m in self.markers:
                tot = [self.sums[k][:, sel].sum(axis=1) for k in keys if k[0] == m]
                per_marker[m] = (sum(t[0] for t in tot), sum(t[1] for t in tot))
            for m, label in keys:
                n, e = self.sums[(m, label)][:, sel].sum(axis=1)
                tn, te = per_marker[m]
                rows.append({"level": level, REGION_ID: rid, "marker": m, "group": label,
                             "children": n, "expected_children": e,
                             "rate": e / n if n > 0 else np.nan,
                             "share_of_children": n / tn if tn > 0 else np.nan,
                             "share_of_expected": e / te if te > 0 else np.nan})
        return pd.DataFrame(rows, columns=MARKER_COLUMNS)
