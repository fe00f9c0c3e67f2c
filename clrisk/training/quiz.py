"""Self-check quizzes on the common misreadings, with correct answers taken from the data.

Why our own wrapper around ``jupyterquiz``: its ``display_quiz`` draws a random element id
(so the page would differ from build to build), emits a separate JavaScript output and shows
English feedback hard-coded in its scripts. Here the quiz is one self-contained HTML output —
its questions inline as JSON, jupyterquiz's own scripts and CSS inline, no CDN, no server — with
a deterministic id and the feedback strings in the reader's language, so it works on the
offline static site and in Jupyter alike.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from string import Template
from typing import Any

import numpy as np

from clrisk.i18n import _
from clrisk.tables import fmt_int, fmt_number, fmt_percent
from clrisk.training.answers import (
    TrainingData,
    _model,
    factor_label,
    level_name,
    odds_table,
    top_level,
)


def _mc(question: str, answers: list[tuple[str, bool, str]], key: str) -> dict[str, Any]:
    return {"question": question, "type": "multiple_choice", "key": key,
            "answers": [{"answer": a, "correct": c, "feedback": f} for a, c, f in answers]}


def q_odds(td: TrainingData) -> dict[str, Any]:
    """Odds vs probability (IVTI: an index is not a probability)."""
    if _model(td):
        ors = odds_table(td)
        name = sorted(ors.index, key=lambda c: (-ors.loc[c, "odds_ratio"], c))[0]
        orv = fmt_number(ors.loc[name, "odds_ratio"], 2, td.lang)
        label = factor_label(td, name)
        return _mc(_("The odds ratio of “{label}” is {or_}. Which sentence is right?").format(
            label=label, or_=orv), [
            (_("Children with this characteristic are {or_} times as likely to be in child "
               "labour.").format(or_=orv), False,
             _("No: that would be a ratio of probabilities. An odds ratio multiplies the odds "
               "p/(1−p), which is not the same unless p is small.")),
            (_("Their odds of child labour are {or_} times those of otherwise similar "
               "children.").format(or_=orv), True,
             _("Right: odds, not probability, and “otherwise similar” (the other "
               "characteristics held equal).")),
            (_("{or_}% of these children are in child labour.").format(or_=orv), False,
             _("No: an odds ratio is not a rate or a share of children.")),
        ], "odds")
    return _mc(_("A territory's vulnerability index is 0.6. Which sentence is right?"), [
        (_("60% of its children are in child labour."), False,
         _("No: the index combines administrative indicators; it is not a probability.")),
        (_("It is more vulnerable than territories with a lower index."), True,
         _("Right: the index ranks territories; its value has no unit of children.")),
    ], "odds")


def q_count(td: TrainingData) -> dict[str, Any]:
    """A high level is not a count."""
    top = td.risk.sort_values(["risk_score", "territory_id"], ascending=[False, True])
    highest = top.iloc[0]
    if _model(td):
        most = td.risk.sort_values(["expected_children", "territory_id"],
                                   ascending=[False, True]).iloc[0]
        other = highest if most["territory_id"] != highest["territory_id"] else top.iloc[1]
        third = top[~top["territory_id"].isin([most["territory_id"], other["territory_id"]])]
        third = third.sort_values("children").iloc[0]
        ok = _("Right: {n} expected children, because many children live there.").format(
            n=fmt_int(most["expected_children"], td.lang))
        no = _("No: {name} has {n} expected children.")
        answers = sorted([
            (str(most["name"]), True, ok),
            (str(other["name"]), False, no.format(name=other["name"], n=fmt_int(
                other["expected_children"], td.lang))),
            (str(third["name"]), False, no.format(name=third["name"], n=fmt_int(
                third["expected_children"], td.lang))),
        ])
        return _mc(_("Which territory has the most expected children in child labour?"),
                   answers, "count")
    return _mc(_("{name} has the highest index. What does that tell you?").format(
        name=highest["name"]), [
        (_("It has the most working children in the country."), False,
         _("No: the index ranks structural vulnerability; it does not count children.")),
        (_("Its conditions put children at the highest structural risk."), True,
         _("Right: a level or an index is a ranking, not a count.")),
    ], "count")


def q_marker(td: TrainingData) -> dict[str, Any]:
    """A marker is not a cause."""
    from clrisk.schema import COVARIATES

    markers = [c for c in (td.profile.covariates or []) if c in COVARIATES
               and COVARIATES[c].factor_kind == "marker"]
    label = (factor_label(td, "rural" if "rural" in markers else markers[0]) if markers
             else _("Living in a rural area"))
    return _mc(_("“{label}” is associated with more child labour. What should a local plan "
                 "do with it?").format(label=label), [
        (_("Reduce it: it causes child labour."), False,
         _("No: it is a marker — it says who is at risk, not what to change. The model does "
           "not assign causes.")),
        (_("Use it to reach the children concerned, and act on the modifiable factors."), True,
         _("Right: markers target the plan; modifiable factors (poverty, schooling, social "
           "programmes…) are what it changes.")),
    ], "marker")


def q_interval(td: TrainingData) -> dict[str, Any]:
    """An interval that includes "no effect"."""
    if _model(td):
        ors = odds_table(td)
        dist = {c: min(abs(ors.loc[c, "ci_low"] - 1), abs(ors.loc[c, "ci_high"] - 1))
                if not ors.loc[c, "ci_low"] <= 1 <= ors.loc[c, "ci_high"] else -1.0
                for c in ors.index}
        name = sorted(dist, key=lambda c: (dist[c], c))[0]
        r = ors.loc[name]
        lo, hi = fmt_number(r["ci_low"], 2, td.lang), fmt_number(r["ci_high"], 2, td.lang)
        includes = bool(r["ci_low"] <= 1 <= r["ci_high"])
        return _mc(_("The 95% interval of the odds ratio of “{label}” goes from {lo} to {hi}. "
                     "What can you say?").format(label=factor_label(td, name), lo=lo, hi=hi), [
            (_("The data are compatible with no effect (an odds ratio of 1)."), includes,
             _("Right: 1 is inside the interval.") if includes else
             _("No: 1 is outside the interval.")),
            (_("The association is clear in one direction."), not includes,
             _("Right: the whole interval is on one side of 1.") if not includes else
             _("No: the interval includes 1, so the direction is not established.")),
        ], "interval")
    return _mc(_("A territory is in the highest level with P(high risk) = 55%. What does that "
                 "mean?"), [
        (_("Its label is borderline: it could fall in another level."), True,
         _("Right: only labels near 100% are solid.")),
        (_("It is certainly high risk."), False,
         _("No: in 45% of the redraws it was not in the highest level.")),
    ], "interval")


def q_top_count(td: TrainingData) -> dict[str, Any]:
    """Numeric: reading the map."""
    n = len(top_level(td))
    return {"question": _("How many territories are in the highest level (“{level}”)?").format(
        level=level_name(td, td.k)), "type": "numeric", "precision": 0, "key": "top_count",
        "answers": [
            {"type": "value", "value": n, "correct": True,
             "feedback": _("Right: {n} territories.").format(n=fmt_int(n, td.lang))},
            {"type": "default",
             "feedback": _("Not quite: count the territories of the darkest colour on the "
                           "map of levels.")}]}


def q_probability(td: TrainingData) -> dict[str, Any]:
    """Numeric: the national mean (probability or index)."""
    if _model(td):
        value = float(td.risk["expected_children"].sum() / td.risk["children"].sum()) * 100
        q = _("What is the national mean probability of child labour, in % (one decimal)?")
        shown = fmt_percent(value / 100, 1, td.lang)
    else:
        value = float(td.risk["risk_score"].mean()) * 100
        q = _("What is the average vulnerability index × 100 (one decimal)?")
        shown = fmt_number(value, 1, td.lang)
    value = float(np.round(value, 1))
    return {"question": q, "type": "numeric", "precision": 3, "key": "mean",
            "answers": [
                {"type": "range", "range": [value - 0.15, value + 0.15], "correct": True,
                 "feedback": _("Right: {v}.").format(v=shown)},
                {"type": "default", "feedback": _("Not quite: look at the national row of the "
                                                  "comparison table.")}]}


def quiz_questions(td: TrainingData) -> list[dict[str, Any]]:
    """The quiz of a country, in the reader's language; ``key`` names each question."""
    return [q_top_count(td), q_count(td), q_odds(td), q_interval(td), q_marker(td),
            q_probability(td)]


