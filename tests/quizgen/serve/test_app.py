"""Route tests of ``quizgen serve`` with Starlette's test client: sign-in, practice, homework,
the instructor's list, and the security rules (no expected value in any page before the final
submit, CSRF, cookies, rate and size limits, bad input changes nothing)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

pytest.importorskip("starlette")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from markupsafe import escape
from starlette.testclient import TestClient

from quizgen.formatting import plain
from quizgen.graders.gradebook import Gradebook, report
from quizgen.markup import to_html
from quizgen.output import answer_text
from quizgen.serve import app as serve_app
from quizgen.serve import db, service


class Browser:
    """A test client that keeps every response body it received (for the leak scan)."""

    def __init__(self, app) -> None:
        self.client = TestClient(app, base_url="http://testserver")
        self.bodies: list[str] = []
        self.csrf = ""

    def get(self, url, **kw):
        r = self.client.get(url, **kw)
        self.bodies.append(r.text)
        m = re.search(r'name="csrf" value="([^"]+)"', r.text)
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        r = self.client.post(url, data=data, follow_redirects=False, **kw)
        self.bodies.append(r.text)
        return r

    def sign_in(self, token):
        r = self.post("/signin", {"token": token}, csrf=False)
        assert r.status_code == 303, r.text
        self.get("/")
        return r


def student(ctx, sid="s001", **kw):
    b = Browser(serve_app.create_app(ctx, **kw))
    b.sign_in(service.issue_token(ctx, sid))
    return b


def hidden_values(instance) -> list[str]:
    """Texts that give away the key: each part's answer as the key prints it and the worked
    solution, leaving out any the question itself states."""
    shown = instance.text + " ".join(p.prompt + " ".join(p.options) for p in instance.parts)
    found = [str(to_html(instance.solution))]
    for p in instance.parts:
        for text in {answer_text(p), plain(p.expected)}:
            if len(text) >= 5 and text not in shown:
                found += [text, str(escape(text))]
    return found


def assert_no_leak(bodies, instances):
    for inst in instances:
        for secret in hidden_values(inst):
            for body in bodies:
                assert secret not in body, f"{inst.template_id}: {secret[:60]!r} was sent to the browser"


# ------------------------------------------------------------------------------ sign-in


def test_a_bad_token_is_refused_and_a_good_one_sets_a_strict_cookie(ctx):
    b = Browser(serve_app.create_app(ctx))
    r = b.post("/signin", {"token": "not-a-token"}, csrf=False)
    assert r.status_code == 403 and "not valid" in r.text
    token = service.issue_token(ctx, "s001")
    r = b.post("/signin", {"token": token}, csrf=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert token not in cookie  # the cookie is a session id, not the token
    assert "Signed in as s001" in b.get("/").text
    # the token is stored hashed only
    with ctx.engine.connect() as conn:
        rows = conn.execute(db.tokens.select()).all()
    assert rows and all(token not in tuple(map(str, row)) for row in rows)
    assert r.headers["referrer-policy"] == "same-origin"  # a sign-in link never goes to another site


def test_a_student_is_not_the_instructor(ctx):
    b = student(ctx)
    assert b.get("/instructor").status_code == 403


# ------------------------------------------------------------------------------ practice


def _variant_with_mistake(ctx, b):
    """Open practice variants until one has a part with a distinguishable known mistake."""
    for template_id in sorted(ctx.course.bank.templates):
        r = b.post("/practice/new", {"template_id": template_id})
        assert r.status_code == 303
        vid = int(r.headers["location"].rsplit("/", 1)[1])
        v = service.variant(ctx, "s001", vid)
        for part in v.instance.parts:
            good = [m for m in part.mistakes if m.distinguishable and not part.options]
            if good:
                return v, part, good[0]
    raise AssertionError("no template with a distinguishable mistake")


def test_practice_names_the_mistake_then_shows_the_solution_only_when_asked(ctx):
    b = student(ctx)
    assert "convolution" in b.get("/practice").text
    v, part, mistake = _variant_with_mistake(ctx, b)
    page = b.get(f"/practice/{v.id}").text
    assert "<math" in page  # MathML made on the server
    r = b.post(f"/practice/{v.id}/answer", {part.id: plain(mistake.value)})
    assert r.status_code == 303
    page = b.get(f"/practice/{v.id}").text
    assert str(escape(mistake.feedback)) in page and mistake.id in page
    assert_no_leak(b.bodies, [v.instance])  # nothing given away before the solution is asked for
    b.post(f"/practice/{v.id}/solution")
    page = b.get(f"/practice/{v.id}").text
    assert "Worked solution" in page and str(escape(answer_text(part))) in page
    # a new variant: another id, another seed, the same template
    r = b.post("/practice/new", {"template_id": v.template_id})
    w = service.variant(ctx, "s001", int(r.headers["location"].rsplit("/", 1)[1]))
    assert w.id != v.id and w.template_id == v.template_id and w.instance.seed != v.instance.seed
    assert "Worked solution" not in b.get(f"/practice/{w.id}").text
    mastery = service.mastery(ctx, "s001")
    assert mastery[v.topic][1] == 1 and mastery[v.topic][0] < 1
    assert v.topic in b.get("/practice").text


def test_the_solution_shows_after_n_tries(ctx):
    b = student(ctx)
    vid = int(
        b.post("/practice/new", {"template_id": "conv.output_size"}).headers["location"].rsplit("/", 1)[1]
    )
    for _ in range(ctx.solution_after):
        assert "Worked solution" not in b.get(f"/practice/{vid}").text
        b.post(f"/practice/{vid}/answer", {})
    assert "Worked solution" in b.get(f"/practice/{vid}").text


def test_a_student_cannot_open_another_students_variant(ctx):
    a, other = student(ctx, "s001"), student(ctx, "s002")
    vid = a.post("/practice/new", {"template_id": "conv.output_size"}).headers["location"]
    assert other.get(vid).status_code == 404
    assert other.post(vid + "/solution").status_code == 404
    assert other.post(vid + "/answer", {"a": "1"}).status_code == 404


def test_practice_answers_are_rate_limited(ctx):
    b = student(ctx, practice_per_minute=2)
    vid = b.post("/practice/new", {"template_id": "conv.output_size"}).headers["location"]
    assert [b.post(vid + "/answer", {}).status_code for _ in range(3)] == [303, 303, 429]
    ctx.clock.t += 61
    assert b.post(vid + "/answer", {}).status_code == 303


# ------------------------------------------------------------------------------ homework


def _fields(ctx, sid):
    paper = ctx.course.paper(sid)
    return paper, [(q.number, p) for q in paper.questions for p in q.instance.parts]


def test_homework_autosaves_then_one_final_submit_goes_into_the_gradebook(ctx, tmp_path):
    b = student(ctx)
    paper, parts = _fields(ctx, "s001")
    (n1, p1), (n2, p2) = parts[0], parts[1]
    right = answer_text(p1) if not p1.options else p1.expected
    r = b.post(
        "/exam/save",
        {f"q{n1}.{p1.id}": "[1, 2", f"q{n2}.{p2.id}": "7"},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200 and r.json()["ok"]
    page = b.get("/exam").text
    assert "[1, 2" in page and 'src="/static/autosave.js"' in page
    assert_no_leak(b.bodies, [q.instance for q in paper.questions])
    assert b.post("/exam/submit", {f"q{n1}.{p1.id}": right}).status_code == 303
    page = b.get("/exam").text
    assert "Handed in" in page
    with Gradebook(ctx.gradebook) as book:
        records = {(r.number, r.part.id): r for r in book.records(ctx.exam) if r.student_id == "s001"}
    assert records[(n1, p1.id)].result.status.value == "correct"
    assert records[(n2, p2.id)].response == "7"
    # one submit only: nothing changes afterwards
    r = b.post("/exam/save", {f"q{n2}.{p2.id}": "8"})
    assert r.status_code == 409 and service.drafts(ctx, "s001")[(n2, p2.id)] == "7"
    # the instructor sees the grade, and 'quizgen report' reads the same gradebook
    teacher = Browser(serve_app.create_app(ctx))
    teacher.sign_in(service.issue_token(ctx, "instructor", service.INSTRUCTOR))
    listing = teacher.get("/instructor").text
    total = sum(r.points for r in records.values())
    assert re.search(rf"s001</td>.*?{total:g} / {paper.points:g}", listing, re.S)
    files = report(ctx.gradebook, tmp_path / "report", exam=ctx.exam)
    grades = (tmp_path / "report" / "grades.csv").read_text(encoding="utf-8")
    assert files and "s001" in grades and f"{total:g}" in grades


def test_the_deadline_closes_the_exam_and_hands_in_the_autosaved_answers(ctx):
    b = student(ctx, "s002")
    _, parts = _fields(ctx, "s002")
    n, p = parts[0]
    b.post("/exam/save", {f"q{n}.{p.id}": "3"})
    ctx.clock.t = (ctx.deadline + timedelta(seconds=1)).timestamp()
    r = b.post("/exam/save", {f"q{n}.{p.id}": "4"})
    assert r.status_code == 403 and "deadline" in r.text and service.drafts(ctx, "s002")[(n, p.id)] == "3"
    assert b.post("/exam/submit", {}).status_code == 403
    page = b.get("/exam").text
    assert "Handed in" in page and "textarea" in page and "disabled" in page
    assert service.submission(ctx, "s002") is not None  # handed in at the deadline
    with Gradebook(ctx.gradebook) as book:
        got = [
            r
            for r in book.records(ctx.exam)
            if r.student_id == "s002" and r.number == n and r.part.id == p.id
        ]
        absent = [sid for sid, _ in book.absent(ctx.exam)]
    assert got and got[0].response == "3" and "s001" in absent  # s001 saved nothing: absent


# ------------------------------------------------------------------------------ security


def test_a_post_without_the_csrf_token_or_from_another_site_changes_nothing(ctx):
    b = student(ctx)
    _, parts = _fields(ctx, "s001")
    n, p = parts[0]
    assert b.post("/exam/save", {f"q{n}.{p.id}": "1"}, csrf=False).status_code == 403
    assert b.post("/exam/save", {f"q{n}.{p.id}": "1", "csrf": "wrong"}, csrf=False).status_code == 403
    r = b.post("/exam/save", {f"q{n}.{p.id}": "1"}, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    assert service.drafts(ctx, "s001") == {}


def test_bad_input_gets_a_clear_message_and_changes_nothing(ctx):
    b = student(ctx)
    _, parts = _fields(ctx, "s001")
    n, p = parts[0]
    r = b.post("/exam/save", {f"q{n}.{p.id}": "1", "q99.z": "2"})
    assert r.status_code == 400 and "Unknown answer field" in r.text
    r = b.post("/exam/save", {f"q{n}.{p.id}": "x" * (serve_app.MAX_BODY + 1)})
    assert r.status_code == 413 and "larger than" in r.text
    r = b.post("/exam/save", {f"q{n}.{p.id}": "9" * 20_001})
    assert r.status_code == 400 and "longer than" in r.text
    assert service.drafts(ctx, "s001") == {}
    r = b.client.post("/exam/save", files={"f": ("a.py", b"print(1)")}, data={"csrf": b.csrf})
    assert r.status_code == 400 and "Files are not accepted" in r.text
    assert b.get("/practice/999999").status_code == 404


def test_no_page_of_a_whole_session_holds_another_students_key(ctx):
    """Every body a student receives, over a whole homework session, against both papers' keys."""
    b = student(ctx, "s001")
    for url in ("/", "/practice", "/exam"):
        b.get(url)
    _, parts = _fields(ctx, "s001")
    b.post("/exam/save", {f"q{n}.{p.id}": "1" for n, p in parts[:3]})
    b.get("/exam")
    b.get("/static/autosave.js")
    papers = [ctx.course.paper("s001"), ctx.course.paper("s002")]
    assert_no_leak(b.bodies, [q.instance for paper in papers for q in paper.questions])
    assert all("https://" not in body and "http://cdn" not in body for body in b.bodies)  # nothing from a CDN


