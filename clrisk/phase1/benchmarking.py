"""Ratio benchmarking of territory estimates to the survey's direct estimates (optional).

Why: the survey estimates the rate of a region (or of the country) directly and without model
assumptions; a country team publishing territory figures often wants them to add up to it, as
R emdi/povmap's ``benchmark`` option does. Ratio benchmarking multiplies every territory
estimate of region r (and its RMSE and interval) by f_r = direct_r / model_r, where
model_r = Σ_t N_t p̂_t / Σ_t N_t over the territories of r and direct_r = Σ w y / Σ w over the
survey children of r. It changes levels only through the regional factor; it is off by
default (``small_area: {benchmark: none}``) because the direct estimate of a small region is
itself noisy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.schema import OUTCOME, REGION_ID, TERRITORY_ID, WEIGHT

LEVELS = ("national", "region")


def ratio_benchmark(territories: pd.DataFrame, survey: pd.DataFrame, level: str = "national",
                    *, column: str = "mean_probability",
                    scaled: tuple[str, ...] = ("ci_low", "ci_high", "rmse")
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Benchmarked copy of ``territories`` and the before/after table (one row per region,
    or one national row): ``group, direct, model_before, model_after, factor``.

    ``territories`` needs ``territory_id``, ``children``, ``column`` (and ``region_id`` for
    ``level="region"``); ``survey`` needs the outcome, weight (and region) columns."""
    if level not in LEVELS:
        raise ValueError(_("benchmark must be one of {all}").format(all=", ".join(LEVELS)))
    t = territories.copy()
    s = survey
    if level == "national":
        tg = pd.Series("national", index=t.index)
        sg = pd.Series("national", index=s.index)
    else:
        for frame, name in ((t, "territories"), (s, "survey")):
            if REGION_ID not in frame.columns:
                raise data_error(name, _("regional benchmarking needs a region column"),
                                 _("add region_id or use small_area: {benchmark: national}"),
                                 REGION_ID)
        tg, sg = t[REGION_ID].astype(str), s[REGION_ID].astype(str)
    w = s[WEIGHT].to_numpy(dtype=np.float64)
    direct = (pd.Series(w * s[OUTCOME].to_numpy(dtype=np.float64)).groupby(sg.to_numpy()).sum()
              / pd.Series(w).groupby(sg.to_numpy()).sum())
    n = t["children"].to_numpy(dtype=np.float64)
    before = (pd.Series(n * t[column].to_numpy()).groupby(tg.to_numpy()).sum()
              / pd.Series(n).groupby(tg.to_numpy()).sum())
    factor = (direct / before).reindex(before.index)
    missing = factor.index[factor.isna()]
    factor = factor.fillna(1.0)  # a region without survey children keeps its estimates
    f = tg.map(factor).to_numpy()
    t[column] = t[column].to_numpy() * f
    for c in scaled:
        if c in t.columns:
            t[c] = t[c].to_numpy() * f
    if "expected_children" in t.columns:
        t["expected_children"] = t["children"].to_numpy() * t[column].to_numpy()
    after = (pd.Series(n * t[column].to_numpy()).groupby(tg.to_numpy()).sum()
             / pd.Series(n).groupby(tg.to_numpy()).sum())
    table = pd.DataFrame({"group": before.index.astype(str),
                          "direct": direct.reindex(before.index).to_numpy(),
                          "model_before": before.to_numpy(), "model_after": after.to_numpy(),
                          "factor": factor.to_numpy(),
                          "territories": tg.value_counts().reindex(before.index).to_numpy()})
    table.attrs["groups_without_survey"] = [str(g) for g in missing]
    return t.sort_values(TERRITORY_ID, kind="stable").reset_index(drop=True), table
