"""Errors that reach the user as one line naming the file, the place and the fix."""

from __future__ import annotations


class QuizgenError(ValueError):
    """A user-facing error: ``str(err)`` is one line such as
    ``bank/conv.yaml:12: template conv.size, field steps.out: unknown reference function ...``.
    """

    def __init__(self, message: str, *, source: str = "", where: str = "") -> None:
        self.message = message
        self.source = source
        self.where = where
        prefix = ": ".join(p for p in (source, where) if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class BankError(QuizgenError):
    """A template or bank file is malformed."""


class SpecError(QuizgenError):
    """An exam spec, roster or other input file is malformed."""
