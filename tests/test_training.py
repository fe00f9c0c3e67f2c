"""Training part: exercises and quizzes answered from each country's results.

Why these tests: a workshop must get its own country's answers, so (1) every answer is
recomputed here straight from ``run_country`` tables with plain pandas and compared with the
answer text the exercise gives; (2) the executed training chapters show exactly the computed
answers (read from the executed notebook, never hard-coded); (3) the facilitator's guide only
names chapters and exercises that exist.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import nbformat
import pytest

from clrisk.i18n import set_language
from clrisk.pipeline import run_country
from clrisk.tables import fmt_int
from clrisk.training import exercises, exercises_myst, load_training, quiz_html, quiz_questions

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = sorted(p.name for p in (ROOT / "data_samples").glob("*")
                   if (p / "profile.yaml").is_file())
GUIDE = ROOT / "book" / "training" / "facilitator_guide.md"
TRAINING_CHAPTERS = ["training_exercises_p1", "training_exercises_p2", "training_quiz"]


@pytest.fixture(scope="module", params=["peru", "costa_rica"])
def td(request):
    """One risk-model country and one IVTI-only country."""
    return load_training(request.param, lang="en")


def test_at_least_25_graded_exercises_for_every_country() -> None:
    for country in COUNTRIES:
        exs = exercises(load_training(country, lang="en"))
        assert len(exs) >= 25, country
        assert len({e.key for e in exs}) == len(exs)
        assert {e.level for e in exs} == {1, 2, 3, 4, 5}, country
        assert all(e.answer and e.question for e in exs)
        assert all((ROOT / "notebooks" / f"{e.chapter}.md").is_file() for e in exs)


def test_answers_recomputed_from_run_country(td) -> None:
    """Independent recomputation from the pipeline's own tables (by column name)."""
    import clrisk

    data = clrisk.load_country(td.key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_country(data)
    exs = {e.key: e for e in exercises(td)}
    if result.territories is not None:
        terr = result.territories
        k = int(terr["risk_level"].max())
        n_top = int((terr["risk_level"] == k).sum())
        best = terr.sort_values("mean_probability", ascending=False).iloc[0]
        top_expected = terr.loc[terr["risk_level"] == k, "expected_children"].sum()
        share = top_expected / terr["expected_children"].sum()
        assert exs["p1-06"].values["share"] == pytest.approx(share)
        ors = result.model.odds_ratios().drop(index="const")
        includes = sorted(c for c in ors.index if ors.loc[c, "ci_low"] <= 1 <= ors.loc[c, "ci_high"])
        assert sorted(exs["p1-10"].values["covariates"]) == includes
        assert exs["p1-09"].values["covariate"] == ors["odds_ratio"].idxmax()
        nat = result.national_factors.sort_values("rank")["factor"].iloc[0]
        assert exs["p1-12"].values["factor"] == nat
    else:
        terr = result.ivti
        k = int(terr["risk_level"].max())
        n_top = int((terr["risk_level"] == k).sum())
        best = terr.sort_values("ivti", ascending=False).iloc[0]
    assert exs["p1-01"].values["n"] == n_top
    assert exs["p1-01"].answer.startswith(f"{fmt_int(n_top, 'en')} of {fmt_int(len(terr), 'en')}")
    assert exs["p1-02"].values["territory_id"] == str(best["territory_id"])
    assert str(data.territories.set_index("territory_id").loc[best["territory_id"], "name"]) \
        in exs["p1-02"].answer


def test_quiz_correct_answers_come_from_data(td) -> None:
    questions = {q["key"]: q for q in quiz_questions(td)}
    n_top = int((td.risk["risk_level"] == td.k).sum())
    value = [a for a in questions["top_count"]["answers"] if a.get("correct")][0]["value"]
    assert value == n_top
    for q in questions.values():
        if q["type"] == "multiple_choice":
            assert sum(a["correct"] for a in q["answers"]) == 1, q["question"]
    if td.source == "risk_model":
        right = [a["answer"] for a in questions["count"]["answers"] if a["correct"]][0]
        most = td.risk.sort_values("expected_children", ascending=False).iloc[0]
        assert right == str(most["name"])


def test_quiz_html_is_offline_and_reproducible(td) -> None:
    html1 = quiz_html(quiz_questions(td), "quizA")
    html2 = quiz_html(quiz_questions(td), "quizA")
    assert html1 == html2
    assert "https://" not in html1 and "cdn.jsdelivr" not in html1
    assert '<div id="quizA"' in html1 and "show_questions(questionsquizA" in html1


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_quiz_feedback_translated(lang: str) -> None:
    td = load_training("peru", lang=lang)
    html = quiz_html(quiz_questions(td), "quizB")
    assert '"Correct!"' not in html and '"Incorrect -- try again."' not in html
    set_language("en")


def test_exercises_render_as_sphinx_exercise(td) -> None:
    text = exercises_myst(exercises(td))
    assert text.count("::::{exercise}") == len(exercises(td))
    assert text.count(":class: dropdown") == len(exercises(td))


def _guide_targets() -> tuple[list[str], list[str], list[tuple[list[str], list[str]]]]:
    text = GUIDE.read_text(encoding="utf-8")
    docs = re.findall(r"\{doc\}`([^`]+)`", text)
    refs = re.findall(r"\{ref\}`([^`]+)`", text)
    sessions = re.split(r"\n(?=[^\n]*Session [0-9]|Day [0-9], session)", text)
    per_session = [(re.findall(r"\{doc\}`([^`]+)`", s), re.findall(r"\{ref\}`(ex-[^`]+)`", s))
                   for s in sessions if ": *Objective:*" in s]
    return docs, refs, per_session


def test_facilitator_guide_links_exist() -> None:
    docs, refs, per_session = _guide_targets()
    assert docs and refs
    for doc in docs:  # Sphinx: "/x" from the book root, "x" from the guide's folder
        target = (ROOT / doc.lstrip("/")) if doc.startswith("/") else (GUIDE.parent / doc)
        assert target.with_suffix(".md").is_file(), doc
    keys = {f"ex-{e.key}" for e in exercises(load_training("peru", lang="en"))}
    assert set(refs) <= keys, set(refs) - keys
    assert len(per_session) >= 6 + 12
    for chapters, exercise_refs in per_session:
        assert chapters, "a session without a chapter"
        assert exercise_refs, "a session without an exercise"


def test_training_chapters_in_toc() -> None:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for chapter in TRAINING_CHAPTERS:
        assert f"notebooks/{chapter}" in toc


# English runs of every training chapter for every country are in tests/test_notebooks.py (the
# chapters are in _toc.yml). Here each country runs once in Spanish and once in French, the
# chapter rotating so that every chapter runs in both languages: 18 runs instead of 54.
MATRIX = [(country, lang, TRAINING_CHAPTERS[(i + j) % len(TRAINING_CHAPTERS)])
          for i, country in enumerate(COUNTRIES) for j, lang in enumerate(["es", "fr"])]


def _shown(nb, name: str) -> str:
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                prefix = o["metadata"]["scrapbook"].get("mime_prefix", "")
                return o["data"][f"{prefix}text/markdown"]
    return ""


@pytest.mark.notebooks
@pytest.mark.parametrize(("country", "lang", "chapter"), MATRIX)
def test_executed_chapter_shows_computed_answers(country: str, lang: str, chapter: str,
                                                 tmp_path: Path) -> None:
    """The answers a reader sees are the answers clrisk computes, in the reader's language."""
    from clrisk_book.execute import Job, error_outputs, execute

    out = tmp_path / f"{chapter}.ipynb"
    execute(Job(source=ROOT / "notebooks" / f"{chapter}.md", output=out, country=country,
                lang=lang, timeout=900))
    nb = nbformat.read(out, as_version=4)
    assert not error_outputs(nb), error_outputs(nb)
    td = load_training(country, lang=lang)
    if chapter == "training_quiz":
        html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells
                       for o in c.get("outputs", []))
        data = json.dumps([{k: v for k, v in q.items() if k != "key"}
                           for q in quiz_questions(td)], ensure_ascii=False, sort_keys=True)
        assert data in html
    else:
        phase = chapter[-1]
        shown = _shown(nb, chapter)
        assert shown, "glued exercises missing"
        for e in exercises(td, phase):
            assert e.answer in shown, (e.key, e.answer)
            assert e.question in shown, (e.key, e.question)
    set_language("en")
