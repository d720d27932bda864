"""The autograding commands end to end: starter, check (with its reports and exit codes), a class
graded in parallel, and a Gradescope autograder.zip whose run_autograder is actually run."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import click
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from quizgen import cli_export
from quizgen.cli import main
from quizgen.cli_autograde import _variant_from_metadata, check_solution, gradescope_run, register
from quizgen.graders.assignment import build_cases, load_assignment, with_hidden_key

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples/assignments/lstm.yaml"
SOLUTION = ROOT / "examples/assignments/solutions/lstm.py"


KEY = "0123456789abcdef0123456789abcdef-test-key"


@pytest.fixture(autouse=True)
def instructor_key(monkeypatch):
    """The instructor's key for hidden cases, as a CI secret would provide it."""
    monkeypatch.setenv("QUIZGEN_HIDDEN_KEY", KEY)


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_starter_command_prints_a_file_that_compiles():
    result = invoke("assignment", "starter", SPEC)
    assert result.exit_code == 0
    compile(result.output, "starter.py", "exec")
    assert "def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):" in result.output


def test_validate_command_draws_every_case_of_every_example():
    specs = sorted((ROOT / "examples/assignments").glob("*.yaml"))
    result = invoke("assignment", "validate", *specs)
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == len(specs)


def test_a_malformed_spec_is_a_one_line_error_with_exit_status_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: y\nfunctions: []\ntests: []\n")
    result = invoke("check", bad, SOLUTION)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "bad.yaml" in result.output


def test_check_passes_the_solution_and_writes_every_report(tmp_path):
    out = tmp_path / "gh_output"
    out.write_text("other=1\n")
    result = invoke(
        "check", SPEC, SOLUTION, "--hidden", "--variant", "me/repo",
        "--junit", tmp_path / "j.xml", "--json", tmp_path / "r.json", "--classroom", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "total 10.00 / 10 (100%)" in result.output
    line = out.read_text().splitlines()[-1]
    assert line.startswith("result=")
    assert json.loads(base64.b64decode(line[len("result=") :]))["status"] == "pass"
    assert json.loads((tmp_path / "r.json").read_text())["submissions"][0]["passed"] is True
    assert "<testsuites" in (tmp_path / "j.xml").read_text()


def test_check_fails_the_starter_with_exit_status_1(tmp_path):
    starter = tmp_path / "starter.py"
    invoke("assignment", "starter", SPEC, "-o", starter)
    result = invoke("check", SPEC, starter, "--quiet")
    assert result.exit_code == 1
    assert "PASS" not in result.output and "NotImplementedError" in result.output
    assert "hidden" not in result.output  # visible cases only, unless --hidden


def test_autograde_grades_a_class_in_parallel(tmp_path):
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    (subs / "alice.py").write_text(SOLUTION.read_text())
    (subs / "bob" / "lstm.py").write_text(SOLUTION.read_text().replace("_sigmoid(o) *", "_sigmoid(f) *"))
    (subs / "bob" / "helper.py").write_text("x = 1\n")
    (subs / "carol").mkdir()
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out", "-j", "3")
    assert result.exit_code == 0, result.output
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out/grades.csv").open())}
    assert rows["alice"]["score"] == rows["alice"]["max_score"] == "10"
    assert rows["bob"]["submission"].endswith("bob/lstm.py") and float(rows["bob"]["score"]) < 10
    assert rows["carol"]["score"] == "0" and "no single Python file" in rows["carol"]["error"]
    assert (tmp_path / "out/feedback/bob.txt").read_text().count("FAIL") >= 1
    assert json.loads((tmp_path / "out/results.json").read_text())["submissions"][0]["student"] == "alice"


def test_students_get_different_hidden_cases():
    assignment = with_hidden_key(load_assignment(SPEC), KEY.encode())
    hidden = {v: [c.seed for c in build_cases(assignment, variant=v) if c.hidden] for v in ("alice", "bob")}
    assert hidden["alice"] != hidden["bob"]


def test_variant_comes_from_gradescope_metadata(tmp_path):
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps({"users": [{"id": 77, "email": "b@x"}, {"id": 5, "email": "a@x"}]}))
    assert _variant_from_metadata(meta) == "5+77"
    meta.write_text("not json")
    assert _variant_from_metadata(meta) == ""
    assert _variant_from_metadata(tmp_path / "missing.json") == ""


