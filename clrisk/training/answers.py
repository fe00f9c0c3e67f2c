"""Workshop exercises whose answers are computed from one country's results.

Why computed, not written: the same exercise sheet is used in nine countries and three
languages; a Guatemala workshop must get Guatemala's answers, and when the estimators change
(instrument 2, small-area estimates) the answers follow. Every function below reads result
tables *by column name* — ``clrisk.pipeline.run_country`` (territories, factor weights,
national ranking, model, IVTI) and the Phase II steps built on it — and returns plain text in
the reader's language plus the raw values (``Exercise.values``) that the tests recompute.

Exercises are graded from 1 (read a map) to 5 (design a local plan). A country with only the
vulnerability index (IVTI) gets IVTI versions of the questions about the risk model, so every
country has the same number of exercises.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clrisk.i18n import _, format_list
from clrisk.tables import fmt_int, fmt_number, fmt_percent, fmt_pp, level_names

# Grades (the facilitator's guide uses them to pace a session).
LEVELS = {1: "Reading a map", 2: "Comparing territories", 3: "Interpreting with care",
          4: "From factors to sectors", 5: "Designing a local plan"}


@dataclass
class Exercise:
    """One exercise: where it belongs, its grade, the question and the computed answer."""

    key: str  # "p1-01": stable label used by the guide and the tests
    chapter: str  # the Phase I / II chapter it practises (notebooks/<chapter>.md)
    level: int  # 1..5, see LEVELS
    question: str
    answer: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingData:
    """A country's results as the exercises read them (computed once per chapter)."""

    key: str
    lang: str
    profile: Any
    source: str  # "risk_model" or "ivti": which instrument drives levels
    risk: pd.DataFrame  # Phase II risk table (one row per territory, canonical columns)
    factors: pd.DataFrame  # territory x factor weights (positive only)
    k: int
    model: Any = None
    national_factors: pd.DataFrame | None = None
    territories: pd.DataFrame | None = None  # run_country().territories (risk model only)
    ivti: pd.DataFrame | None = None
    phase2: Any = None  # clrisk.phase2.steps.Country
    selection: Any = None
    liaison: Any = None
    characterisation: Any = None
    service_map: Any = None
    plan: Any = None

    @property
    def chosen(self) -> str:
        return str(self.selection.chosen)


def load_training(country: str = "peru", data_dir: Any = None, lang: str = "en"
                  ) -> TrainingData:
    """Run Phase I (``run_country``) and the five Phase II steps for ``country``.

    Why both: Phase I exercises need the model and national ranking, which the Phase II inputs
    do not keep; Phase II exercises need the territory the selection chooses. Both use the same
    draws and seed as the chapters, so answers match what the chapters show.
    """
    from clrisk.errors import DataError
    from clrisk.i18n import set_language
    from clrisk.phase2 import steps

    set_language(lang)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p2 = steps.load(country, data_dir)
        result = _cached_run(p2)
        sel = steps.selection(p2)
        tid = sel.chosen
        smap = steps.service_map(p2, tid)
        try:
            plan = steps.intervention(p2, tid, smap)
        except DataError:
            # Worksheets out of step with the factor list: Phase II exercises that need the
            # plan say so instead of stopping the whole chapter.
            plan = None
        td = TrainingData(
            key=p2.key, lang=lang, profile=p2.data.profile, source=p2.inputs.source,
            risk=p2.inputs.risk, factors=p2.inputs.factors, k=p2.inputs.k, model=result.model,
            national_factors=result.national_factors, territories=result.territories,
            ivti=result.ivti, phase2=p2, selection=sel, liaison=steps.liaison(p2, tid),
            characterisation=steps.characterisation(p2, tid), service_map=smap,
            plan=plan)
    return td


def _cached_run(p2: Any) -> Any:
    """``run_country`` for the Phase II country, from the shared Phase I cache.

    Why: the training chapters run for every country and language in CI; the Phase I
    chapters and Phase II have usually computed this run already (:func:`clrisk.pipeline.
    run_country_cached`). The tables used here carry codes and numbers, not labels, so the
    English entry serves every language.
    """
    from clrisk.i18n import get_language, set_language
    from clrisk.pipeline import run_country_cached

    lang = get_language()
    set_language("en")
    try:
        return run_country_cached(p2.data)
    finally:
        set_language(lang)


