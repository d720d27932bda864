import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quizgen import exam, output
from quizgen.errors import SpecError
from quizgen.manifest import load_manifest

EXAMS = Path(__file__).parent / "fixtures" / "exams"


@pytest.fixture
def spec(fixture_bank):
    return exam.load_spec(EXAMS / "small.yaml", fixture_bank)


def test_roster_reads_ids_names_and_optional_emails():
    students = exam.load_roster(EXAMS / "roster.csv")
    assert [s.id for s in students] == ["a1", "b2", "c3"]
    assert students[1].email == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("name,email\nx,y\n", "header with columns id,name"),
        ("id,name\na,A\na,B\n", "already on line 2"),
        ("id,name\n,A\n", "empty student id"),
        ("id,name\n", "no students"),
    ],
)
def test_bad_rosters_fail_with_the_line_and_fix(tmp_path, text, message):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        exam.load_roster(path)


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "title: t\nseed: 1\nsections:\n  - {pick: 5, topic: regularization}\n",
            "pick is 5 but the filters match 1",
        ),
        ("title: t\nseed: 1\nsections:\n  - {pick: 1, topik: x}\n", "unknown key 'topik'"),
        ("title: t\nseed: 1\nsections:\n  - {pick: 1, order: random}\n", "order must be one of"),
        ("title: t\nsections: []\n", "missing required key 'seed'"),
        ("title: t\nseed: 1\nsections:\n  - {pick: 1, ids: [no.such]}\n", "no template 'no.such'"),
    ],
)
def test_bad_specs_fail_with_file_line_and_fix(tmp_path, fixture_bank, body, message):
    path = tmp_path / "exam.yaml"
    path.write_text(body)
    with pytest.raises(SpecError, match=message) as info:
        exam.load_spec(path, fixture_bank)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_papers_are_deterministic_and_independent_of_other_students(spec):
    students = exam.load_roster(EXAMS / "roster.csv")
    full = exam.build_exam(spec, students)
    alone = exam.build_exam(spec, [students[1]])
    assert full.students[1].to_dict() == alone.students[0].to_dict()
    again = exam.build_exam(spec, students)
    assert full.to_json() == again.to_json()
    seeds = {s.questions[0].instance.seed for s in full.students}
    assert len(seeds) == 3


def test_points_per_question_follow_the_section(spec):
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    assert manifest.exam["points"] == pytest.approx(8)


def test_write_exam_produces_every_file_and_a_loadable_manifest(tmp_path, spec):
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    written = output.write_exam(manifest, tmp_path / "out")
    names = sorted(str(p.relative_to(tmp_path / "out")) for p in written)
    assert "manifest.json" in names and "overview.html" in names and "responses_template.csv" in names
    for sid in ("a1", "b2", "c3"):
        for kind in ("papers", "keys"):
            assert f"{kind}/{sid}.html" in names and f"{kind}/{sid}.md" in names
    assert written[-1].name == "manifest.json"
    loaded = load_manifest(tmp_path / "out" / "manifest.json")
    written_data = loaded.to_dict()
    seals = [q.pop("seal") for student in written_data["students"] for q in student["questions"]]
    assert len(seals) == 3 and all(len(s) == 64 for s in seals)  # generate seals each instance
    assert written_data == json.loads(manifest.to_json())
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".quizgen-")]


def test_paper_hides_answers_and_key_shows_them(tmp_path, spec):
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    paper = manifest.students[0]
    html_paper = output.render_paper(manifest.exam, paper, key=False, fmt="html")
    html_key = output.render_paper(manifest.exam, paper, key=True, fmt="html")
    expected = output.answer_text(paper.questions[0].instance.part("c"))  # not among any options
    assert expected not in html_paper and "Worked solution" not in html_paper
    assert expected in html_key and "Worked solution" in html_key
    assert "<math" in html_paper and "$" not in html_paper.split("<body>")[1].replace("$5", "")
    assert "http" not in html_paper.replace("http://www.w3.org/1998/Math/MathML", "")


def test_response_template_has_a_row_per_student_and_a_column_per_part(spec):
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    lines = output.response_template(
        manifest.students, output.response_columns(manifest.students)
    ).splitlines()
    assert lines[0] == "student_id,name,q1.a,q1.b,q1.c,q1.d"
    assert output.response_columns(manifest.students) == exam.response_columns(spec)
    assert [line.split(",")[0] for line in lines[1:]] == ["a1", "b2", "c3"]


def test_a_failed_write_leaves_the_previous_exam_whole(tmp_path, spec, monkeypatch):
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    out = tmp_path / "out"
    output.write_exam(manifest, out)
    before = (out / "manifest.json").read_text()

    real = output.render_pages
    calls = []

    def fails_on_the_second_student(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(output, "render_pages", fails_on_the_second_student)
    with pytest.raises(RuntimeError):
        output.write_exam(manifest, out, overwrite=True)
    assert (out / "manifest.json").read_text() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".quizgen-")]


