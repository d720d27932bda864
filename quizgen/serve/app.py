"""The Starlette application: routes, sessions, CSRF, rate and size limits.

Security rules (issue 18, "Who may see what"):

- sign-in with an instructor-issued token (stored hashed) starts a server-side session; the
  cookie holds only a random session id, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS;
- every POST but the sign-in carries the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``), and a POST whose ``Origin`` is another site is refused;
- a student reaches only their own paper and variants (another's is "not found");
- no page holds an expected value before the final submit: practice shows the answers and the
  worked solution only once asked for (or after ``solution_after`` tries);
- each student's grading and autosave POSTs are rate limited (in the database, so across
  worker processes: :mod:`.limits`), request bodies are capped;
- every page: ``Content-Security-Policy`` without any outside source (no CDN: math is MathML
  made on the server), ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` (a sign-in
  link never leaks), ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hmac
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from quizgen.graders.gradebook import Gradebook, exam_key
from quizgen.graders.gradebook_sql import locate
from quizgen.markup import to_html
from quizgen.output import answer_box_rows, answer_text, html_inline
from quizgen.selection import is_selection
from quizgen.selection import labels as option_labels

from . import code, db, options, service
from .code import MAX_UPLOAD
from .course import load_course
from .limits import RateLimit
from .service import Ctx, Identity, Refused

__all__ = [
    "COOKIE",
    "MAX_BODY",
    "SETTINGS_ENV",
    "RateLimit",
    "ServeSettings",
    "create_app",
    "factory",
    "make_ctx",
]

COOKIE = "quizgen_session"
#: Largest request body accepted (bytes): a whole paper's answers fit many times over.
MAX_BODY = 256 * 1024

_HERE = Path(__file__).parent
PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # read once per process: no stat of each template's file per page
)
#: A text's HTML depends on the text alone, and a class's papers and practice variants hold
#: thousands of texts, each shown on every view of its page; quizgen.markup keeps 512 (a
#: paper and its key), so a class's exam pages would convert them again on most views.
#: These keep the last 16,384 (some MB), for the server's life.
_html = lru_cache(maxsize=16384)(to_html)
_html_inline = lru_cache(maxsize=16384)(html_inline)
PAGES.filters.update(
    html=_html,
    answer_text=answer_text,
    box_rows=answer_box_rows,
    html_inline=_html_inline,
    text_options=lambda part: is_selection(part.kind),
    option_labels=option_labels,
    chosen=options.chosen,
    positions=options.positions,
    practice_feedback=options.practice_feedback,
)

#: Where the practice list's buttons take the page's CSRF token (escaping leaves it as it is).
_CSRF_SLOT = "csrf-slot-of-the-page"

_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # not no-referrer: with it Chromium sends "Origin: null" on the page's own forms, which the
    # Origin check must refuse; same-origin still never sends a sign-in link to another site
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _within(limit: RateLimit, student: str) -> None:
    """Count one request of ``student`` against ``limit`` (in the database: every worker
    process shares it), or refuse it with 429."""
    if not limit.allow(student):
        raise Refused(
            "Too many submissions in a minute; wait a little and try again. Nothing was saved.", 429
        )


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` (``upload_bytes`` for a code upload,
    ``/code/...``) gets 413 before any route reads it."""

    def __init__(self, app, max_bytes: int = MAX_BODY, upload_bytes: int = MAX_UPLOAD + 64 * 1024) -> None:
        self.app, self.max_bytes, self.upload_bytes = app, max_bytes, upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.upload_bytes if scope["path"].startswith("/code/") else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._too_large(limit, scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                return await self._too_large(limit, scope, receive, send)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, limit, scope, receive, send):
        text = f"The request is larger than {limit // 1024} KB; nothing was saved."
        await Response(text, 413, headers=_HEADERS, media_type="text/plain")(scope, receive, send)


def _page(name: str, status: int = 200, **values) -> HTMLResponse:
    values.setdefault("who", None)
    values.setdefault("script", None)
    return HTMLResponse(PAGES.get_template(name).render(**values), status, headers=_HEADERS)


def _refused(exc: Refused, who: Identity | None, json: bool = False) -> Response:
    if json:
        return JSONResponse({"ok": False, "message": exc.message}, exc.status, headers=_HEADERS)
    return _page(
        "message.html.j2", exc.status, title="Not done", message=exc.message, error=True, who=who, back="/"
    )


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, 303, headers=_HEADERS)


