"""``quizgen serve``: practice and homework online, in front of the grader and the gradebook.

The web libraries (Starlette, uvicorn, SQLAlchemy, Alembic) are the optional ``serve`` extra;
they are imported only inside this package, so ``quizgen`` without them still works and
``quizgen serve`` says what to install (:func:`require`).
"""

from __future__ import annotations

from quizgen.errors import QuizgenError

__all__ = ["require"]

#: import name -> distribution name, for the message
_NEEDED = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "sqlalchemy": "sqlalchemy",
    "alembic": "alembic",
    "multipart": "python-multipart",
}


def require() -> None:
    """QuizgenError naming what to install when the ``serve`` extra is missing."""
    import importlib.util

    missing = [dist for mod, dist in _NEEDED.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise QuizgenError(
            f"quizgen serve needs {', '.join(missing)}; install them with: pip install 'quizgen[serve]'"
        )
