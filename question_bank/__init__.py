"""quizgen.question_bank: the built-in YAML templates, one file per family (package data)."""
