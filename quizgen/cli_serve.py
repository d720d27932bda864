"""``quizgen serve COURSE`` and ``quizgen serve tokens COURSE``: the web application
(:mod:`quizgen.serve`). Its libraries are the ``serve`` extra, imported only when a command runs."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import click

from .cli_options import GRADEBOOK, bank_option
from .errors import QuizgenError
from .graders.executors import GRADERS
from .graders.gradebook_sql import shown

__all__ = ["register"]


class _ServeGroup(click.Group):
    """``quizgen serve COURSE ...`` runs the server; ``quizgen serve tokens ...`` issues tokens."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


def _deadline(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: write an ISO date and time, e.g. 2026-12-18T17:00+01:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


course_options = [
    click.argument("course", type=click.Path(exists=True, path_type=Path)),
    click.option(
        "--roster",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Roster CSV [default: roster.csv beside the spec].",
    ),
    bank_option,
    click.option(
        "--database",
        help="SQLAlchemy URL [default: sqlite:///<spec name>-serve.sqlite]; postgresql://... for a department.",
    ),
    click.option(
        "--gradebook",
        type=GRADEBOOK,
        help="The gradebook, a SQLite file or postgresql:// URL [default: the --database itself].",
    ),
]


def _with_course(fn):
    for option in reversed(course_options):
        fn = option(fn)
    return fn


def _ctx(course, roster, bank_dirs, database, gradebook, **kw):
    from .serve import require

    require()
    from .serve.app import make_ctx

    try:
        return make_ctx(
            course, roster=roster, bank_dirs=bank_dirs, database=database, gradebook=gradebook, **kw
        )
    except ValueError as exc:
        raise QuizgenError(str(exc)) from None


@click.group("serve", cls=_ServeGroup)
def serve_group() -> None:
    """Serve practice and homework online: 'quizgen serve COURSE', 'quizgen serve tokens COURSE'."""


@serve_group.command("run")
@_with_course
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--deadline", help="When the exam closes (ISO date and time; UTC unless it says).")
@click.option(
    "--solution-after",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Practice: show the worked solution after this many tries.",
)
@click.option(
    "--assignment",
    "assignments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A code assignment spec students upload solutions to (repeatable); graded as 'quizgen check'.",
)
@click.option(
    "--allow-unsandboxed",
    is_flag=True,
    help="Run uploaded code even where the OS gives no namespaces to isolate it; only for code you trust.",
)
@click.option(
    "--executor",
    type=click.Choice(list(GRADERS)),
    default="local",
    show_default=True,
    help="Where uploads are graded: local, a thread here; dask, one task each on the --scheduler's cluster.",
)
@click.option("--scheduler", metavar="ADDRESS", help="The Dask scheduler, e.g. tcp://10.0.0.5:8786.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes sharing the port and the database (a core each under load).",
)
def run(
    course,
    roster,
    bank_dirs,
    database,
    gradebook,
    host,
    port,
    deadline,
    solution_after,
    assignments,
    allow_unsandboxed,
    executor,
    scheduler,
    workers,
) -> None:
    """Start the web application for COURSE (an exam spec with its roster, or a folder holding exam.yaml and roster.csv)."""
    ctx = _ctx(
        course,
        roster,
        bank_dirs,
        database,
        gradebook,
        deadline=_deadline(deadline),
        solution_after=solution_after,
        assignments=assignments,
        allow_unsandboxed=allow_unsandboxed,
        executor=executor,
        scheduler=scheduler,
    )
    import uvicorn

    from .serve import service
    from .serve.app import SETTINGS_ENV, ServeSettings, create_app

    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")  # e.g. uploads the cluster did not grade
    # before anyone is served (and only by the server, not by 'tokens' or 'revoke', which may run
    # beside it): papers a stopped server claimed but never graded
    recovered = service.finish_hand_ins(ctx)
    if recovered:
        click.echo(
            f"graded {len(recovered)} paper(s) handed in before the server stopped but never graded: "
            + ", ".join(recovered),
            err=True,
        )

    if workers == 1:
        service.warm(ctx)  # each worker warms its own (quizgen.serve.app.factory)
    click.echo(
        f"serving {ctx.course.title} on http://{host}:{port}/ (gradebook {shown(ctx.gradebook)}, exam {ctx.exam}"
        + (f", {workers} workers)" if workers > 1 else ")")
    )
    # keep-alive 75 s (nginx's default) rather than uvicorn's 5 s: a student reads a page for
    # longer than 5 s, and a connection closed just as their next form is sent fails that
    # request (the load test saw it as read errors)
    options = dict(host=host, port=port, proxy_headers=True, log_level="warning", timeout_keep_alive=75)
    if workers == 1:
        uvicorn.run(create_app(ctx), **options)
        return
    # several processes: this one migrated the database and imported the papers (once: Alembic
    # from N processes at once would race); each worker builds its own ctx from these settings
    # and compiles the bank (quizgen.serve.app.factory)
    os.environ[SETTINGS_ENV] = ServeSettings.of(
        ctx, assignments, executor=executor, scheduler=scheduler
    ).to_json()
    uvicorn.run("quizgen.serve.app:factory", factory=True, workers=workers, **options)


@serve_group.command("tokens")
@_with_course
@click.option(
    "--student",
    "students",
    multiple=True,
    help="Only this student (repeatable) [default: everyone on the roster].",
)
@click.option("--instructor", is_flag=True, help="Issue one instructor token instead.")
@click.option(
    "--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the server is reached."
)
def tokens(course, roster, bank_dirs, database, gradebook, students, instructor, base_url) -> None:
    """Issue sign-in tokens and print one link per line (CSV: id,name,link). Only their hashes are stored."""
    ctx = _ctx(course, roster, bank_dirs, database, gradebook)
    from .serve import service

    click.echo("id,name,link")
    base = base_url.rstrip("/")
    if instructor:
        click.echo(
            f"instructor,,{base}/signin?token={service.issue_token(ctx, 'instructor', service.INSTRUCTOR)}"
        )
        return
    papers = ctx.course.manifest.students
    wanted = set(students) or {p.id for p in papers}
    unknown = sorted(wanted - {p.id for p in papers})
    if unknown:
        raise QuizgenError(
            f"no student {', '.join(unknown)} in the roster", source=str(ctx.course.roster_path)
        )
    for p in papers:
        if p.id in wanted:
            click.echo(f"{p.id},{p.name},{base}/signin?token={service.issue_token(ctx, p.id)}")


@serve_group.command("revoke")
@_with_course
@click.option("--student", "students", multiple=True, help="This student (repeatable).")
@click.option("--instructor", is_flag=True, help="The instructor's links.")
def revoke(course, roster, bank_dirs, database, gradebook, students, instructor) -> None:
    """Revoke every sign-in link of the given students (or the instructor) and end their sessions."""
    subjects = list(students) + (["instructor"] if instructor else [])
    if not subjects:
        raise click.UsageError("name whom to revoke: --student ID (repeatable) or --instructor")
    ctx = _ctx(course, roster, bank_dirs, database, gradebook)
    from .serve import service

    for subject in subjects:
        try:
            tokens, sessions = service.revoke(ctx, subject)
        except service.Refused as exc:
            raise QuizgenError(exc.message, source=str(ctx.course.roster_path)) from None
        click.echo(f"{subject}: revoked {tokens} links, ended {sessions} sessions")


def register(main: click.Group) -> None:
    main.add_command(serve_group)