def make_ctx(
    course: str | Path,
    *,
    roster=None,
    bank_dirs=(),
    database: str | None = None,
    gradebook: str | Path | None = None,
    deadline: datetime | None = None,
    solution_after: int = 3,
    clock=time.time,
    assignments=(),
    allow_unsandboxed: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    prepare: bool = True,
) -> Ctx:
    """Load the course, migrate the database and import the papers into the gradebook (as
    ``quizgen grade`` imports a manifest). ``database`` defaults to ``sqlite:///<spec stem>-serve.sqlite``.
    ``assignments``: code assignment specs students may upload solutions to (graded in the
    sandbox, which must isolate them unless ``allow_unsandboxed``), by ``executor`` (at
    ``scheduler``), as ``quizgen autograde``'s options say. ``prepare=False``: neither
    migrate nor import (a worker process of ``--workers N``, whose parent did both once)."""
    from quizgen.graders import executors, sandbox
    from quizgen.graders.assignment import load_assignment

    specs = {}
    for path in assignments:
        spec = load_assignment(path)
        if spec.id in specs:
            raise ValueError(f"--assignment {path}: another assignment has the id {spec.id!r}")
        specs[spec.id] = spec
    options = sandbox.Options(allow_unsandboxed=allow_unsandboxed)
    if specs:
        try:
            sandbox.preflight(options)
        except sandbox.SandboxError as exc:
            raise ValueError(str(exc)) from None
    grader = executors.open_grader(executor, scheduler)  # connected and checked before anything is written
    loaded = load_course(course, roster, bank_dirs)
    url = database or f"sqlite:///{loaded.spec_path.stem}-serve.sqlite"
    engine = db.connect(url, migrations=prepare)
    book_path = db.gradebook_path(engine, gradebook)
    if prepare:
        with Gradebook(book_path) as book:
            key = book.import_manifest(loaded.manifest, bank=loaded.bank)
    else:
        key = exam_key(loaded.manifest.exam)  # the key import_manifest gave it
    return Ctx(
        loaded,
        engine,
        str(book_path),
        key,
        db.secret(engine),
        deadline,
        solution_after,
        clock,
        specs,
        options,
        grader,
    )