# --- small helpers ------------------------------------------------------------------------------

def _model(td: TrainingData) -> bool:
    return td.source == "risk_model" and td.model is not None


def score_text(td: TrainingData, value: float) -> str:
    """A risk score as the reader sees it: a probability (%) or an index (two decimals)."""
    return fmt_percent(value, 1, td.lang) if _model(td) else fmt_number(value, 2, td.lang)


def level_name(td: TrainingData, level: int) -> str:
    return level_names(td.k, td.lang)[int(level) - 1]


def region_name(td: TrainingData, region_id: str) -> str:
    rows = td.risk[td.risk["region_id"] == str(region_id)]
    return str(rows["region_name"].iloc[0]) if len(rows) else str(region_id)


def factor_label(td: TrainingData, factor: str) -> str:
    return td.profile.label(factor, td.lang)


def sector_name(sector: Any) -> str:
    from clrisk.phase2.liaison import sector_label

    return sector_label(str(sector)) if isinstance(sector, str) and sector else "—"


def join(items: list[str], td: TrainingData) -> str:
    """"a, b and c" in the reader's language."""
    if not items:
        return _("none")
    return format_list(items)


def top_level(td: TrainingData) -> pd.DataFrame:
    return td.risk[td.risk["risk_level"] == td.k]


def national_ranking(td: TrainingData) -> pd.DataFrame:
    """Factors ranked nationally: the model's ranking (children attributable) or, for the
    IVTI, the mean share of the index over territories."""
    if _model(td) and td.national_factors is not None and len(td.national_factors):
        nf = td.national_factors.sort_values("rank")
        return nf[["factor", "sector"]].reset_index(drop=True)
    mean = (td.factors.groupby(["factor", "sector"], dropna=False)["share"].sum()
            / td.risk["territory_id"].nunique()).reset_index()
    mean = mean.sort_values(["share", "factor"], ascending=[False, True])
    return mean[["factor", "sector"]].reset_index(drop=True)


def first_factor(td: TrainingData, territory_id: str) -> pd.Series | None:
    f = td.factors[(td.factors["territory_id"] == str(territory_id)) & (td.factors["rank"] == 1)]
    return f.iloc[0] if len(f) else None


def odds_table(td: TrainingData) -> pd.DataFrame:
    """Odds ratios of the covariates (intercept dropped), sorted by covariate name."""
    ors = td.model.odds_ratios().drop(index="const", errors="ignore")
    return ors.sort_index()


def _ex(key: str, chapter: str, level: int, question: str, answer: str, **values: Any
        ) -> Exercise:
    return Exercise(key, chapter, level, question, answer, values)


# --- Phase I ------------------------------------------------------------------------------------

def ex_top_count(td: TrainingData) -> Exercise:
    n, total = len(top_level(td)), len(td.risk)
    return _ex("p1-01", "p1_06_levels_maps", 1,
               _("On the map of risk levels, how many territories are in the highest level "
                 "(“{level}”), out of how many?").format(level=level_name(td, td.k)),
               _("{n} of {total} territories ({share}).").format(
                   n=fmt_int(n, td.lang), total=fmt_int(total, td.lang),
                   share=fmt_percent(n / total, 0, td.lang)), n=n, total=total)


def ex_highest(td: TrainingData) -> Exercise:
    row = td.risk.sort_values(["risk_score", "territory_id"], ascending=[False, True]).iloc[0]
    return _ex("p1-02", "p1_06_levels_maps", 1,
               _("Which territory has the highest risk score, and in which region is it?"),
               _("{name} ({region}), with {score}.").format(
                   name=row["name"], region=region_name(td, row["region_id"]),
                   score=score_text(td, row["risk_score"])),
               territory_id=str(row["territory_id"]), score=float(row["risk_score"]))


