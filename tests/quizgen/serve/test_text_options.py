"""The text-option kinds on the served pages (issue 17 §1): radio buttons, checkboxes and a
position per item, folded into the answer string the grader reads; practice feedback names the
misconception without giving away which options are right; nothing of the key before the final
submit or the solution."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from markupsafe import escape
from test_app import Browser, assert_no_leak, student  # the serve tests' folder is on sys.path (rootdir mode)

from quizgen.graders.gradebook import Gradebook
from quizgen.output import answer_text, html_inline
from quizgen.selection import split_letters
from quizgen.serve import app as serve_app
from quizgen.serve import db, options, service
from quizgen.serve.course import load_course
from quizgen.serve.service import Refused


def _new(b, ctx, template_id):
    r = b.post("/practice/new", {"template_id": template_id})
    return service.variant(ctx, "s001", int(r.headers["location"].rsplit("/", 1)[1]))


def _key_texts(part) -> list[str]:
    """What would give the key away on a page: the answer with its texts, and (the page shows
    every option) the order or set of the right letters as the grader's messages write it."""
    return [str(escape(answer_text(part))), f"The right order is {part.expected}", "You left out"]


def _ordering_fields(part, letters: str, name: str | None = None) -> dict[str, str]:
    """The position selects of an ordering part set to give ``letters`` (``"C,A,B"``)."""
    name = name or part.id
    at = {x: i for i, x in enumerate(split_letters(letters), 1)}
    return {f"{name}:{x}": str(at.get(x, "")) for x in "ABCDEFGH"[: len(part.options)]}


def test_multi_select_shows_checkboxes_with_rendered_options_and_names_the_misconception(ctx):
    b = student(ctx)
    v = _new(b, ctx, "concepts.hyperparameters")
    (part,) = v.instance.parts
    page = b.get(f"/practice/{v.id}").text
    assert page.count('type="checkbox"') == len(part.options)
    for o in part.options:
        assert str(html_inline(o)) in page  # the option's text as markup, not as code
    right = set(split_letters(part.expected))
    wrong = next(x for x in "ABCDEFGH"[: len(part.options)] if x not in right)
    ticked = sorted(right | {wrong})  # every right option and one wrong one
    r = b.post(f"/practice/{v.id}/answer", {part.id: "", **{f"{part.id}:{x}": "1" for x in ticked}})
    assert r.status_code == 303
    stored = service.last_attempt(ctx, "s001", v.id)[0]
    assert stored["response"] == ",".join(ticked) and stored["status"] == "partial"
    page = b.get(f"/practice/{v.id}").text
    mistake = next(m for m in part.mistakes if set(split_letters(m.value)) ^ right == {wrong})
    assert str(escape(mistake.feedback)) in page and mistake.id in page
    assert all(f'id="{part.id}:{x}" name="{part.id}:{x}" value="1" checked' in page for x in ticked[1:])
    # leaving a right option out: the page says some are missing, not which
    left_out = sorted(right)[0]
    b.post(f"/practice/{v.id}/answer", {part.id: "", **{f"{part.id}:{x}": "1" for x in right - {left_out}}})
    page = b.get(f"/practice/{v.id}").text
    assert "Some right options are not selected." in page
    for body in b.bodies:
        assert not any(k in body for k in _key_texts(part))
    # nothing ticked is a blank, not "nothing sent"
    b.post(f"/practice/{v.id}/answer", {part.id: ""})
    assert service.last_attempt(ctx, "s001", v.id)[0]["status"] == "blank"
    b.post(f"/practice/{v.id}/solution")
    assert str(html_inline(answer_text(part))) in b.get(f"/practice/{v.id}").text


def test_ordering_takes_a_position_per_item_and_grades_the_order(ctx):
    b = student(ctx)
    v = _new(b, ctx, "concepts.training_loop_order")
    (part,) = v.instance.parts
    page = b.get(f"/practice/{v.id}").text
    assert page.count("<select ") == len(part.options) and "<textarea" not in page.split("<form", 2)[1]
    named = next(m for m in part.mistakes if m.value != part.expected)
    b.post(f"/practice/{v.id}/answer", _ordering_fields(part, named.value))
    stored = service.last_attempt(ctx, "s001", v.id)[0]
    assert stored["response"] == named.value and stored["mistake"] == named.id
    page = b.get(f"/practice/{v.id}").text
    assert str(escape(named.feedback)) in page
    # the saved order comes back in the selects
    first = split_letters(named.value)[0]
    assert re.search(rf'name="{part.id}:{first}"[^>]*>.*?<option value="1" selected>', page)
    reversed_order = ",".join(reversed(split_letters(part.expected)))
    b.post(f"/practice/{v.id}/answer", _ordering_fields(part, reversed_order))
    assert "That is not the right order." in b.get(f"/practice/{v.id}").text
    for body in b.bodies:
        assert not any(k in body for k in _key_texts(part))
    b.post(f"/practice/{v.id}/answer", _ordering_fields(part, part.expected))
    assert service.last_attempt(ctx, "s001", v.id)[0]["status"] == "correct"
    # two items at one position: refused with a message, nothing recorded
    tries = service.variant(ctx, "s001", v.id).tries
    bad = _ordering_fields(part, part.expected) | {f"{part.id}:A": "1", f"{part.id}:B": "1"}
    r = b.post(f"/practice/{v.id}/answer", bad)
    assert r.status_code == 400 and "both at position 1" in r.text
    assert service.variant(ctx, "s001", v.id).tries == tries


