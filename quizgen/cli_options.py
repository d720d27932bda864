"""Options several ``quizgen`` commands share, each defined once."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["GRADEBOOK", "GradebookLocation", "bank_option"]

#: ``--bank FOLDER`` (repeatable) as ``bank_dirs``: extra bank folders or files, loaded after the
#: built-in bank (:func:`quizgen.bank.load_bank`).
bank_option = click.option(
    "--bank",
    "bank_dirs",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="An extra bank folder or file, next to the built-in one (repeatable); "
    "for an exam, the one it was generated with.",
)


class GradebookLocation(click.ParamType):
    """A gradebook: a SQLite file path (a :class:`~pathlib.Path`) or a database URL
    (``postgresql://user@host/dbname``, kept as text); ``exists=True`` also wants the file to be
    there (a database is checked when opened). Any other URL scheme is refused here, in one line."""

    name = "PATH|URL"

    def __init__(self, *, exists: bool = False) -> None:
        self.exists = exists

    def convert(self, value, param, ctx):
        from .graders.gradebook_sql import locate

        try:
            where = locate(value)  # a Path stays a file path
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if where.path is None:
            return where.target
        if where.path.is_dir():
            self.fail(
                f"{where.path} is a folder; give the gradebook file (or a postgresql:// URL)", param, ctx
            )
        if self.exists and not where.path.exists():
            self.fail(
                f"no such gradebook {where.path}; give the file 'quizgen grade' wrote or a postgresql:// URL",
                param,
                ctx,
            )
        return where.path


#: The type of every ``--db`` option: a SQLite file or a ``postgresql://`` URL.
GRADEBOOK = GradebookLocation()
