"""What-if scenarios: the model's probability of child labour for a described child.

Why: in training sessions the question is always "what changes if this household left poverty,
or if the child went to school?". A scenario is one row of covariates passed through the fitted
model — ``RiskModel.predict`` — so the numbers are exactly the model's, never a second
implementation. In Jupyter the widget lets trainers move sliders; the static site cannot run a
kernel, so chapter 4 also shows a pre-computed table of scenarios and its chart.

Interactive HTML without a kernel (plotly with a slider) is deliberately not produced: an
offline plotly page inlines ~4.5 MB of JavaScript per chapter and language, and the CDN
alternative breaks the manual's "no network" rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _, get_language
from clrisk.schema import COVARIATES
from clrisk.tables import fmt_number, fmt_percent, fmt_pp

# Slider ranges for non-binary covariates when no data are given (children 5-17).
DEFAULT_RANGES: dict[str, tuple[float, float, float]] = {
    "age": (5, 17, 1),
    "head_schooling": (0, 17, 1),
    "household_size": (2, 12, 1),
    "n_children": (1, 8, 1),
}


def _covariates(model: Any) -> list[str]:
    return list(model.covariates)


def _row(model: Any, child: Mapping[str, float]) -> pd.DataFrame:
    covs = _covariates(model)
    missing = [c for c in covs if c not in child]
    if missing:
        raise data_error(None, f"the scenario does not give a value for {', '.join(missing)}",
                         "give every covariate of the model a value (start from base_child())",
                         column=missing[0])
    return pd.DataFrame({c: [float(child[c])] for c in covs})


def scenario_probability(model: Any, child: Mapping[str, float]) -> float:
    """Probability of child labour that ``model`` gives a child described by ``child``
    (covariate -> value; extra keys are ignored)."""
    return float(model.predict(_row(model, child))[0])


def is_binary(name: str, data: pd.DataFrame | None = None) -> bool:
    """Whether a covariate is 0/1 (catalogue kind; for unknown names, from the data)."""
    spec = COVARIATES.get(name)
    if spec is not None:
        return spec.kind == "binary"
    if data is not None and name in data.columns:
        return bool(data[name].dropna().isin([0, 1]).all())
    return False


def base_child(data: pd.DataFrame, covariates: Sequence[str], weight: str | None = "weight"
               ) -> dict[str, float]:
    """The "typical" child of a survey: for 0/1 covariates the (weighted) more common value,
    for the others the weighted median rounded to a whole number. A reference point for
    scenarios, not an average child (averages of 0/1 variables describe nobody)."""
    w = (data[weight].to_numpy(dtype=float) if weight and weight in data.columns
         else np.ones(len(data)))
    out: dict[str, float] = {}
    for c in covariates:
        x = data[c].to_numpy(dtype=float)
        ok = np.isfinite(x)
        x, ww = x[ok], w[ok]
        if is_binary(c, data):
            out[c] = float(np.average(x, weights=ww) >= 0.5)
        else:
            order = np.argsort(x, kind="stable")
            cum = np.cumsum(ww[order])
            out[c] = float(np.round(x[order][np.searchsorted(cum, cum[-1] / 2.0)]))
    return out


def _value_text(name: str, value: float, lang: str, data: pd.DataFrame | None = None) -> str:
    if is_binary(name, data):
        return _("yes", lang) if value >= 0.5 else _("no", lang)
    return fmt_number(value, 0, lang)


def default_variations(base: Mapping[str, float], covariates: Sequence[str],
                       data: pd.DataFrame | None = None) -> list[dict[str, float]]:
    """One change at a time from ``base``: flip each 0/1 covariate; move each other covariate
    to the low and high end of its range (a scenario equal to the base is skipped)."""
    out: list[dict[str, float]] = []
    for c in covariates:
        if is_binary(c, data):
            out.append({c: 1.0 - float(base[c])})
            continue
        if data is not None and c in data.columns:
            lo, hi = np.nanpercentile(data[c].to_numpy(dtype=float), [5, 95])
            lo, hi = float(np.round(lo)), float(np.round(hi))
        else:
            lo, hi, _step = DEFAULT_RANGES.get(c, (base[c] - 1, base[c] + 1, 1))
        for v in (lo, hi):
            if float(v) != float(base[c]):
                out.append({c: float(v)})
    return out


def scenario_label(changes: Mapping[str, float], base: Mapping[str, float], profile: Any = None,
                   lang: str | None = None, data: pd.DataFrame | None = None) -> str:
    """Readable description of a scenario, e.g. "Household in poverty: yes → no"."""
    lang = lang or get_language()
    parts = []
    for c, v in changes.items():
        label = profile.label(c, lang) if profile is not None else c
        parts.append(f"{label}: {_value_text(c, base[c], lang, data)} → "
                     f"{_value_text(c, v, lang, data)}")
    return "; ".join(parts)


def scenario_table(model: Any, base: Mapping[str, float],
                   variations: Sequence[Mapping[str, float]] | None = None, profile: Any = None,
                   lang: str | None = None, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pre-computed scenarios: the base child first, then each variation of it.

    Columns: ``scenario`` (translated description), ``changes`` (dict), ``probability``,
    ``difference`` (probability − base probability). ``variations`` default to
    :func:`default_variations`. All rows are predicted in one call to ``model.predict``.
    """
    lang = lang or get_language()
    covs = _covariates(model)
    if variations is None:
        variations = default_variations(base, covs, data)
    rows = [dict(base)] + [{**base, **v} for v in variations]
    frame = pd.concat([_row(model, r) for r in rows], ignore_index=True)
    prob = np.asarray(model.predict(frame), dtype=float)
    labels = [_("Base child", lang)] + [scenario_label(v, base, profile, lang, data)
                                         for v in variations]
    return pd.DataFrame({
        "scenario": labels,
        "changes": [{}] + [dict(v) for v in variations],
        "probability": prob,
        "difference": prob - prob[0],
    })