def test_streaming_generate_matches_the_in_memory_build_byte_for_byte(tmp_path, spec):
    students = exam.load_roster(EXAMS / "roster.csv")
    exam.generate(spec, students, tmp_path / "streamed")
    output.write_exam(exam.build_exam(spec, students), tmp_path / "in_memory")
    exam.generate(spec, students, tmp_path / "parallel", jobs=2)
    for rel in ("manifest.json", "responses_template.csv", "overview.html", "papers/b2.html", "keys/c3.md"):
        streamed = (tmp_path / "streamed" / rel).read_bytes()
        assert streamed == (tmp_path / "in_memory" / rel).read_bytes(), rel
        assert streamed == (tmp_path / "parallel" / rel).read_bytes(), rel


@pytest.mark.parametrize("jobs", [1, 2])
def test_generate_reports_each_student_in_roster_order(tmp_path, spec, jobs):
    students = exam.load_roster(EXAMS / "roster.csv")
    seen = []
    written = exam.generate(spec, students, tmp_path / "out", jobs=jobs, progress=seen.append)
    assert seen == students
    assert written == len([p for p in (tmp_path / "out").rglob("*") if p.is_file()]) == 4 * 3 + 3


def test_a_rendered_paper_writes_what_its_paper_writes(tmp_path, spec):
    """What a worker sends back instead of the paper gives the same files as the paper."""
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    columns = exam.response_columns(spec)
    for sub, items in (
        ("papers", manifest.students),
        ("rendered", [output.render_student(manifest.exam, p) for p in manifest.students]),
    ):
        with output.ExamWriter(tmp_path / sub, manifest.exam, columns) as writer:
            for item in items:
                writer.add(item)
            writer.commit()
    for path in sorted((tmp_path / "papers").rglob("*.*")):
        rel = path.relative_to(tmp_path / "papers")
        assert path.read_bytes() == (tmp_path / "rendered" / rel).read_bytes(), rel


def test_papers_built_together_in_chunks_equal_papers_built_alone(tmp_path, spec):
    students = [exam.Student(f"x{i:02d}", f"Student {i}", "") for i in range(40)]
    together = exam.build_exam(spec, students)
    for i in (0, 15, 16, 39):
        assert together.students[i].to_dict() == exam.build_paper(spec, students[i]).to_dict()
    exam.generate(spec, students, tmp_path / "one", jobs=1)
    exam.generate(spec, students, tmp_path / "two", jobs=2)
    for rel in ("manifest.json", "papers/x00.html", "keys/x39.md"):
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_html_pages_escape_what_students_and_templates_write_and_markdown_keeps_it(spec):
    hostile = exam.Student("h1", "<script>alert(1)</script> O'Neil & Co", "")
    paper = exam.build_paper(spec, hostile)
    info = {**exam.exam_info(spec), "title": "Midterm <b>1</b>"}
    for key in (False, True):
        page = output.render_paper(info, paper, key=key, fmt="html")
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil &amp; Co" in page
        assert "<b>1</b>" not in page and "Midterm &lt;b&gt;1&lt;/b&gt;" in page
        assert "<math" in page  # the question texts' own HTML is not escaped
    assert "<script>alert(1)</script> O'Neil & Co" in output.render_paper(info, paper, key=True, fmt="md")


def test_generate_refuses_a_folder_holding_an_exam_unless_overwrite(tmp_path, spec):
    out = tmp_path / "out"
    exam.generate(spec, [exam.Student("a1", "Ann"), exam.Student("gone", "Left the course")], out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(SpecError, match=r"already holds an exam.*pass --overwrite"):
        exam.generate(spec, [exam.Student("a1", "Ann")], out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    exam.generate(spec, [exam.Student("a1", "Ann")], out, overwrite=True)
    assert sorted(p.name for p in (out / "papers").iterdir()) == ["a1.html", "a1.md"]
    assert sorted(p.name for p in (out / "keys").iterdir()) == ["a1.html", "a1.md"]
    assert [s["id"] for s in json.loads((out / "manifest.json").read_text())["students"]] == ["a1"]
    assert not [p for p in out.iterdir() if p.name.startswith(".quizgen-")]


def test_a_staging_folder_left_by_a_killed_run_is_removed_by_the_next(tmp_path, spec):
    out = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    stale = out / f".quizgen-{int(dead.stdout)}-abc"
    (stale / "papers").mkdir(parents=True)
    (stale / "papers" / "x.html").write_text("half")
    running = out / f".quizgen-{os.getpid()}-xyz"  # a live process's: kept
    running.mkdir()
    exam.generate(spec, [exam.Student("a1", "Ann")], out)
    assert not stale.exists() and running.exists()


def test_workers_die_with_their_parent(tmp_path):
    """A worker that called die_with_parent is killed when its parent is killed with -9."""
    script = (
        "import os, signal, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from quizgen.exam import die_with_parent\n"
        "with ProcessPoolExecutor(1, initializer=die_with_parent) as pool:\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    worker = int(proc.stdout)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    status = Path(f"/proc/{worker}/status")
    assert not status.exists() or "zombie" in status.read_text()
