"""quizgen: parameterized deep-learning quizzes, per-student exams, answer keys and autograding."""

__version__ = "0.1.0"