def ex_lowest(td: TrainingData) -> Exercise:
    row = td.risk.sort_values(["risk_score", "territory_id"]).iloc[0]
    return _ex("p1-03", "p1_06_levels_maps", 1,
               _("Which territory has the lowest risk score, and what is its level?"),
               _("{name} ({region}), with {score}: level “{level}”.").format(
                   name=row["name"], region=region_name(td, row["region_id"]),
                   score=score_text(td, row["risk_score"]),
                   level=level_name(td, row["risk_level"])),
               territory_id=str(row["territory_id"]), score=float(row["risk_score"]))


def ex_region_most_top(td: TrainingData) -> Exercise:
    top = top_level(td).groupby("region_id").size()
    size = td.risk.groupby("region_id").size()
    best = sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return _ex("p1-04", "p1_06_levels_maps", 2,
               _("Which region has the most territories in the highest level?"),
               _("{region}: {n} of its {m} territories.").format(
                   region=region_name(td, best[0]), n=fmt_int(best[1], td.lang),
                   m=fmt_int(size[best[0]], td.lang)),
               region_id=str(best[0]), n=int(best[1]))


def ex_regions_without_top(td: TrainingData) -> Exercise:
    regions = sorted(td.risk["region_id"].unique())
    with_top = set(top_level(td)["region_id"])
    without = [r for r in regions if r not in with_top]
    return _ex("p1-05", "p1_06_levels_maps", 2,
               _("How many regions have no territory in the highest level? Name them."),
               _("{n} of {total} regions: {names}.").format(
                   n=fmt_int(len(without), td.lang), total=fmt_int(len(regions), td.lang),
                   names=join([region_name(td, r) for r in without], td)),
               n=len(without), regions=without)


