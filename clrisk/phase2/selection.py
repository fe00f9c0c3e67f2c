"""Step 1 — selection of the local territory: a transparent multi-criteria score.

Why a weighted sum the team can read: in the Mexican pilot the territory chosen (Tuxtla
Gutiérrez) was urban and low-risk, chosen for its institutional capacity and interest, not for its
model risk. Risk is one criterion among several; the weights are a political choice the team
writes down in ``selection_weights.yaml``. The score makes that choice explicit, and the
sensitivity view shows how much the top choice depends on it.

Criteria (all normalised to [0, 1], 1 = more favourable for selection):

* model risk — ``risk_level`` ((level − 1)/(k − 1)), ``risk_score`` (mean probability, or the IVTI
  score, min–max over all territories of the country), ``p_high`` (probability that the territory
  is truly in the top risk level, already in [0, 1]) and ``expected_children`` (expected children
  in child labour, min–max over all territories of the country). Normalising over the whole
  country, not only over the candidates, keeps a candidate's risk value stable when the team adds
  or removes candidates;
* team ratings — any column of ``selection_criteria.csv`` rated 1–5 (defaults:
  ``institutional_capacity``, ``political_interest``, ``time_available``), mapped (r − 1)/4.

score = Σ_c w_c · x_c with w_c ≥ 0 and Σ w_c = 1, so the score is in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase2 import worksheets as ws

RISK_CRITERIA = ("risk_level", "risk_score", "p_high", "expected_children")
TEAM_CRITERIA = ("institutional_capacity", "political_interest", "time_available")
INFO_COLUMNS = ("territory_id", "name", "notes")
WEIGHT_TOLERANCE = 1e-6


def read_criteria(path: str | Path, territory_ids: Iterable[str]) -> pd.DataFrame:
    """Read ``selection_criteria.csv``: one row per candidate territory, ratings 1–5.

    Every column other than ``territory_id``, ``name`` and ``notes`` is a team criterion and must
    hold whole numbers from 1 (unfavourable) to 5 (favourable).
    """
    df = ws.read_table(path, ["territory_id", *TEAM_CRITERIA])
    ws.check_territories(df["territory_id"], territory_ids, path)
    out = df[["territory_id"]].copy()
    for col in df.columns:
        if col in INFO_COLUMNS:
            continue
        if col in RISK_CRITERIA:
            raise data_error(path, "model-risk criteria come from Phase I, not from the worksheet",
                             f"remove the column '{col}'", column=col)
        out[col] = ws.numeric_column(df, col, path, minimum=1, maximum=5, integer=True,
                                     fix="rate each candidate from 1 (unfavourable) to 5 "
                                         "(favourable) with a whole number")
    if df.empty:
        raise data_error(path, "no candidate territories", "add one row per candidate territory")
    out["notes"] = df["notes"] if "notes" in df.columns else ""
    return out.sort_values("territory_id").reset_index(drop=True)


def read_weights(path: str | Path, rating_columns: Sequence[str]) -> dict[str, float]:
    """Read ``selection_weights.yaml`` (``weights: {criterion: w}``): non-negative, sum to 1.

    Every rating column of the criteria worksheet needs a weight (0 is allowed), and every
    weight must name a model-risk criterion or a rating column — a typo must not silently drop a
    criterion.
    """
    doc = ws.read_yaml(path)
    weights = doc.get("weights") if isinstance(doc, dict) else None
    if not isinstance(weights, dict) or not weights:
        raise data_error(path, "no 'weights' mapping found",
                         "write 'weights:' followed by one indented 'criterion: weight' per line")
    return validate_weights(weights, rating_columns, path)


def validate_weights(weights: Mapping[str, object], rating_columns: Sequence[str],
                     path: str | Path | None = None) -> dict[str, float]:
    """Check a weight mapping (from YAML or code) and return it as floats."""
    known = list(RISK_CRITERIA) + list(rating_columns)
    out: dict[str, float] = {}
    for key, value in weights.items():
        key = str(key).strip().lower()
        if key not in known:
            raise data_error(path, f"key 'weights.{key}': unknown criterion",
                             f"use one of {', '.join(known)} (team criteria are the rating "
                             "columns of selection_criteria.csv)")
        w = ws.as_float(value)
        if not np.isfinite(w):
            raise data_error(path, f"key 'weights.{key}': weight {value!r} is not a number",
                             "write a plain number such as 0.2")
        if w < 0:
            raise data_error(path, f"key 'weights.{key}': negative weight {w:g}",
                             "weights must be zero or positive")
        out[key] = w
    missing = [c for c in rating_columns if c not in out]
    if missing:
        raise data_error(path, f"no weight for the rating column(s) {', '.join(missing)}",
                         "add them under 'weights:' (0 to ignore a criterion)")
    total = sum(out.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise data_error(path, f"weights sum to {total:.4g}, not 1",
                         "adjust the weights so that they add up to exactly 1")
    return out


def normalised_risk(risk: pd.DataFrame) -> pd.DataFrame:
    """Model-risk criteria on [0, 1] for every territory of the country.

    ``risk`` is the Phase II risk table (``territory_id, risk_level, risk_score, p_top,
    expected_children`` and ``attrs['k']``). Unavailable criteria (e.g. ``p_high`` and
    ``expected_children`` for a country that uses the IVTI) are NaN.
    """
    k = int(risk.attrs.get("k", risk["risk_level"].max()))
    out = pd.DataFrame({"territory_id": risk["territory_id"].astype(str)})
    out["risk_level"] = (risk["risk_level"].astype(float) - 1) / max(k - 1, 1)
    out["risk_score"] = _minmax(risk["risk_score"])
    out["p_high"] = risk["p_top"].astype(float) if "p_top" in risk else np.nan
    out["expected_children"] = (_minmax(risk["expected_children"])
                                if "expected_children" in risk else np.nan)
    return out


def _minmax(values: pd.Series) -> pd.Series:
    v = values.astype(float)
    lo, hi = v.min(), v.max()
    if not np.isfinite(lo) or hi == lo:
        return v * 0.0 + (0.0 if np.isfinite(lo) else np.nan)
    return (v - lo) / (hi - lo)


def criteria_matrix(risk: pd.DataFrame, criteria: pd.DataFrame) -> pd.DataFrame:
    """Candidates × normalised criteria (model risk joined to the team's ratings)."""
    team = criteria.drop(columns=["notes"], errors="ignore").copy()
    ratings = [c for c in team.columns if c != "territory_id"]
    team[ratings] = (team[ratings] - 1) / 4
    norm = normalised_risk(risk)
    return team.merge(norm, on="territory_id", how="left")[["territory_id", *RISK_CRITERIA,
                                                            *ratings]]


def score_candidates(risk: pd.DataFrame, criteria: pd.DataFrame, weights: Mapping[str, float],
                     *, weights_file: str | Path | None = None) -> pd.DataFrame:
    """Ranked candidates with raw criteria, normalised criteria, contributions and the score.

    Columns: ``rank, territory_id, name, region_id, risk_label, risk_score, p_top,
    expected_children, <ratings>, score`` and one ``w_<criterion>`` contribution per criterion
    (weight × normalised value; contributions add up to the score). Ties are broken by
    territory id so the ranking is deterministic.
    """
    ratings = [c for c in criteria.columns if c not in ("territory_id", "notes")]
    weights = validate_weights(weights, ratings, weights_file)
    matrix = criteria_matrix(risk, criteria)
    for crit, w in weights.items():
        if w > 0 and matrix[crit].isna().all():
            raise data_error(weights_file, f"key 'weights.{crit}': this criterion is not "
                             "available for this country (it uses the IVTI, or the model "
                             "results lack it)", f"set '{crit}: 0' and give its weight to "
                             "another criterion")
    contrib = pd.DataFrame({"territory_id": matrix["territory_id"]})
    for crit in [*RISK_CRITERIA, *ratings]:
        w = weights.get(crit, 0.0)
        contrib[f"w_{crit}"] = w * matrix[crit].fillna(0.0) if w > 0 else 0.0
    contrib["score"] = contrib[[c for c in contrib.columns if c.startswith("w_")]].sum(axis=1)
    info_cols = [c for c in ("territory_id", "name", "region_id", "risk_level", "risk_label",
                             "risk_score", "p_top", "expected_children") if c in risk.columns]
    info = risk[info_cols].copy()
    info["territory_id"] = info["territory_id"].astype(str)
    out = (criteria.drop(columns=["notes"], errors="ignore")
           .merge(info, on="territory_id", how="left")
           .merge(contrib, on="territory_id"))
    out = out.sort_values(["score", "territory_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["weights"] = dict(weights)
    return out


def split_weights(weights: Mapping[str, float], risk_weight: float,
                  available: Sequence[str] = RISK_CRITERIA) -> dict[str, float]:
    """Re-weight: total ``risk_weight`` on the model-risk group, the rest on the team group.

    Within each group the team's relative weights are kept; a group whose weights are all zero
    gets equal weights over its (available) criteria, so every point of the sensitivity curve is
    defined.
    """
    risk = {c: w for c, w in weights.items() if c in RISK_CRITERIA}
    team = {c: w for c, w in weights.items() if c not in RISK_CRITERIA}
    out: dict[str, float] = {}
    for group, share in ((risk, risk_weight), (team, 1.0 - risk_weight)):
        names = [c for c in group if c in available or c not in RISK_CRITERIA]
        if not names:
            continue
        total = sum(group[c] for c in names)
        for c in names:
            out[c] = share * (group[c] / total if total > 0 else 1.0 / len(names))
    for c in weights:
        out.setdefault(c, 0.0)
    return out


def weight_sensitivity(risk: pd.DataFrame, criteria: pd.DataFrame, weights: Mapping[str, float],
                       grid: Sequence[float] | None = None) -> pd.DataFrame:
    """Score and rank of every candidate as the total weight on model risk goes from 0 to 1.

    Long table: ``risk_weight, territory_id, name, score, rank``. Read it as: "if the team had
    put X% of the weight on model risk (keeping the same proportions inside each group), which
    territory would come first?".
    """
    grid = list(np.round(np.linspace(0, 1, 21), 4) if grid is None else grid)
    ratings = [c for c in criteria.columns if c not in ("territory_id", "notes")]
    validate_weights(weights, ratings)
    matrix = criteria_matrix(risk, criteria)
    available = [c for c in RISK_CRITERIA if matrix[c].notna().any()]
    cols = [*RISK_CRITERIA, *ratings]
    values = matrix[cols].fillna(0.0).to_numpy(dtype=float)
    names = matrix["territory_id"].map(
        risk.assign(territory_id=risk["territory_id"].astype(str))
        .set_index("territory_id")["name"]).to_numpy()
    ids = matrix["territory_id"].to_numpy()
    rows = []
    for t in grid:
        w = split_weights(weights, float(t), available)
        score = values @ np.array([w.get(c, 0.0) for c in cols])
        order = np.lexsort((ids, -score))  # score descending, then territory id
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(1, len(order) + 1)
        rows.append(pd.DataFrame({"risk_weight": float(t), "territory_id": ids, "name": names,
                                  "score": score, "rank": rank}))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["risk_weight", "rank"]).reset_index(drop=True)


def top_choices(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """First-ranked territory per weight on risk, with its margin over the second."""
    rows = []
    for t, grp in sensitivity.groupby("risk_weight", sort=True):
        grp = grp.sort_values("rank")
        first = grp.iloc[0]
        margin = first["score"] - grp.iloc[1]["score"] if len(grp) > 1 else np.nan
        rows.append({"risk_weight": t, "territory_id": first["territory_id"],
                     "name": first["name"], "score": first["score"], "margin": margin})
    return pd.DataFrame(rows)


def current_risk_weight(weights: Mapping[str, float]) -> float:
    """Total weight the team put on the model-risk criteria."""
    return float(sum(w for c, w in weights.items() if c in RISK_CRITERIA))


def switch_points(top: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``top_choices`` where the first-ranked territory changes (compact summary)."""
    changed = top["territory_id"].ne(top["territory_id"].shift())
    return top.loc[changed].reset_index(drop=True)


def criterion_label(code: str) -> str:
    """Translated name of a criterion (team-added criteria show their column name)."""
    labels = {"risk_level": _("Risk level"), "risk_score": _("Risk score"),
              "p_high": _("Probability of high risk"),
              "expected_children": _("Expected children in child labour"),
              "institutional_capacity": _("Institutional capacity"),
              "political_interest": _("Political interest"),
              "time_available": _("Time available")}
    return labels.get(code, code.replace("_", " "))


def weights_table(weights: Mapping[str, float]) -> pd.DataFrame:
    """The team's weights, model-risk criteria first, as a display table."""
    order = [c for c in RISK_CRITERIA if c in weights] + [c for c in weights
                                                          if c not in RISK_CRITERIA]
    return pd.DataFrame({
        _("Criterion"): [criterion_label(c) for c in order],
        _("Source"): [_("model (Phase I)") if c in RISK_CRITERIA else _("team rating (1–5)")
                      for c in order],
        _("Weight"): [round(float(weights[c]), 3) for c in order],
    })


def selection_table(scored: pd.DataFrame, model: bool = True) -> pd.DataFrame:
    """Ranked candidates with their raw criteria and score, translated headers."""
    ratings = [c for c in scored.columns if c not in (
        "rank", "territory_id", "name", "region_id", "risk_level", "risk_label", "risk_score",
        "p_top", "expected_children", "score") and not c.startswith("w_")]
    out = pd.DataFrame({_("Rank"): scored["rank"],
                        _("Territory"): scored["name"].astype(str) + " ("
                        + scored["territory_id"].astype(str) + ")",
                        _("Risk level"): scored["risk_label"]})
    if model:
        out[_("Probability of child labour (%)")] = (100 * scored["risk_score"]).round(1)
        out[_("Probability of high risk")] = scored["p_top"].round(2)
        out[_("Expected children in child labour")] = scored["expected_children"].round(0)
    else:
        out[_("Child labour vulnerability index (IVTI)")] = scored["risk_score"].round(3)
    for c in ratings:
        out[criterion_label(c)] = scored[c].astype(int)
    out[_("Selection score (0–1)")] = scored["score"].round(3)
    return out


def top_choices_table(top: pd.DataFrame, current: float) -> pd.DataFrame:
    """Top choice at a few weight sets (0, .25, .5, .75, 1 on risk) and at the team's."""
    grid = sorted({0.0, 0.25, 0.5, 0.75, 1.0, round(float(current), 4)})
    rows = top[top["risk_weight"].round(4).isin(grid)]
    return pd.DataFrame({
        _("Weight on model risk"): rows["risk_weight"].round(2).to_numpy(),
        _("Weight on the team's criteria"): (1 - rows["risk_weight"]).round(2).to_numpy(),
        _("First-ranked territory"): (rows["name"].astype(str) + " ("
                                      + rows["territory_id"].astype(str) + ")").to_numpy(),
        _("Score"): rows["score"].round(3).to_numpy(),
        _("Lead over the second"): rows["margin"].round(3).to_numpy(),
    })
