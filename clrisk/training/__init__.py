"""Training material computed from a country's results: exercises, quizzes, handout facts.

Why a package module: a workshop in Guatemala must get Guatemala's answers, and a test must be
able to recompute every answer the book shows. The training chapters only call these functions
(``load_training`` once, then ``exercises`` / ``quiz_questions``) and render what they return.
"""

from clrisk.training.answers import Exercise, TrainingData, exercises, load_training
from clrisk.training.quiz import quiz_html, quiz_questions
from clrisk.training.render import exercises_myst

__all__ = ["Exercise", "TrainingData", "exercises", "load_training", "quiz_html",
           "quiz_questions", "exercises_myst"]
