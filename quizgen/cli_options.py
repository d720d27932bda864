"""Options several ``quizgen`` commands share, each defined once."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["bank_option"]

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
