"""Exercises as MyST markup (sphinx-exercise directives) for the training chapters.

Why generated markup: the question and the answer are computed per country and language, so the
chapter glues this text (``myst_nb.glue`` with ``format: myst``) instead of writing the
directives by hand; the solution is a folded dropdown, as a trainer wants it.
"""

from __future__ import annotations

from clrisk.i18n import _
from clrisk.training.answers import LEVELS, Exercise


def label(exercise: Exercise) -> str:
    """The Sphinx label of an exercise (``ex-p1-01``): the guide links to it."""
    return f"ex-{exercise.key}"


def exercise_myst(exercise: Exercise) -> str:
    """One exercise and its folded solution."""
    level = _("Level {n}: {name}").format(n=exercise.level, name=_(LEVELS[exercise.level]))
    practise = _("Practises the chapter {chapter}.").format(
        chapter=f"{{doc}}`{exercise.chapter}`")
    return (f"::::{{exercise}} {level}\n:label: {label(exercise)}\n\n"
            f"{exercise.question}\n\n*{practise}*\n::::\n\n"
            f"::::{{solution}} {label(exercise)}\n:class: dropdown\n\n"
            f"{exercise.answer}\n::::\n")


def exercises_myst(exercises: list[Exercise]) -> str:
    """All exercises of a chapter, in order."""
    return "\n".join(exercise_myst(e) for e in exercises)