def describe_base(base: Mapping[str, float], profile: Any = None, lang: str | None = None,
                  data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Two-column table describing the base child (covariate label, value) for display."""
    lang = lang or get_language()
    return pd.DataFrame({
        _("Characteristic", lang): [profile.label(c, lang) if profile is not None else c
                                    for c in base],
        _("Value", lang): [_value_text(c, v, lang, data) for c, v in base.items()],
    })


def display_scenarios(table: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """The scenario table with translated headers and locale-formatted numbers."""
    lang = lang or get_language()
    return pd.DataFrame({
        _("Scenario", lang): table["scenario"].to_numpy(),
        _("Probability of child labour", lang): [fmt_percent(p, 1, lang)
                                                 for p in table["probability"]],
        _("Difference from the base child", lang): ["—" if i == 0 else fmt_pp(d, 1, lang)
                                                    for i, d in enumerate(table["difference"])],
    })


def whatif_widget(model: Any, profile: Any = None, lang: str | None = None,
                  base: Mapping[str, float] | None = None,
                  data: pd.DataFrame | None = None) -> Any:
    """ipywidgets panel: a toggle per 0/1 covariate, a slider per other covariate, and the
    model's probability of child labour for the child so described, updated live.

    Needs a running kernel (Jupyter, Binder); on the static site chapter 4 shows
    :func:`scenario_table` instead.
    """
    import ipywidgets as widgets  # local: the CLI and the tests of the engine do not need it

    lang = lang or get_language()
    covs = _covariates(model)
    base = dict(base) if base is not None else (
        base_child(data, covs) if data is not None else {c: 0.0 for c in covs})
    controls: dict[str, Any] = {}
    for c in covs:
        label = profile.label(c, lang) if profile is not None else c
        if is_binary(c, data):
            controls[c] = widgets.ToggleButtons(
                options=[(_("no", lang), 0.0), (_("yes", lang), 1.0)], value=float(base[c]),
                description=label, style={"description_width": "initial"})
        else:
            if data is not None and c in data.columns:
                lo, hi = float(np.nanmin(data[c])), float(np.nanmax(data[c]))
                step = 1.0
            else:
                lo, hi, step = DEFAULT_RANGES.get(c, (0.0, 10.0, 1.0))
            controls[c] = widgets.FloatSlider(
                value=float(min(max(base[c], lo), hi)), min=lo, max=hi, step=step,
                description=label, readout_format=".0f", style={"description_width": "initial"},
                layout=widgets.Layout(width="32em"))
    p0 = scenario_probability(model, base)
    readout = widgets.HTML()

    def update(_change: Any = None) -> None:
        child = {c: float(w.value) for c, w in controls.items()}
        p = scenario_probability(model, child)
        readout.value = (f"<b>{_('Probability of child labour', lang)}: {fmt_percent(p, 1, lang)}"
                         f"</b> ({_('base child', lang)}: {fmt_percent(p0, 1, lang)})")

    for w in controls.values():
        w.observe(update, names="value")
    update()
    return widgets.VBox([*controls.values(), readout])