# jupyterquiz's hard-coded English feedback -> translated at render time.
_JS_STRINGS = ("Correct!", "Incorrect -- try again.", "Incorrect. Try again.", "Correct",
               "Type numeric answer here:", "Type your answer here:")


def quiz_html(questions: list[dict[str, Any]], div_id: str) -> str:
    """One self-contained HTML block: container, styles and scripts of jupyterquiz inline.

    Why inline: the static site must work offline (no CDN, no server); a deterministic
    ``div_id`` keeps the page byte-identical between builds.
    """
    from jupyterquiz.dynamic.renderer import build_styles, render_div

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", div_id):
        raise ValueError(f"div_id must be a JavaScript identifier, got {div_id!r}")
    colors = {"--jq-multiple-choice-bg": "#2b4c7e", "--jq-numeric-bg": "#2b4c7e",
              "--jq-many-choice-bg": "#7e2b4c", "--jq-string-bg": "#4c1a57",
              "--jq-mc-button-bg": "#fafafa", "--jq-mc-button-border": "#e0e0e0e0",
              "--jq-mc-button-inset-shadow": "#555555", "--jq-numeric-input-bg": "#c0c0c0",
              "--jq-numeric-input-label": "#101010", "--jq-numeric-input-shadow": "#999999",
              "--jq-incorrect-color": "#c80202", "--jq-correct-color": "#009113",
              "--jq-text-color": "#fafafa", "--jq-link-color": "#9abafa"}
    div = render_div(div_id, False, False, False, 1_000_000, 700, 10, "left")
    styles = build_styles(div_id, colors)
    data = json.dumps([{k: v for k, v in q.items() if k != "key"} for q in questions],
                      ensure_ascii=False, sort_keys=True)
    script = f"var questions{div_id}={data};\n"
    js_dir = importlib.resources.files("jupyterquiz").joinpath("js")
    for js_file in sorted(js_dir.iterdir(), key=lambda x: x.name):
        if js_file.name.endswith(".js"):
            script += js_file.read_text(encoding="utf-8")
    tpl = js_dir.joinpath("static_suffix.js.tpl").read_text(encoding="utf-8")
    script += Template(tpl).substitute(div_id=div_id) + "\n"
    for text in _JS_STRINGS:
        script = script.replace(json.dumps(text), json.dumps(_(text), ensure_ascii=False))
    # jupyterquiz loads MathJax from a CDN when the page has none: the offline site must not.
    cdn = "script.src = 'https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js';"
    script = script.replace(cdn, "return;  // clrisk: offline site, no CDN")
    if "https://" in script:
        raise RuntimeError("jupyterquiz scripts reference a remote URL; update clrisk.training.quiz")
    # "</" inside an inline script would end the element early.
    script = script.replace("</", "<\\/")
    # Screenshot hook for the browser check: "#quiz-right" / "#quiz-wrong" in the address answers
    # the first multiple-choice question rightly / wrongly once the quiz is drawn.
    script += (f"\n(function() {{ var m = /#quiz-(right|wrong)$/.exec(location.hash); if (!m) return;"
               f" setTimeout(function() {{ var box = document.getElementById('{div_id}');"
               " var want = m[1] == 'right' ? 'true' : 'false';"
               " var b = Array.prototype.filter.call(box.querySelectorAll('.MCButton'),"
               " function(x) { return x.dataset.correct == want; })[0];"
               " if (b) { b.click(); b.scrollIntoView({block: 'center'}); } }, 800); })();\n")
    return f"{div}</div>{styles}<script>\n{script}</script>"
