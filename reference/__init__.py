"""quizgen.reference: the NumPy reference implementation behind every answer quizgen gives.

One module per family (conv, pool, activations, losses, mlp, optim, schedules, norm,
regularization, init, metrics, rnn, gradcheck). All arithmetic is float64, tensors are NCHW as in
PyTorch, and PyTorch's semantics and defaults are the ground truth wherever PyTorch has the
operation. A textbook convention that differs from PyTorch is a keyword argument, so the
question bank can compute a "common mistake" with the same code that computes the answer.

Templates name functions as ``"family.function"``; :mod:`quizgen.reference.registry` resolves
those names against each module's ``__all__``.
"""