# ------------------------------------------------------------------------------ instructor


def _instructor(ctx):
    teacher = Browser(serve_app.create_app(ctx))
    teacher.sign_in(service.issue_token(ctx, "instructor", service.INSTRUCTOR))
    return teacher


def _hand_in_with_a_mistake(ctx, sid="s001"):
    """Hand in ``sid``'s paper with one known mistake and one right answer; (mistake id, right part)."""
    paper = ctx.course.paper(sid)
    form, mistake, right = {}, None, None
    for q in paper.questions:
        for p in q.instance.parts:
            found = [m for m in p.mistakes if m.distinguishable and not p.options]
            if mistake is None and found:
                form[f"q{q.number}.{p.id}"], mistake = plain(found[0].value), found[0].id
            elif right is None:
                form[f"q{q.number}.{p.id}"], right = answer_text(p) if not p.options else p.expected, (q, p)
    service.final_submit(ctx, sid, form)
    return mistake, right


def test_instructor_pages_item_analysis_one_students_answers_and_the_grades_csv(ctx, tmp_path):
    mistake, (q, p) = _hand_in_with_a_mistake(ctx)
    teacher = _instructor(ctx)
    items = teacher.get("/instructor/items")
    assert items.status_code == 200 and mistake in items.text and q.instance.template_id in items.text
    page = teacher.get("/instructor/students/s001")
    assert page.status_code == 200 and "Handed in" in page.text and mistake in page.text
    assert str(escape(answer_text(p))) in page.text  # the instructor sees the key
    assert "not handed in" in teacher.get("/instructor/students/s002").text.lower()
    assert teacher.get("/instructor/students/nobody").status_code == 404
    # the CSV is grades.csv exactly as 'quizgen report' writes it
    r = teacher.get("/instructor/grades.csv")
    report(ctx.gradebook, tmp_path / "report", exam=ctx.exam)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text == (tmp_path / "report" / "grades.csv").read_text(encoding="utf-8")
    # none of it is for a student
    b = student(ctx, "s002")
    for url in ("/instructor/items", "/instructor/students/s001", "/instructor/grades.csv"):
        assert b.get(url).status_code == 403
    assert b.post("/instructor/regrade").status_code == 403
    assert b.post("/instructor/revoke", {"student": "s001"}).status_code == 403