def test_gradescope_run_always_writes_results(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [")
    res = tmp_path / "results" / "results.json"
    gradescope_run(broken, submission=tmp_path, metadata_path=tmp_path / "none.json", results_path=res)
    data = json.loads(res.read_text())
    assert data["score"] == 0 and "not a problem with your code" in data["output"]
    empty = tmp_path / "empty"
    empty.mkdir()
    gradescope_run(SPEC, submission=empty, metadata_path=tmp_path / "none.json", results_path=res)
    assert "submit one .py file" in json.loads(res.read_text())["output"]


def test_export_gradescope_builds_a_zip_whose_run_autograder_grades(tmp_path):
    zip_path = tmp_path / "autograder.zip"
    result = invoke("export", "gradescope", SPEC, "-o", zip_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        for script in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(zf.getinfo(script).external_attr >> 16) == 0o755
        zf.extractall(root / "source")
    assert "assignment.yaml" in names and "quizgen_src/pyproject.toml" in names
    assert (
        "quizgen_src/quizgen/reference/conv.py" in names
        and "quizgen_src/quizgen/graders/_forkserver.py" in names
    )
    assert not any("__pycache__" in n for n in names)
    setup = (root / "source/setup.sh").read_text()
    assert "chmod 700 /opt/quizgen /autograder/source" in setup

    (root / "submission").mkdir()
    (root / "submission" / "my_lstm.py").write_text(SOLUTION.read_text())
    (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": 4242}]}))
    wrapper = tmp_path / "quizgen"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from quizgen.cli import main; main()' \"$@\"\n")
    wrapper.chmod(0o755)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), QUIZGEN=str(wrapper))
    subprocess.run(
        ["bash", str(root / "source/run_autograder")], env=env, check=True, capture_output=True, timeout=120
    )
    data = json.loads((root / "results/results.json").read_text())
    assert data["score"] == 10.0
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_due_date"}


def test_run_autograder_writes_a_fallback_when_quizgen_is_missing(tmp_path):
    invoke("export", "gradescope", SPEC, "-o", tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        zf.extract("run_autograder", tmp_path / "source")
    env = dict(os.environ, AUTOGRADER_ROOT=str(tmp_path), QUIZGEN=str(tmp_path / "no-such-program"))
    done = subprocess.run(
        ["bash", str(tmp_path / "source/run_autograder")], env=env, capture_output=True, timeout=30
    )
    assert done.returncode == 0
    data = json.loads((tmp_path / "results/results.json").read_text())
    assert data["score"] == 0 and "please tell your instructor" in data["output"].lower()


def test_export_help_lists_gradescope_beside_the_lms_and_pdf_exports():
    result = invoke("export", "--help")
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert {"gradescope", "moodle", "qti", "pdf"} <= listed


@pytest.mark.parametrize("autograde_first", [True, False])
def test_both_modules_share_one_export_group_whichever_registers_first(autograde_first):
    @click.group()
    def cli() -> None:
        pass

    modules = [register, cli_export.register]
    for add in modules if autograde_first else modules[::-1]:
        add(cli)
    assert {"gradescope", "moodle", "qti", "pdf"} <= set(cli.commands["export"].commands)
    assert {"assignment", "check", "autograde"} <= set(cli.commands)


HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def _outputs_are_valid(out: Path) -> dict[str, dict]:
    """Every output file parses (JSON, XML, CSV, UTF-8 feedback); the grades.csv rows by student."""
    json.loads((out / "results.json").read_text(encoding="utf-8"))
    ET.parse(out / "junit.xml")
    for path in (out / "feedback").iterdir():
        path.read_text(encoding="utf-8")
    return {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}


def test_hostile_text_and_links_never_stop_the_class(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-ANSWER")
    secret.chmod(0o600)
    shutil.copy(SOLUTION, subs / "alice.py")
    for fixture in HOSTILE.glob("*.py"):
        shutil.copy(fixture, subs / fixture.name)
    (subs / "links_to_a_root_only_file.py").symlink_to(secret)
    (subs / "links_to_the_solutions").symlink_to(SOLUTION.parent)
    (subs / ("dangling_link_with_a_long_name" + "x" * 200 + ".py")).symlink_to(tmp_path / ("gone" * 50))
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    rows = _outputs_are_valid(tmp_path / "out")
    assert len(rows) == 7  # every hand-in has a row
    assert rows["alice"]["score"] == rows["alice"]["max_score"] == "10"
    for name, row in rows.items():
        if name != "alice":
            assert row["score"] == "0", name
    for name in ("links_to_a_root_only_file", "links_to_the_solutions"):
        assert "symbolic link" in rows[name]["error"]
    everything = "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert "TOP-SECRET" not in everything and "\x1b" not in everything and "\x00" not in everything
    assert "\\x1b" in everything  # the hostile bytes are shown escaped, on visible cases


def test_hostile_text_in_check_reports_keeps_json_xml_and_the_classroom_payload_valid(tmp_path):
    fixture = HOSTILE / "returns_object_with_hostile_type_name.py"
    out = tmp_path / "gh_output"
    result = invoke(
        "check",
        SPEC,
        fixture,
        "--junit",
        tmp_path / "j.xml",
        "--json",
        tmp_path / "r.json",
        "--classroom",
        out,
    )
    assert result.exit_code == 1, result.output
    ET.parse(tmp_path / "j.xml")
    json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    payload = base64.b64decode(out.read_text().split("result=", 1)[1])
    assert "\\\\x1b" in payload.decode("utf-8") or "\\x1b" in json.loads(payload)["tests"][0]["message"]


def test_without_the_instructors_key_hidden_cases_are_refused_with_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("QUIZGEN_HIDDEN_KEY")
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "alice.py")
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "QUIZGEN_HIDDEN_KEY" in result.output and "--key-file" in result.output
    assert not (tmp_path / "out").exists()
    result = invoke("check", SPEC, SOLUTION, "--hidden")
    assert result.exit_code == 2 and "QUIZGEN_HIDDEN_KEY" in result.output
    assert invoke("check", SPEC, SOLUTION).exit_code == 0  # visible cases need no key
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out", "--visible-only")
    assert result.exit_code == 0
    key = tmp_path / "hidden.key"
    key.write_text(KEY + "\n")
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out2", "--key-file", key)
    assert result.exit_code == 0
    assert "hidden" in (tmp_path / "out2/feedback/alice.txt").read_text()
    key.write_text("short\n")
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out3", "--key-file", key)
    assert result.exit_code == 2 and "hidden.key" in result.output and "at least 32" in result.output


def _tabulating_submission(assignment, variant: str) -> str:
    """A submission that only looks answers up: every case quizgen's own API can draw without the
    instructor's key (here: with a key the attacker guessed), keyed by the inputs' bytes."""
    table = {}
    for case in build_cases(assignment, variant=variant):
        (call,) = case.calls
        x = np.asarray(call.args[0], dtype=np.float64)
        h_next = next(p.expected for p in case.checks if p.name == "h_next")
        c_next = next(p.expected for p in case.checks if p.name == "c_next")
        table[x.tobytes().hex()] = (h_next.tolist(), c_next.tolist())
    return (
        "import numpy as np\n"
        f"TABLE = {table!r}\n"
        "def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):\n"
        "    found = TABLE.get(np.asarray(x, dtype=np.float64).tobytes().hex())\n"
        "    if found is None:\n"
        "        return np.zeros_like(h), np.zeros_like(c)\n"
        "    return np.array(found[0]), np.array(found[1])\n"
    )


def test_a_lookup_table_built_with_quizgens_api_fails_every_hidden_case(tmp_path):
    guessed = with_hidden_key(load_assignment(SPEC), b"the attacker's guess at the key 0123456789")
    path = tmp_path / "tabulates_answers_without_the_key.py"
    path.write_text(_tabulating_submission(guessed, "alice"))
    grade = check_solution(SPEC, path, hidden=True, variant="alice")
    visible = [c for c in grade.cases if not c.hidden]
    hidden = [c for c in grade.cases if c.hidden]
    assert visible and all(c.passed for c in visible)  # the table does work where seeds are public
    assert hidden and not any(c.passed for c in hidden)


def test_a_hidden_case_says_pass_or_fail_never_how_far_off(tmp_path):
    path = tmp_path / "returns_zeros.py"
    path.write_text(
        "import numpy as np\n\n\ndef lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):\n"
        "    return np.zeros_like(h) + 0.5, np.zeros_like(c) + 0.5\n"
    )
    grade = check_solution(SPEC, path, hidden=True, variant="alice")
    hidden = [c for c in grade.cases if c.hidden]
    assert hidden and not any(c.passed for c in hidden)
    for case in hidden:
        body = case.output.split("\n", 1)[1]
        assert "too low" not in body and "too high" not in body and "largest error" not in body
        assert not re.search(r"\d", body.replace("0/2", "")), body  # no number at all
    visible = next(c for c in grade.cases if not c.hidden and not c.passed)
    assert re.search(r"\d\.\d", visible.output)  # a visible case still says how far off


def test_export_gradescope_needs_the_key_and_ships_it_inside_the_zip_only(tmp_path, monkeypatch):
    monkeypatch.delenv("QUIZGEN_HIDDEN_KEY")
    result = invoke("export", "gradescope", SPEC, "-o", tmp_path / "a.zip")
    assert result.exit_code == 2 and "QUIZGEN_HIDDEN_KEY" in result.output
    assert not (tmp_path / "a.zip").exists()
    key = tmp_path / "hidden.key"
    key.write_text(KEY)
    assert invoke("export", "gradescope", SPEC, "-o", tmp_path / "a.zip", "--key-file", key).exit_code == 0
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.read("hidden.key").decode().strip() == KEY
        assert '--key-file "$ROOT/source/hidden.key"' in zf.read("run_autograder").decode()


def test_absurd_counts_in_a_spec_are_one_line_errors_naming_file_and_field(tmp_path):
    text = SPEC.read_text()
    cases = {
        "hidden": (re.sub(r"hidden: \d+", "hidden: 100000000", text, count=1), "hidden"),
        "visible": (re.sub(r"visible: \d+", "visible: 1000000", text, count=1), "visible"),
        "memory": (text.replace("memory_mb: 256", "memory_mb: 1.0e+12"), "limits.memory_mb"),
        "points": (re.sub(r"points: \d+", "points: .nan", text, count=1), "points"),
    }
    for name, (spec_text, field) in cases.items():
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(spec_text)
        start = time.monotonic()
        result = invoke("check", spec, SOLUTION)
        assert time.monotonic() - start < 5
        assert result.exit_code == 2, (name, result.output)
        line = result.output.strip()
        assert "\n" not in line and f"{name}.yaml" in line and field in line, line


def test_the_classroom_workflow_installs_the_courses_wheel_and_holds_no_secret():
    workflow = yaml.safe_load((ROOT / "examples/github-classroom/classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    runs = [s.get("run", "") for s in steps]
    installs = [r for r in runs if "pip install" in r]
    assert len(installs) == 1
    (install,) = installs
    assert "cd .github/quizgen" in install and "sha256sum --check" in install
    for line in install.splitlines():
        if "pip install" in line:
            targets = line.split("pip install", 1)[1].split()
            assert [t for t in targets if not t.startswith("-")] == ["./quizgen-*.whl"]  # never by name
    text = (ROOT / "examples/github-classroom/classroom.yml").read_text()
    assert "secrets." not in text and "--hidden" not in text  # a student can edit it: no secret
    check = next(r for r in runs if r.startswith("quizgen check"))
    assert "--classroom" in check
    # it runs as the runner's ordinary user, on ubuntu-latest (24.04) whose AppArmor refuses
    # unprivileged user namespaces (actions/runner-images#10443): without this flag quizgen
    # refuses to run and every student's check fails. The code is the student's own, run in
    # their own CI, which they control anyway: the sandbox protects nothing there.
    assert "--allow-unsandboxed" in check


def test_gradescope_refuses_a_submission_that_links_to_the_solution(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "lstm.py").symlink_to(SOLUTION)
    res = tmp_path / "results" / "results.json"
    grade = gradescope_run(
        SPEC, submission=submission, metadata_path=tmp_path / "none.json", results_path=res
    )
    data = json.loads(res.read_text())
    assert grade.score == data["score"] == 0 and "symbolic link" in data["output"]


def test_a_file_and_a_folder_of_the_same_student_keep_both_feedback_files(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    shutil.copy(SOLUTION, subs / "alice.py")
    (subs / "alice" / "lstm.py").write_text("x = 1\n")
    assert invoke("autograde", SPEC, subs, "--out", tmp_path / "out").exit_code == 0
    names = sorted(p.name for p in (tmp_path / "out/feedback").iterdir())
    assert names == ["alice-2.txt", "alice.txt"]


def test_a_student_folder_with_a_long_non_ascii_name_gets_its_feedback(tmp_path):
    """85 three-byte characters fill a folder name (255 bytes); the feedback file named after it
    (plus ".txt" and a temporary suffix) must still fit, and the students after it get theirs."""
    subs = tmp_path / "subs"
    long_name = "字" * 85
    (subs / long_name).mkdir(parents=True)
    (subs / long_name / "lstm.py").write_text("def nothing(): pass\n")
    (subs / "zed.py").write_text("def nothing(): pass\n")
    result = invoke("autograde", SPEC, subs, "--out", tmp_path / "out", "--visible-only")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out/feedback").glob("*.txt"))) == 2


def test_the_gradescope_zip_installs_every_dependency_quizgen_imports(tmp_path):
    """setup.sh installs quizgen_src with pip: its pyproject must ask for everything the installed
    quizgen needs (it left out latex2mathml, so `quizgen` failed to import on Gradescope and every
    student read "the autograder failed")."""
    import re
    from importlib import metadata

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    zip_path = tmp_path / "autograder.zip"
    assert invoke("export", "gradescope", SPEC, "-o", zip_path).exit_code == 0
    with zipfile.ZipFile(zip_path) as zf:
        project = tomllib.loads(zf.read("quizgen_src/pyproject.toml").decode())["project"]

    def name(requirement: str) -> str:
        return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()

    needed = {name(r) for r in metadata.requires("quizgen") or [] if "extra ==" not in r}
    assert needed and needed <= {name(r) for r in project["dependencies"]}


@pytest.mark.parametrize("inside", [".", "graded"])
def test_an_output_folder_inside_the_submissions_folder_is_refused(tmp_path, inside):
    """Written there, feedback/ would be a student (with no Python file) on the next run."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text(SOLUTION.read_text())
    before = sorted(p.name for p in subs.rglob("*"))
    result = CliRunner().invoke(main, ["autograde", str(SPEC), str(subs), "--out", str(subs / inside)])
    assert result.exit_code == 2 and "submissions folder" in result.output, result.output
    assert "Traceback" not in result.output and sorted(p.name for p in subs.rglob("*")) == before
