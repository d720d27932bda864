"""quizgen.graders: parse and grade submitted answers, and run and grade submitted code."""