def test_the_instructor_regrades_as_quizgen_regrade_does(ctx):
    teacher = _instructor(ctx)
    r = teacher.post("/instructor/regrade")
    assert r.status_code == 409 and "Nothing regraded" in r.text  # nothing graded yet
    _hand_in_with_a_mistake(ctx)
    assert teacher.post("/instructor/regrade", csrf=False).status_code == 403
    assert teacher.post("/instructor/regrade", {"extra": "1"}).status_code == 400
    r = teacher.post("/instructor/regrade")
    assert r.status_code == 200 and "Regraded 1 students" in r.text and "0 grades changed" in r.text
    assert (service.reports_dir(ctx) / "grades.csv").is_file()
    with Gradebook(ctx.gradebook) as book:
        kinds = [k for (k,) in book.db.execute("SELECT kind FROM runs ORDER BY id")]
    assert kinds == ["grade", "regrade"]


def test_a_revoked_link_no_longer_signs_in_and_its_sessions_end(ctx):
    token = service.issue_token(ctx, "s001")
    b = Browser(serve_app.create_app(ctx))
    b.sign_in(token)
    assert b.get("/exam").status_code == 200
    teacher = _instructor(ctx)
    assert "1 valid" in teacher.get("/instructor").text
    r = teacher.post("/instructor/revoke", {"student": "s001"})
    assert (
        r.status_code == 200 and "Revoked 1 sign-in links of s001" in r.text and "ended 1 sessions" in r.text
    )
    assert b.get("/exam").status_code == 401  # the open session ended
    assert Browser(serve_app.create_app(ctx)).post("/signin", {"token": token}, csrf=False).status_code == 403
    assert "1 revoked" in teacher.get("/instructor").text
    fresh = student(ctx, "s001")  # a new link signs in again
    assert fresh.get("/exam").status_code == 200
    # bad input: a clear message, nothing revoked
    r = teacher.post("/instructor/revoke", {"student": "nobody"})
    assert r.status_code == 404 and "nothing was revoked" in r.text
    r = teacher.post("/instructor/revoke", {"student": "s001", "also": "s002"})
    assert r.status_code == 400 and fresh.get("/exam").status_code == 200


def test_the_practice_lists_buttons_carry_each_students_own_csrf_token(ctx):
    """The list's buttons are rendered once per process (app.py); each page gets its own token."""
    a, b = student(ctx, "s001"), student(ctx, "s002")
    pages = {s: c.get("/practice").text for s, c in (("a", a), ("b", b))}
    for page, mine in ((pages["a"], a.csrf), (pages["b"], b.csrf)):
        tokens = re.findall(r'name="csrf" value="([^"]+)"', page)
        assert len(tokens) > len(ctx.course.bank.templates) and set(tokens) == {mine}
    assert a.csrf != b.csrf
    r = a.post("/practice/new", {"template_id": "conv.output_size"})
    assert r.status_code == 303