def test_true_false_is_two_radio_buttons_labelled_true_and_false(ctx):
    b = student(ctx)
    v = _new(b, ctx, "concepts.conv_size_claim")
    (part,) = v.instance.parts
    page = b.get(f"/practice/{v.id}").text
    assert (
        'type="radio"' in page
        and f'name="{part.id}" value="T"' in page
        and f'name="{part.id}" value="F"' in page
    )
    assert re.search(r'value="T"[^>]*>\s*<label[^>]*>True</label>', page)
    wrong = "F" if part.expected == "T" else "T"
    b.post(f"/practice/{v.id}/answer", {part.id: wrong})
    stored = service.last_attempt(ctx, "s001", v.id)[0]
    m = next(m for m in part.mistakes if m.value == wrong)
    assert stored["mistake"] == m.id and str(escape(m.feedback)) in b.get(f"/practice/{v.id}").text
    assert f'value="{wrong}" checked' in b.bodies[-1]


def test_fold_fields_refuses_what_the_page_never_sends(ctx):
    b = student(ctx)
    v = _new(b, ctx, "concepts.hyperparameters")
    parts = {p.id: p for p in v.instance.parts}
    with pytest.raises(Refused, match="Unknown answer field 'a:Z'"):
        options.fold_fields(parts, {"a": "", "a:Z": "1"})
    with pytest.raises(Refused, match="both typed and ticked"):
        options.fold_fields(parts, {"a": "A", "a:B": "1"})
    with pytest.raises(Refused, match="Unknown answer field 'b:A'"):
        options.fold_fields(parts, {"b:A": "1"})
    assert options.fold_fields(parts, {"a": "A,C"}) == {"a": "A,C"}  # typed (an API client)


@pytest.fixture
def concepts_ctx(ctx, tmp_path):
    spec = tmp_path / "concepts.yaml"
    spec.write_text(
        "title: Concepts quiz\nseed: 7\nsections:\n  - title: Concepts\n"
        "    ids: [concepts.conv_size_claim, concepts.bias_variance, concepts.data_splits,"
        " concepts.hyperparameters, concepts.augmentation, concepts.training_loop_order]\n"
        "    pick: 6\n    points: 6\n",  # every text-option kind
        encoding="utf-8",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\ns001,Ada Lovelace,a@x.edu\n", encoding="utf-8")
    course = load_course(spec, roster)
    engine = db.connect(f"sqlite:///{tmp_path / 'concepts.sqlite'}")
    book = db.gradebook_path(engine, None)
    with Gradebook(book) as gb:
        key = gb.import_manifest(course.manifest)
    return service.Ctx(course, engine, str(book), key, db.secret(engine), ctx.deadline, 3, ctx.clock)


def test_the_paper_saves_ticked_answers_as_drafts_and_grades_them_at_the_final_submit(concepts_ctx):
    ctx = concepts_ctx
    b = student(ctx)
    paper = ctx.course.paper("s001")
    parts = [(q.number, p) for q in paper.questions for p in q.instance.parts]
    kinds = {p.kind for _, p in parts}
    assert {"text_choice", "true_false", "multi_select", "ordering"} <= kinds
    page = b.get("/exam").text
    assert "<textarea" not in page and 'type="checkbox"' in page and "<select " in page
    form, typed = {}, {}
    for n, p in parts:  # the key everywhere but one wrong option ticked in each multiple select
        name = f"q{n}.{p.id}"
        if p.kind == "ordering":
            form |= _ordering_fields(p, p.expected, name)
            typed[name] = p.expected
        elif p.kind == "multi_select":
            right = split_letters(p.expected)
            extra = next(x for x in "ABCDEFGH"[: len(p.options)] if x not in right)
            ticked = sorted([*right, extra])
            form |= {name: "", **{f"{name}:{x}": "1" for x in ticked}}
            typed[name] = ",".join(ticked)
        else:
            form[name] = p.expected
            typed[name] = p.expected
    r = b.post("/exam/save", form, headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert {f"q{n}.{p}": t for (n, p), t in service.drafts(ctx, "s001").items()} == typed
    page = b.get("/exam").text
    assert_no_leak(b.bodies, [q.instance for q in paper.questions])
    for body in b.bodies:
        assert not any(k in body for _, p in parts for k in _key_texts(p)[1:])
    assert b.post("/exam/submit", form).status_code == 303
    with Gradebook(ctx.gradebook) as book:
        records = {f"q{r.number}.{r.part.id}": r for r in book.records(ctx.exam) if r.student_id == "s001"}
    for n, p in parts:
        rec = records[f"q{n}.{p.id}"]
        assert rec.response == typed[f"q{n}.{p.id}"]
        assert rec.result.status.value == ("partial" if p.kind == "multi_select" else "correct")
    page = b.get("/exam").text
    assert "Handed in" in page and "disabled" in page
    # the instructor sees each option's text beside the student's letters, and the key
    teacher = Browser(serve_app.create_app(ctx))
    teacher.sign_in(service.issue_token(ctx, "instructor", service.INSTRUCTOR))
    page = teacher.get("/instructor/students/s001").text
    for _, p in parts:
        assert str(html_inline(answer_text(p))) in page
        assert all(str(html_inline(o)) in page for o in p.options)