def ex_share_expected(td: TrainingData) -> Exercise:
    if _model(td):
        total = float(td.risk["expected_children"].sum())
        top = float(top_level(td)["expected_children"].sum())
        return _ex("p1-06", "p1_06_levels_maps", 2,
                   _("What share of the expected children in child labour live in the "
                     "territories of the highest level?"),
                   _("{share}: {top} of {total} expected children. The others live in lower "
                     "levels — a level ranks how likely child labour is, it does not count "
                     "children.").format(share=fmt_percent(top / total, 0, td.lang),
                                         top=fmt_int(top, td.lang),
                                         total=fmt_int(total, td.lang)),
                   share=top / total)
    means = td.risk.groupby("region_id")["risk_score"].mean()
    best = sorted(means.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return _ex("p1-06", "p1_06_levels_maps", 2,
               _("Which region has the highest average vulnerability index over its "
                 "territories?"),
               _("{region}, with an average index of {score}.").format(
                   region=region_name(td, best[0]), score=fmt_number(best[1], 2, td.lang)),
               region_id=str(best[0]), score=float(best[1]))


def ex_most_expected(td: TrainingData) -> Exercise:
    if _model(td):
        row = td.risk.sort_values(["expected_children", "territory_id"],
                                  ascending=[False, True]).iloc[0]
        rank = int((td.risk["risk_score"] > row["risk_score"]).sum()) + 1
        return _ex("p1-07", "p1_06_levels_maps", 3,
                   _("Which territory has the most expected children in child labour? What is "
                     "its level, and where does it rank by risk score?"),
                   _("{name}: {n} expected children, level “{level}”, rank {rank} of {total} "
                     "by risk score.").format(
                       name=row["name"], n=fmt_int(row["expected_children"], td.lang),
                       level=level_name(td, row["risk_level"]), rank=rank,
                       total=len(td.risk)),
                   territory_id=str(row["territory_id"]), rank=rank)
    bound = float(top_level(td)["risk_score"].min())
    return _ex("p1-07", "p1_06_levels_maps", 3,
               _("What is the lowest index value that still puts a territory in the highest "
                 "level?"),
               _("{score}. Territories just below it are not very different from those just "
                 "above it.").format(score=fmt_number(bound, 3, td.lang)), bound=bound)


def ex_solid_labels(td: TrainingData) -> Exercise:
    top = top_level(td)
    if _model(td) and top["p_top"].notna().any():
        solid = int((top["p_top"] >= 0.8).sum())
        border = int(((td.risk["p_top"] > 0.2) & (td.risk["p_top"] < 0.8)).sum())
        return _ex("p1-08", "p1_06_levels_maps", 3,
                   _("How many “{level}” labels are solid (P(high risk) of 80% or more), and how "
                     "many territories are borderline (P(high risk) between 20% and 80%)?").format(
                       level=level_name(td, td.k)),
                   _("{solid} of the {n} labels are solid; {border} territories are "
                     "borderline.").format(solid=fmt_int(solid, td.lang),
                                           n=fmt_int(len(top), td.lang),
                                           border=fmt_int(border, td.lang)),
                   solid=solid, borderline=border)
    bound = float(top["risk_score"].min())
    near = int(((td.risk["risk_score"] - bound).abs() <= 0.05).sum())
    return _ex("p1-08", "p1_06_levels_maps", 3,
               _("How many territories have an index within 0.05 of the boundary of the highest "
                 "level (on either side)?"),
               _("{n} territories: their level could change with slightly different "
                 "administrative records.").format(n=fmt_int(near, td.lang)), n=near)


def ex_largest_or(td: TrainingData) -> Exercise:
    if _model(td):
        ors = odds_table(td)
        name = sorted(ors.index, key=lambda c: (-ors.loc[c, "odds_ratio"], c))[0]
        r = ors.loc[name]
        return _ex("p1-09", "p1_04_interpret", 3,
                   _("Which characteristic has the largest odds ratio? Say in plain words what "
                     "it means (careful: odds are not probabilities)."),
                   _("{label}: odds ratio {or_} (95% interval {lo} to {hi}). The odds of child "
                     "labour are {or_} times those of an otherwise similar child — not "
                     "{or_} times the probability.").format(
                       label=factor_label(td, name), or_=fmt_number(r["odds_ratio"], 2, td.lang),
                       lo=fmt_number(r["ci_low"], 2, td.lang),
                       hi=fmt_number(r["ci_high"], 2, td.lang)),
                   covariate=name, odds_ratio=float(r["odds_ratio"]))
    ranking = national_ranking(td)
    name = str(ranking["factor"].iloc[0])
    return _ex("p1-09", "p1_09_ivti", 3,
               _("Which indicator contributes most to the index on average?"),
               _("{label}.").format(label=factor_label(td, name)), indicator=name)


def ex_or_includes_one(td: TrainingData) -> Exercise:
    if _model(td):
        ors = odds_table(td)
        inc = [c for c in ors.index if ors.loc[c, "ci_low"] <= 1.0 <= ors.loc[c, "ci_high"]]
        return _ex("p1-10", "p1_04_interpret", 3,
                   _("Which characteristics have a 95% interval of the odds ratio that includes "
                     "1 (“no effect”)?"),
                   _("{names}. For these the data are compatible with no effect: do not present "
                     "them as risk or protection factors.").format(
                       names=join([factor_label(td, c) for c in inc], td)),
                   covariates=inc)
    dims = [c for c in (td.ivti.columns if td.ivti is not None else [])
            if c.startswith("dimension_")]
    means = {c[len("dimension_"):]: float(td.ivti[c].mean()) for c in dims}
    best = sorted(means.items(), key=lambda kv: (-kv[1], kv[0]))[0] if means else ("—", np.nan)
    return _ex("p1-10", "p1_09_ivti", 3,
               _("Which dimension of the index has the highest average value?"),
               _("{dimension}, with an average of {value}.").format(
                   dimension=_(best[0].replace("_", " ").capitalize()),
                   value=fmt_number(best[1], 2, td.lang)), dimension=best[0])


def ex_odds_to_probability(td: TrainingData) -> Exercise:
    if _model(td):
        ors = odds_table(td)
        name = sorted(ors.index, key=lambda c: (-ors.loc[c, "odds_ratio"], c))[0]
        orv = float(ors.loc[name, "odds_ratio"])
        p0 = float((td.risk["expected_children"].sum()) / td.risk["children"].sum())
        odds = p0 / (1 - p0) * orv
        p1 = odds / (1 + odds)
        return _ex("p1-11", "p1_04_interpret", 3,
                   _("The national mean probability is {p0}. If a child's odds are multiplied by "
                     "the largest odds ratio ({or_}), what is the new probability?").format(
                       p0=fmt_percent(p0, 1, td.lang), or_=fmt_number(orv, 2, td.lang)),
                   _("{p1}: the odds go from {o0} to {o1}, so the probability is multiplied by "
                     "{ratio}, not by {or_}.").format(
                       p1=fmt_percent(p1, 1, td.lang), o0=fmt_number(p0 / (1 - p0), 3, td.lang),
                       o1=fmt_number(odds, 3, td.lang), ratio=fmt_number(p1 / p0, 2, td.lang),
                       or_=fmt_number(orv, 2, td.lang)),
                   p0=p0, p1=p1)
    mean = float(td.risk["risk_score"].mean())
    n = int((td.risk["risk_score"] > mean).sum())
    return _ex("p1-11", "p1_09_ivti", 3,
               _("How many territories have an index above the national average of the "
                 "index?"),
               _("{n} territories (average {mean}).").format(
                   n=fmt_int(n, td.lang), mean=fmt_number(mean, 2, td.lang)), n=n)


def ex_national_factor(td: TrainingData) -> Exercise:
    row = national_ranking(td).iloc[0]
    return _ex("p1-12", "p1_07_factors", 2,
               _("Which factor carries the most weight nationally, and which sector acts on "
                 "it?"),
               _("{label} — sector: {sector}.").format(label=factor_label(td, row["factor"]),
                                                       sector=sector_name(row["sector"])),
               factor=str(row["factor"]))


def ex_first_factor_highest(td: TrainingData) -> Exercise:
    row = td.risk.sort_values(["risk_score", "territory_id"], ascending=[False, True]).iloc[0]
    f = first_factor(td, row["territory_id"])
    if f is None:
        answer, fac = _("No factor has a positive weight there."), None
    elif _model(td):
        fac = str(f["factor"])
        answer = _("{label} ({sector}): without it the territory's probability would be {pp} "
                   "lower.").format(label=factor_label(td, fac), sector=sector_name(f["sector"]),
                                    pp=fmt_pp(f["delta_pp"] / 100.0, 1, td.lang))
    else:
        fac = str(f["factor"])
        answer = _("{label} ({sector}): {share} of the territory's index.").format(
            label=factor_label(td, fac), sector=sector_name(f["sector"]),
            share=fmt_percent(f["share"], 0, td.lang))
    return _ex("p1-13", "p1_07_factors", 3,
               _("In {name}, the territory with the highest risk score, which factor ranks "
                 "first, and how much does it weigh?").format(name=row["name"]),
               answer, factor=fac)


def ex_national_not_first(td: TrainingData) -> Exercise:
    nat = str(national_ranking(td)["factor"].iloc[0])
    firsts = td.factors[td.factors["rank"] == 1]
    n = int((firsts["factor"] != nat).sum())
    total = int(td.risk["territory_id"].nunique())
    return _ex("p1-14", "p1_07_factors", 3,
               _("In how many territories is the national first factor ({label}) not the "
                 "first-ranked factor?").format(label=factor_label(td, nat)),
               _("{n} of {total} territories: a national ranking hides local differences.")
               .format(n=fmt_int(n, td.lang), total=fmt_int(total, td.lang)), n=n)


def ex_region_first_factor(td: TrainingData) -> Exercise:
    nat = str(national_ranking(td)["factor"].iloc[0])
    firsts = td.factors[td.factors["rank"] == 1].merge(
        td.risk[["territory_id", "region_id"]], on="territory_id")
    lines, values = [], {}
    for region, group in firsts.groupby("region_id", sort=True):
        counts = group["factor"].value_counts()
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        values[str(region)] = str(best)
        if best != nat:
            lines.append(f"{region_name(td, region)} ({factor_label(td, best)})")
    return _ex("p1-15", "p1_07_factors", 3,
               _("In which regions is the factor most often ranked first in their territories "
                 "not the national first factor ({label})?").format(label=factor_label(td, nat)),
               _("{regions}.").format(regions=join(lines, td)), regions=values)


def ex_sectors_top(td: TrainingData) -> Exercise:
    ids = set(top_level(td)["territory_id"])
    firsts = td.factors[(td.factors["rank"] == 1) & td.factors["territory_id"].isin(ids)]
    counts = firsts["sector"].fillna("").value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = "; ".join(_("{name}: {n}").format(name=sector_name(s), n=fmt_int(n, td.lang))
                     for s, n in order)
    return _ex("p1-16", "p1_07_factors", 4,
               _("Which sectors should sit at the table in the highest-level territories? Count "
                 "in how many of them each sector acts on the first-ranked factor."),
               text + ".", sectors={str(s): int(n) for s, n in order})


def ex_ivti_agreement(td: TrainingData) -> Exercise:
    if _model(td) and td.ivti is not None:
        both = set(top_level(td)["territory_id"]) & set(
            td.ivti.loc[td.ivti["risk_level"] == td.ivti["risk_level"].max(), "territory_id"]
            .astype(str))
        return _ex("p1-17", "p1_09_ivti", 3,
                   _("How many territories are in the highest level both by the risk model and "
                     "by the vulnerability index (IVTI)?"),
                   _("{n} of the {m} territories of the model's highest level. Where the two "
                     "disagree, look at why before choosing.").format(
                       n=fmt_int(len(both), td.lang), m=fmt_int(len(top_level(td)), td.lang)),
                   n=len(both))
    counts = td.risk["risk_level"].value_counts().sort_index()
    return _ex("p1-17", "p1_09_ivti", 1,
               _("How many territories does the vulnerability index put in each level?"),
               "; ".join(_("{name}: {n}").format(name=level_name(td, lv), n=fmt_int(n, td.lang))
                         for lv, n in counts.items()) + ".",
               counts={int(k): int(v) for k, v in counts.items()})


# --- Phase II -----------------------------------------------------------------------------------

def _chosen_row(td: TrainingData) -> pd.Series:
    return td.risk[td.risk["territory_id"] == td.chosen].iloc[0]


def ex_chosen(td: TrainingData) -> Exercise:
    row = _chosen_row(td)
    return _ex("p2-01", "p2_01_selection", 2,
               _("Which territory does the selection matrix choose, and what is its risk "
                 "level?"),
               _("{name} ({region}), level “{level}”.").format(
                   name=row["name"], region=region_name(td, row["region_id"]),
                   level=level_name(td, row["risk_level"])), territory_id=td.chosen)


def ex_switch(td: TrainingData) -> Exercise:
    sel = td.selection
    top = sel.top.sort_values("risk_weight").reset_index(drop=True)
    changes = [(float(top.loc[i, "risk_weight"]), str(top.loc[i, "name"]))
               for i in range(1, len(top))
               if top.loc[i, "territory_id"] != top.loc[i - 1, "territory_id"]]
    text = join([_("from {w}: {name}").format(w=fmt_percent(w, 0, td.lang), name=n)
                 for w, n in changes], td) if changes else _("the choice never changes")
    return _ex("p2-02", "p2_01_selection", 3,
               _("Risk carries {w} of the selection weights. As the weight of risk goes from 0% "
                 "to 100%, at which weights does the chosen territory change?").format(
                   w=fmt_percent(sel.risk_weight, 0, td.lang)),
               _("{changes}.").format(changes=text), changes=changes)


def ex_chosen_rank(td: TrainingData) -> Exercise:
    row = _chosen_row(td)
    rank = int((td.risk["risk_score"] > row["risk_score"]).sum()) + 1
    scored = td.selection.scored.iloc[0]
    risk_cols = [c for c in scored.index if c.startswith("w_") and
                 c[2:] in ("risk_level", "risk_score", "p_high", "expected_children")]
    other = float(scored["score"]) - float(sum(float(scored[c]) for c in risk_cols))
    return _ex("p2-03", "p2_01_selection", 3,
               _("Where does the chosen territory rank by risk score alone, and how much of its "
                 "selection score comes from the criteria that are not risk?"),
               _("Rank {rank} of {n}; {other} of its score of {score} comes from the other "
                 "criteria (capacity, interest, time).").format(
                   rank=rank, n=len(td.risk), other=fmt_number(other, 2, td.lang),
                   score=fmt_number(scored["score"], 2, td.lang)), rank=rank, other=other)


def ex_liaison(td: TrainingData) -> Exercise:
    secs = td.liaison.priority_sectors
    return _ex("p2-04", "p2_02_liaison", 3,
               _("Given the chosen territory's top three factors, which sectors must the "
                 "liaison bring to the table?"),
               _("{sectors}.").format(sectors=join([sector_name(s) for s in secs], td)),
               sectors=list(secs))


def ex_comparison(td: TrainingData) -> Exercise:
    comp = td.characterisation.comparison.set_index("area")["risk_score"]
    return _ex("p2-05", "p2_03_characterisation", 3,
               _("How does the chosen territory's risk score compare with its region and the "
                 "country?"),
               _("Territory {t}; region {r}; country {c}.").format(
                   t=score_text(td, comp["territory"]), r=score_text(td, comp["region"]),
                   c=score_text(td, comp["country"])),
               territory=float(comp["territory"]), region=float(comp["region"]),
               country=float(comp["country"]))


def ex_chosen_factors(td: TrainingData) -> Exercise:
    f = td.factors[td.factors["territory_id"] == td.chosen].sort_values("rank").head(3)
    return _ex("p2-06", "p2_03_characterisation", 3,
               _("What are the three first-ranked factors in the chosen territory, with their "
                 "share of the total weight?"),
               "; ".join(f"{factor_label(td, r.factor)} ({fmt_percent(r.share, 0, td.lang)})"
                         for r in f.itertuples()) + ".",
               factors=f["factor"].tolist())


def ex_no_service(td: TrainingData) -> Exercise:
    cov = td.service_map.coverage
    none = cov[cov["n_services"] == 0].sort_values("rank")
    return _ex("p2-07", "p2_04_services", 4,
               _("Which of the chosen territory's factors have no public service at all?"),
               _("{names}.").format(names=join([factor_label(td, f) for f in none["factor"]],
                                               td)),
               factors=none["factor"].tolist())


def ex_unmet(td: TrainingData) -> Exercise:
    cov = td.service_map.coverage
    if _model(td) and cov["unmet"].notna().any():
        unmet = float(cov["unmet"].fillna(0).sum())
        total = float(cov["children"].fillna(0).sum())
        return _ex("p2-08", "p2_04_services", 4,
                   _("Of the children attributable to the chosen territory's factors, how many "
                     "are not reached by an existing service?"),
                   _("About {unmet} of {total}.").format(unmet=fmt_int(unmet, td.lang),
                                                         total=fmt_int(total, td.lang)),
                   unmet=unmet)
    top = cov.sort_values("rank").head(3)
    n = int(top["n_services"].sum())
    return _ex("p2-08", "p2_04_services", 4,
               _("How many public services address the chosen territory's three first-ranked "
                 "factors?"),
               _("{n} services.").format(n=fmt_int(n, td.lang)), n=n)


def ex_cost(td: TrainingData) -> Exercise:
    plan = td.plan
    if plan is None:
        return _ex("p2-09", "p2_05_intervention", 5,
                   _("What does the draft plan cost in total, and which action line costs most?"),
                   _("The plan could not be built from this country's worksheets."),
                   total=None, line=None)
    lines = plan.action_lines.sort_values(["cost", "factor"], ascending=[False, True])
    top = lines.iloc[0]
    return _ex("p2-09", "p2_05_intervention", 5,
               _("What does the draft plan cost in total, and which action line costs most?"),
               _("{total} in total; the most expensive line is “{line}” ({cost}), for "
                 "{label}.").format(total=fmt_int(plan.total_cost, td.lang),
                                    line=top["action_line"], cost=fmt_int(top["cost"], td.lang),
                                    label=factor_label(td, top["factor"])),
               total=float(plan.total_cost), line=str(top["action_line"]))


def _gap_factor(td: TrainingData) -> pd.Series | None:
    cov = td.service_map.coverage.sort_values("rank")
    gaps = cov[(cov["n_services"] == 0) | (cov["unmet"].fillna(0) > 0)]
    return gaps.iloc[0] if len(gaps) else None


def ex_design(td: TrainingData) -> Exercise:
    g = _gap_factor(td)
    if g is None:
        answer, fac = _("Every factor is covered: strengthen the first-ranked one's services."), None
    else:
        fac = str(g["factor"])
        extra = (_("{n} attributable children").format(n=fmt_int(g["children"], td.lang))
                 if _model(td) else
                 _("{share} of the index").format(share=fmt_percent(g["share"], 0, td.lang)))
        answer = _("{label} (rank {rank}; {extra}) — led by the {sector} sector.").format(
            label=factor_label(td, fac), rank=int(g["rank"]), extra=extra,
            sector=sector_name(g["sector"]))
    return _ex("p2-10", "p2_05_intervention", 5,
               _("Design a local plan: which is the first-ranked factor with a service gap, "
                 "how much does it weigh and which sector should lead the action?"),
               answer, factor=fac)


def ex_monitor(td: TrainingData) -> Exercise:
    from clrisk.phase2 import steps

    g = _gap_factor(td)
    base = steps.baselines(td.phase2, td.chosen)
    fac = str(g["factor"]) if g is not None else ""
    value = base.get(fac, base.get("", np.nan))
    if fac:
        what = (_("children at risk from {label}") if _model(td) else "{label}").format(
            label=factor_label(td, fac))
    else:
        what = (_("expected children in child labour") if _model(td)
                else _("the vulnerability index"))
    return _ex("p2-11", "p2_05_intervention", 5,
               _("Which indicator would you monitor for that factor, and what is its baseline "
                 "today?"),
               _("{what}: baseline {value}.").format(what=what,
                                                    value=fmt_number(value, 1, td.lang)),
               factor=fac, baseline=float(value))


def ex_who(td: TrainingData) -> Exercise:
    """Markers describe who: the plan must reach that group, not "reduce" the marker."""
    from clrisk.schema import COVARIATES

    markers = [c for c in (td.profile.covariates or []) if c in COVARIATES
               and COVARIATES[c].factor_kind == "marker"]
    if _model(td) and markers:
        ors = odds_table(td)
        name = sorted((m for m in markers if m in ors.index),
                      key=lambda c: (-abs(np.log(ors.loc[c, "odds_ratio"])), c))[0]
        return _ex("p2-12", "p2_03_characterisation", 4,
                   _("Which marker (a characteristic that says who is at risk, not what to "
                     "change) has the strongest association with child labour, and how should "
                     "the plan use it?"),
                   _("{label} (odds ratio {or_}). Use it to reach the children concerned and "
                     "adapt services to them; it is not a cause and not a target to reduce.")
                   .format(label=factor_label(td, name),
                           or_=fmt_number(ors.loc[name, "odds_ratio"], 2, td.lang)),
                   marker=name)
    row = _chosen_row(td)
    return _ex("p2-12", "p2_03_characterisation", 4,
               _("The chosen territory is in level “{level}”. How many children in child labour "
                 "does that tell you there are?").format(level=level_name(td, row["risk_level"])),
               _("None: the index ranks structural vulnerability; a count needs a survey or "
                 "a local census of working children."), marker=None)


PHASE1: list[Callable[[TrainingData], Exercise]] = [
    ex_top_count, ex_highest, ex_lowest, ex_region_most_top, ex_regions_without_top,
    ex_share_expected, ex_most_expected, ex_solid_labels, ex_largest_or, ex_or_includes_one,
    ex_odds_to_probability, ex_national_factor, ex_first_factor_highest, ex_national_not_first,
    ex_region_first_factor, ex_sectors_top, ex_ivti_agreement]
PHASE2: list[Callable[[TrainingData], Exercise]] = [
    ex_chosen, ex_switch, ex_chosen_rank, ex_liaison, ex_comparison, ex_chosen_factors,
    ex_who, ex_no_service, ex_unmet, ex_cost, ex_design, ex_monitor]


def exercises(td: TrainingData, phase: str | None = None) -> list[Exercise]:
    """All exercises (``phase`` "1" or "2" for one part), in workshop order."""
    funcs = {"1": PHASE1, "2": PHASE2}.get(phase or "", PHASE1 + PHASE2)
    return [f(td) for f in funcs]