#: The environment variable that hands a server's settings (JSON) to its worker processes.
SETTINGS_ENV = "QUIZGEN_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeSettings:
    """What a worker process of ``quizgen serve --workers N`` needs to build its :class:`Ctx`:
    the parent's settings with every path absolute and the database and gradebook resolved (as
    the parent, which migrated and imported, found them), so that each worker serves the same
    course on the same database. Passed as JSON in the environment (:data:`SETTINGS_ENV`), which
    a process of another user cannot read."""

    course: str
    roster: str
    bank_dirs: tuple[str, ...]
    database: str
    gradebook: str
    deadline: str | None  # ISO date and time
    solution_after: int
    assignments: tuple[str, ...]
    allow_unsandboxed: bool
    executor: str = "local"  # where code uploads are graded (``--executor``), at ``scheduler``
    scheduler: str | None = None

    @classmethod
    def of(
        cls, ctx: Ctx, assignments=(), *, executor: str = "local", scheduler: str | None = None
    ) -> ServeSettings:
        """The settings of the server ``ctx`` was made for (by :func:`make_ctx`, prepared);
        ``assignments``: the paths of its code assignment specs; ``executor`` and ``scheduler``
        as given to :func:`make_ctx` (each worker opens its own client of a Dask cluster)."""
        url = ctx.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            url = url.set(database=str(Path(url.database).resolve()))

        def absolute(path) -> str:
            return str(Path(path).resolve())

        return cls(
            course=absolute(ctx.course.spec_path),
            roster=absolute(ctx.course.roster_path),
            bank_dirs=tuple(absolute(d) for d in ctx.course.bank_dirs),
            database=url.render_as_string(hide_password=False),
            gradebook=absolute(ctx.gradebook)
            if locate(ctx.gradebook).path is not None
            else str(ctx.gradebook),
            deadline=ctx.deadline.isoformat() if ctx.deadline else None,
            solution_after=ctx.solution_after,
            assignments=tuple(absolute(a) for a in assignments),
            allow_unsandboxed=bool(ctx.sandbox and ctx.sandbox.allow_unsandboxed),
            executor=executor,
            scheduler=scheduler,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        data = json.loads(text)
        for name in ("bank_dirs", "assignments"):
            data[name] = tuple(data[name])
        return cls(**data)

    def ctx(self) -> Ctx:
        """A worker's :class:`Ctx` (not migrating, not importing: the parent did)."""
        return make_ctx(
            self.course,
            roster=self.roster,
            bank_dirs=self.bank_dirs,
            database=self.database,
            gradebook=self.gradebook,
            deadline=datetime.fromisoformat(self.deadline) if self.deadline else None,
            solution_after=self.solution_after,
            assignments=self.assignments,
            allow_unsandboxed=self.allow_unsandboxed,
            executor=self.executor,
            scheduler=self.scheduler,
            prepare=False,
        )


def factory():
    """uvicorn's application factory in each worker process (``quizgen serve --workers N``:
    ``uvicorn.run("quizgen.serve.app:factory", factory=True, workers=N)``): builds the
    worker's :class:`Ctx` from :data:`SETTINGS_ENV` and compiles the bank before it serves."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise RuntimeError(
            f"quizgen.serve.app:factory needs {SETTINGS_ENV}; start it with 'quizgen serve --workers N'"
        )
    ctx = ServeSettings.from_json(text).ctx()
    service.warm(ctx)
    app = create_app(ctx)
    # one line per worker (uvicorn restarts one that dies): the log says when each serves
    print(f"quizgen serve: worker {os.getpid()} ready", file=sys.stderr, flush=True)
    return app


def create_app(ctx: Ctx, *, practice_per_minute: int = 20, saves_per_minute: int = 120) -> Starlette:
    """The application for one course (``ctx``)."""
    answers_limit = RateLimit(ctx.engine, "grading", practice_per_minute, ctx.clock)
    # the practice list's buttons (a form per template of the bank) are the same for everyone
    # but the CSRF token: rendered once, the token put in per page
    picks = PAGES.get_template("practice_topics.html.j2").render(topics=ctx.course.topics, csrf=_CSRF_SLOT)
    saves_limit = RateLimit(ctx.engine, "autosave", saves_per_minute, ctx.clock)

    def who(request: Request) -> Identity | None:
        return service.identity(ctx, request.cookies.get(COOKIE))

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None:
            return True
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host

    async def posted(request: Request, role: str) -> tuple[Identity, dict]:
        """(who, form) for a POST by a signed-in ``role`` with a valid CSRF token; Refused else."""
        ident = signed_in(request, role)
        if not same_origin(request):
            raise Refused("A form from another site was refused; nothing was saved.", 403)
        try:
            form = await request.form()
        except Exception:  # python-multipart's errors for a broken body
            raise Refused("The form could not be read; nothing was saved.") from None
        if any(not isinstance(v, str) for v in form.values()):
            raise Refused("Files are not accepted here; nothing was saved.")
        data = {k: v for k, v in form.multi_items()}
        if len(data) != len(form.multi_items()):
            raise Refused("A field was sent twice; nothing was saved.")
        token = data.get("csrf") or request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(token.encode(), ident.csrf.encode()):
            raise Refused("The form was out of date (CSRF check); reload the page. Nothing was saved.", 403)
        data.pop("csrf", None)
        return ident, data

    def signed_in(request: Request, role: str) -> Identity:
        ident = who(request)
        if ident is None:
            raise Refused(
                "You are not signed in (or your session expired): open your sign-in link again.", 401
            )
        if ident.role != role:
            raise Refused("That page is not for you.", 403)
        return ident

    def paper_form(student: str, form: dict) -> dict:
        """The paper's form with the text-option fields folded into answers (options.py)."""
        paper = ctx.course.paper(student)
        if paper is None:
            raise Refused("You have no paper in this course.", 403)
        parts = {f"q{q.number}.{p.id}": p for q in paper.questions for p in q.instance.parts}
        return options.fold_fields(parts, form)

    def handles(fn):
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except Refused as exc:
                wants_json = "application/json" in request.headers.get("accept", "")
                return _refused(exc, who(request), wants_json)

        return endpoint

    async def home(request: Request) -> Response:
        ident = who(request)
        if ident is None:
            return _page("signin.html.j2", title="Sign in", token=None)
        deadline = ctx.deadline.isoformat() if ctx.deadline else None
        return _page(
            "home.html.j2",
            title=ctx.course.title,
            who=ident,
            course_title=ctx.course.title,
            deadline=deadline,
        )

    async def signin_page(request: Request) -> Response:
        token = request.query_params.get("token", "")[:200]
        return _page("signin.html.j2", title="Sign in", token=token)

    async def signin(request: Request) -> Response:
        if not same_origin(request):
            raise Refused("A sign-in from another site was refused.", 403)
        form = await request.form()
        token = form.get("token")
        session, _ = service.sign_in(ctx, token if isinstance(token, str) else "")
        response = _redirect("/")
        response.set_cookie(
            COOKIE,
            session,
            max_age=service.SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def signout(request: Request) -> Response:
        ident = who(request)
        if ident is not None:
            await posted(request, ident.role)
            service.sign_out(ctx, request.cookies[COOKIE])
        response = _redirect("/")
        response.delete_cookie(COOKIE, path="/")
        return response

    async def practice_list(request: Request) -> Response:
        ident = signed_in(request, service.STUDENT)
        return _page(
            "practice_list.html.j2",
            title="Practice",
            who=ident,
            picks=Markup(picks.replace(_CSRF_SLOT, str(escape(ident.csrf)))),
            mastery=service.mastery(ctx, ident.subject),
        )

    async def practice_new(request: Request) -> Response:
        ident, form = await posted(request, service.STUDENT)
        vid = service.new_variant(ctx, ident.subject, form.get("template_id", ""))
        return _redirect(f"/practice/{vid}")

    async def practice_show(request: Request) -> Response:
        ident = signed_in(request, service.STUDENT)
        v = service.variant(ctx, ident.subject, request.path_params["vid"])
        last = service.last_attempt(ctx, ident.subject, v.id)
        attempt = {r["part"]: r for r in last} if last else None
        return _page(
            "practice.html.j2",
            title=v.instance.title or v.template_id,
            who=ident,
            v=v,
            attempt=attempt,
            score=sum(r["score"] * r["max_points"] for r in last) if last else 0,
            max_points=sum(r["max_points"] for r in last) if last else 0,
            solution_after=ctx.solution_after,
        )

    async def practice_answer(request: Request) -> Response:
        ident, form = await posted(request, service.STUDENT)
        _within(answers_limit, ident.subject)
        v = service.variant(ctx, ident.subject, request.path_params["vid"])
        form = options.fold_fields({p.id: p for p in v.instance.parts}, form)
        service.practice_answer(ctx, ident.subject, v.id, form, loaded=v)
        return _redirect(f"/practice/{request.path_params['vid']}")

    async def practice_solution(request: Request) -> Response:
        ident, _ = await posted(request, service.STUDENT)
        service.show_solution(ctx, ident.subject, request.path_params["vid"])
        return _redirect(f"/practice/{request.path_params['vid']}")

    async def exam_show(request: Request) -> Response:
        ident = signed_in(request, service.STUDENT)
        paper = ctx.course.paper(ident.subject)
        if paper is None:
            raise Refused("You have no paper in this course.", 404)
        service.close_exam(ctx)
        handed_in = service.submission(ctx, ident.subject)
        grades = service.graded_paper(ctx, ident.subject) if handed_in else {}
        total = sum(g.points for g in grades.values()) if grades else None
        saved = request.query_params.get("saved")
        return _page(
            "exam.html.j2",
            title=ctx.course.title,
            who=ident,
            script=None if handed_in or ctx.closed() else "autosave.js",
            course_title=ctx.course.title,
            paper=paper,
            deadline=ctx.deadline.isoformat() if ctx.deadline else None,
            handed_in=handed_in,
            closed=ctx.closed(),
            drafts=service.drafts(ctx, ident.subject),
            grades=grades,
            total=total,
            saved=int(saved) if saved and saved.isdigit() else None,
        )

    async def exam_save(request: Request) -> Response:
        ident, form = await posted(request, service.STUDENT)
        _within(saves_limit, ident.subject)
        n = service.save_drafts(ctx, ident.subject, paper_form(ident.subject, form))
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"ok": True, "message": f"Saved {n} answers."}, headers=_HEADERS)
        return _redirect(f"/exam?saved={n}")

    async def exam_submit(request: Request) -> Response:
        ident, form = await posted(request, service.STUDENT)
        _within(answers_limit, ident.subject)
        form.pop("final", None)
        service.final_submit(ctx, ident.subject, paper_form(ident.subject, form))
        return _redirect("/exam")

    async def instructor(request: Request) -> Response:
        ident = signed_in(request, service.INSTRUCTOR)
        service.close_exam(ctx)
        return _page(
            "instructor.html.j2",
            title=ctx.course.title,
            who=ident,
            course_title=ctx.course.title,
            students=service.class_grades(ctx),
            tokens=service.token_counts(ctx),
            gradebook=ctx.gradebook,
            exam=ctx.exam,
        )

    def instructor_page(name: str, **values) -> HTMLResponse:
        return _page(name, course_title=ctx.course.title, **values)

    async def instructor_items(request: Request) -> Response:
        ident = signed_in(request, service.INSTRUCTOR)
        return instructor_page(
            "instructor_items.html.j2", title="Item analysis", who=ident, items=service.item_stats(ctx)
        )

    async def instructor_student(request: Request) -> Response:
        ident = signed_in(request, service.INSTRUCTOR)
        service.close_exam(ctx)
        answers = service.student_answers(ctx, request.path_params["sid"])
        return instructor_page("instructor_student.html.j2", title=answers.paper.name, who=ident, s=answers)

    async def instructor_csv(request: Request) -> Response:
        signed_in(request, service.INSTRUCTOR)
        service.close_exam(ctx)
        headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="grades-{ctx.exam}.csv"'}
        return Response(service.grades_csv_text(ctx), 200, headers=headers, media_type="text/csv")

    async def instructor_regrade(request: Request) -> Response:
        ident, form = await posted(request, service.INSTRUCTOR)
        if form:
            raise Refused(f"Unknown field {sorted(form)[0]!r}; nothing was regraded.")
        service.close_exam(ctx)
        outcome = service.regrade(ctx)
        changed = len(outcome.run.changes) if outcome.run else 0
        message = (
            f"Regraded {outcome.run.graded if outcome.run else 0} students with the last run's settings: "
            f"{changed} grades changed. Reports rewritten in {service.reports_dir(ctx)}."
        )
        return _page(
            "message.html.j2", title="Regraded", message=message, error=False, who=ident, back="/instructor"
        )

    async def instructor_revoke(request: Request) -> Response:
        ident, form = await posted(request, service.INSTRUCTOR)
        subject = form.pop("student", "")
        if form:
            raise Refused(f"Unknown field {sorted(form)[0]!r}; nothing was revoked.")
        tokens, sessions = service.revoke(ctx, subject)
        message = (
            f"Revoked {tokens} sign-in links of {subject} and ended {sessions} sessions. "
            f"A new link: quizgen serve tokens ... --student {subject}"
        )
        return _page(
            "message.html.j2", title="Revoked", message=message, error=False, who=ident, back="/instructor"
        )

    async def code_list(request: Request) -> Response:
        ident = signed_in(request, service.STUDENT)
        return _page(
            "code.html.j2",
            title="Code assignments",
            who=ident,
            assignments=ctx.assignments,
            results=code.last_results(ctx, ident.subject),
            max_kb=MAX_UPLOAD // 1024,
            uploaded=request.query_params.get("uploaded"),
        )

    async def code_upload(request: Request) -> Response:
        ident = signed_in(request, service.STUDENT)
        if not same_origin(request):
            raise Refused("A form from another site was refused; nothing was graded.", 403)
        try:
            form = await request.form(max_files=1, max_fields=2)
        except Exception:  # python-multipart's or Starlette's errors for a broken or odd body
            raise Refused(
                "The upload could not be read (one file, as the form sends it); nothing was graded."
            ) from None
        items = form.multi_items()
        if sorted(k for k, _ in items) != ["csrf", "file"]:
            raise Refused("Send the form's file and nothing else; nothing was graded.")
        token, upload = form["csrf"], form["file"]
        if not isinstance(token, str) or not hmac.compare_digest(token.encode(), ident.csrf.encode()):
            raise Refused("The form was out of date (CSRF check); reload the page. Nothing was graded.", 403)
        if isinstance(upload, str):
            raise Refused("Choose a file to upload; nothing was graded.")
        _within(answers_limit, ident.subject)
        data = await upload.read()
        aid = request.path_params["aid"]
        await run_in_threadpool(code.submit_code, ctx, ident.subject, aid, upload.filename or "", data)
        return _redirect(f"/code?uploaded={aid}#{aid}")

    routes = [
        Route("/", handles(home)),
        Route("/signin", handles(signin_page), methods=["GET"]),
        Route("/signin", handles(signin), methods=["POST"]),
        Route("/signout", handles(signout), methods=["POST"]),
        Route("/practice", handles(practice_list)),
        Route("/practice/new", handles(practice_new), methods=["POST"]),
        Route("/practice/{vid:int}", handles(practice_show)),
        Route("/practice/{vid:int}/answer", handles(practice_answer), methods=["POST"]),
        Route("/practice/{vid:int}/solution", handles(practice_solution), methods=["POST"]),
        Route("/exam", handles(exam_show)),
        Route("/exam/save", handles(exam_save), methods=["POST"]),
        Route("/exam/submit", handles(exam_submit), methods=["POST"]),
        Route("/code", handles(code_list)),
        Route("/code/{aid}", handles(code_upload), methods=["POST"]),
        Route("/instructor", handles(instructor)),
        Route("/instructor/items", handles(instructor_items)),
        Route("/instructor/students/{sid}", handles(instructor_student)),
        Route("/instructor/grades.csv", handles(instructor_csv)),
        Route("/instructor/regrade", handles(instructor_regrade), methods=["POST"]),
        Route("/instructor/revoke", handles(instructor_revoke), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    return BodyLimit(app)
