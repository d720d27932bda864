"""Autograding commands: each parses its options and calls one plain function below.

- ``quizgen assignment starter SPEC [-o FILE]``: the student's starter file.
- ``quizgen assignment validate SPEC...``: load specs and draw every case (reference included).
- ``quizgen check SPEC SOLUTION``: for students, the visible cases with full feedback, fast.
- ``quizgen autograde SPEC SUBMISSIONS_DIR --out DIR -j N``: a class, in parallel, into
  grades.csv, results.json, junit.xml and one feedback file per student; ``--executor dask
  --scheduler ADDRESS`` grades on a Dask cluster instead (:mod:`quizgen.graders.executors`).
- ``quizgen export gradescope SPEC -o autograder.zip``: setup.sh and run_autograder that install
  quizgen and grade /autograder/submission, hidden cases keyed by the instructor's key (put in
  the zip as hidden.key) and the submitter's Gradescope id.

Hidden cases need the instructor's key (:mod:`quizgen.graders.hidden_key`): ``--key-file FILE``
or the environment variable QUIZGEN_HIDDEN_KEY; without one, the commands that would run hidden
cases stop with a one-line error (exit status 2) instead of drawing them from public seeds.
- ``quizgen assignment gradescope-run SPEC``: what run_autograder calls inside Gradescope.

Exit codes: 0 all passed, 1 some case failed, 2 bad usage or a malformed spec, 3 grading itself
failed (see :mod:`quizgen.graders.results`).
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import click

from .errors import SpecError
from .fsutil import atomic_write_text, student_file_stem
from .graders import results, sandbox, untrusted
from .graders.assignment import (
    Assignment,
    build_cases,
    has_hidden_cases,
    load_assignment,
    starter,
    with_hidden_key,
)
from .graders.autograde import SubmissionGrade, grade_submission, rejected_grade
from .graders.executors import EXECUTORS, Job, run_jobs
from .graders.hidden_key import ENV, MissingHiddenKey, load_hidden_key, make_key
from .graders.sandbox import Options

__all__ = [
    "autograde_class",
    "check_solution",
    "export_gradescope",
    "find_submissions",
    "gradescope_run",
    "register",
    "validate_specs",
    "write_starter",
]

GRADESCOPE_ROOT = "/autograder"
KEY_NAME = "hidden.key"  # the key's name inside autograder.zip (/autograder/source/hidden.key)


# ---------------------------------------------------------------------------------------------
# plain functions


def write_starter(spec: str | Path, out: str | Path | None = None) -> str:
    """The starter file's text; also written to ``out`` when given."""
    text = starter(load_assignment(spec))
    if out is not None:
        atomic_write_text(out, text)
    return text


def validate_specs(specs: Sequence[str | Path], *, variants: Sequence[str] = ("", "a", "b")) -> list[str]:
    """Load each spec and draw all of its cases for a few variants; one line per spec. Hidden
    cases are drawn with a throwaway key: this checks that they can be drawn, not what they are."""
    lines = []
    for path in specs:
        assignment = with_hidden_key(load_assignment(path), make_key().encode())
        counts = [len(build_cases(assignment, variant=v)) for v in variants]
        points = sum(c.points for c in build_cases(assignment))
        lines.append(
            f"{path}: {assignment.id}, {len(assignment.tests)} tests, {counts[0]} cases, {points:g} points"
        )
    return lines


def keyed(assignment: Assignment, key_file: str | Path | None, *, hidden: bool = True) -> Assignment:
    """``assignment`` with the instructor's key from ``key_file`` or $QUIZGEN_HIDDEN_KEY; a
    :class:`MissingHiddenKey` error when ``hidden`` cases are wanted and there is no key."""
    key = load_hidden_key(key_file)
    if hidden and key is None and has_hidden_cases(assignment):
        raise MissingHiddenKey(
            f"the hidden cases of assignment {assignment.id} need the instructor's key: set {ENV} "
            "or pass --key-file FILE (or leave them out with --visible-only)",
            source=assignment.source,
        )
    return with_hidden_key(assignment, key)


def check_solution(
    spec: str | Path,
    solution: str | Path,
    *,
    hidden: bool = False,
    variant: str = "",
    options: Options | None = None,
    key_file: str | Path | None = None,
) -> SubmissionGrade:
    """Grade one file: the visible and edge cases (plus hidden ones of ``variant`` if asked,
    which need the instructor's key: ``key_file`` or $QUIZGEN_HIDDEN_KEY)."""
    assignment = keyed(load_assignment(spec), key_file, hidden=hidden)
    if key_file is not None:
        options = options or Options()
        options = replace(options, hide=(*options.hide, str(Path(key_file).resolve())))
    return grade_submission(assignment, solution, variant=variant, hidden=hidden, options=options)


def find_submissions(folder: str | Path, assignment: Assignment) -> list[untrusted.Submission]:
    """Every hand-in in ``folder``: ``<student>.py`` files and ``<student>/`` folders holding one
    Python file (or one named ``<assignment id>.py``), read without following links; those that
    cannot be graded carry the reason (see :func:`quizgen.graders.untrusted.find_submissions`)."""
    return untrusted.find_submissions(folder, assignment.id)


def _feedback_names(grades: Sequence[SubmissionGrade]) -> list[str]:
    """A distinct file name per student (two names that differ only in unsafe characters, or a
    file and a folder of the same name, would otherwise overwrite each other's feedback), short
    enough for any file system whatever the characters of the student's file or folder name."""
    used: set[str] = set()
    return [student_file_stem(grade.student, used, keep="-_.@") for grade in grades]


def _job(submission: untrusted.Submission, *, read: bool) -> Job:
    """The executor's job for a hand-in; ``read``: carry the file's bytes (for a remote worker),
    read here without following links."""
    if submission.refused:
        return Job(submission.student, str(submission.path), rejected=submission.refused)
    if not read:
        return Job(submission.student, str(submission.path))
    try:
        source = untrusted.read_submission(submission.path)
    except untrusted.Refused as exc:
        return Job(submission.student, str(submission.path), rejected=str(exc))
    return Job(submission.student, str(submission.path), source=source)


def autograde_class(
    spec: str | Path,
    submissions: str | Path,
    out: str | Path,
    *,
    jobs: int = 1,
    hidden: bool = True,
    progress: Callable[[SubmissionGrade], None] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    key_file: str | Path | None = None,
    allow_unsandboxed: bool = False,
) -> list[SubmissionGrade]:
    """Grade every submission in a folder and write OUT/grades.csv, OUT/results.json,
    OUT/junit.xml and OUT/feedback/<student>.txt. Hidden cases are keyed by the instructor's key
    (``key_file`` or $QUIZGEN_HIDDEN_KEY; without one, :class:`MissingHiddenKey`) and each
    student's id, so each student gets their own. ``executor`` (see
    :mod:`quizgen.graders.executors`): "local", ``jobs`` threads here; "dask", the cluster at
    ``scheduler`` (without one, a local cluster of ``jobs`` processes). Every executor gives the
    same grades. Every hand-in gets a row, those that cannot be graded with the reason."""
    folder, out = Path(submissions), Path(out)
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise SpecError(
            "--out is inside the submissions folder, where the next run would take feedback/ for a "
            "student; choose an output folder outside it",
            source=str(out),
        )
    assignment = keyed(load_assignment(spec), key_file, hidden=hidden)
    work = [_job(s, read=executor != "local") for s in find_submissions(folder, assignment)]
    hide = [str(folder.resolve()), str(out.resolve()), str(Path(spec).resolve())]
    if key_file is not None:
        hide.append(str(Path(key_file).resolve()))
    grades = run_jobs(
        executor,
        assignment,
        work,
        hidden=hidden,
        options=Options(hide=tuple(hide), allow_unsandboxed=allow_unsandboxed),
        workers=jobs,
        scheduler=scheduler,
        progress=progress,
    )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "grades.csv", results.grades_csv(grades))
    atomic_write_text(out / "results.json", json.dumps(results.json_results(grades), indent=1) + "\n")
    atomic_write_text(out / "junit.xml", results.junit_xml(grades))
    for grade, name in zip(grades, _feedback_names(grades), strict=True):
        atomic_write_text(out / "feedback" / f"{name}.txt", results.summary(grade) + "\n")
    return grades


def _variant_from_metadata(path: Path) -> str:
    """The submitters' Gradescope user ids ("1234" or "1234+5678" for a group), or ""."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ids = sorted(str(u["id"]) for u in data.get("users", []))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return ""
    return "+".join(ids)


def gradescope_run(
    spec: str | Path,
    *,
    submission: str | Path = f"{GRADESCOPE_ROOT}/submission",
    metadata_path: str | Path = f"{GRADESCOPE_ROOT}/submission_metadata.json",
    results_path: str | Path = f"{GRADESCOPE_ROOT}/results/results.json",
    hidden_visibility: str = "after_due_date",
    key_file: str | Path | None = None,
) -> SubmissionGrade:
    """Grade the Gradescope submission and write results.json; it is written even when the
    spec, the key or the submission cannot be read (score 0 and the reason). The key comes from
    ``key_file`` (run_autograder passes /autograder/source/hidden.key) or $QUIZGEN_HIDDEN_KEY.
    The submission is read without following links; one that is a link or holds one is refused
    with the reason."""
    submission, results_path = Path(submission), Path(results_path)
    variant = untrusted.clean_text(_variant_from_metadata(Path(metadata_path)), 200)
    try:
        assignment = load_assignment(spec)
        if key_file is not None and not Path(key_file).exists() and not has_hidden_cases(assignment):
            key_file = None  # nothing hidden: no key needed
        assignment = keyed(assignment, key_file)
    except SpecError as exc:
        grade = SubmissionGrade(
            "?", "?", str(submission), (), error=f"the assignment spec or its key is broken: {exc}"
        )
    else:
        hide = [str(Path(p).resolve()) for p in (spec, results_path.parent, metadata_path)]
        if key_file is not None:
            hide.append(str(Path(key_file).resolve()))
        try:
            mode = os.lstat(submission).st_mode
        except OSError:
            mode = 0
        if stat.S_ISDIR(mode):
            path, why = untrusted.pick_file(submission, assignment.id)
        else:
            path, why = submission, ""
        if path is None:
            grade = rejected_grade(assignment, submission, why, variant=variant, student=variant)
        else:
            grade = grade_submission(
                assignment,
                path,
                variant=variant,
                student=variant,
                options=Options(hide=tuple(dict.fromkeys(hide))),
            )
    payload = results.gradescope_results(grade, hidden_visibility=hidden_visibility)
    atomic_write_text(results_path, json.dumps(payload, indent=1) + "\n")
    return grade


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# NumPy goes system-wide (the sandboxed student process imports it); quizgen goes into a venv
# that only root can read, so a student's code, running as another user, cannot read the
# reference implementation or this folder.
set -euo pipefail
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
fi
python3 -m pip install --quiet numpy || python3 -m pip install --quiet --break-system-packages numpy
python3 -m venv --system-site-packages /opt/quizgen
/opt/quizgen/bin/pip install --quiet /autograder/source/quizgen_src
chmod 700 /opt/quizgen /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root. It always leaves a valid results.json.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
QUIZGEN="${{QUIZGEN:-/opt/quizgen/bin/quizgen}}"
mkdir -p "$ROOT/results"
$QUIZGEN assignment gradescope-run "$ROOT/source/assignment.yaml" \\
  --submission "$ROOT/submission" \\
  --metadata "$ROOT/submission_metadata.json" \\
  --results "$ROOT/results/results.json" \\
  --key-file "$ROOT/source/hidden.key" \\
  --hidden-visibility {visibility}
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '%s\\n' '{{"score": 0, "output": "The autograder failed before it could grade this submission; this is not a problem with your code. Please tell your instructor.", "tests": []}}' > "$ROOT/results/results.json"
fi
exit 0
"""

_GENERATED_PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "quizgen"
version = "{version}"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.scripts]
quizgen = "quizgen.cli:main"

[tool.setuptools.packages.find]
include = ["quizgen*"]

[tool.setuptools.package-data]
"*" = ["*.yaml", "*.j2", "*.json", "*.css", "*.tex"]
"""

#: What quizgen needs at run time when its own metadata cannot be read (a source checkout
#: that was never installed); keep it in step with pyproject.toml's ``dependencies``.
_DEPENDENCIES = ("numpy>=1.24", "pyyaml>=6.0", "jinja2>=3.1", "click>=8.1", "latex2mathml>=3.77")


def _dependencies() -> list[str]:
    """The installed quizgen's run-time requirements (not its extras), so that the copy
    setup.sh installs on Gradescope can import everything this one does."""
    try:
        required = metadata.requires("quizgen") or []
    except metadata.PackageNotFoundError:
        return list(_DEPENDENCIES)
    return [r for r in required if "extra ==" not in r] or list(_DEPENDENCIES)


def _package_dirs() -> dict[str, Path]:
    import importlib

    out = {}
    for name in ("quizgen", "quizgen.reference", "quizgen.graders", "quizgen.question_bank"):
        module = importlib.import_module(name)
        out[name] = Path(next(iter(module.__path__))).resolve()
    return out


def _add_text(zf: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def export_gradescope(
    spec: str | Path,
    out: str | Path,
    *,
    hidden_visibility: str = "after_due_date",
    key_file: str | Path | None = None,
) -> Path:
    """Write Gradescope's autograder.zip: setup.sh, run_autograder, assignment.yaml, hidden.key
    (the instructor's key, from ``key_file`` or $QUIZGEN_HIDDEN_KEY; required when the
    assignment has hidden cases) and quizgen_src/ (this quizgen's source, installed by
    setup.sh). Students never receive the zip; its files are readable by root only there."""
    assignment = load_assignment(spec)  # fail here, not on Gradescope, if the spec is broken
    key = keyed(assignment, key_file).hidden_key
    if hidden_visibility not in results.VISIBILITIES:
        raise SpecError(f"--hidden-visibility: expected one of {', '.join(results.VISIBILITIES)}")
    dirs = _package_dirs()
    mapping = {
        "quizgen": "quizgen",
        "quizgen.reference": "quizgen/reference",
        "quizgen.graders": "quizgen/graders",
        "quizgen.question_bank": "quizgen/question_bank",
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", SETUP_SH, executable=True)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.format(visibility=hidden_visibility), executable=True)
        _add_text(zf, "assignment.yaml", Path(spec).read_text(encoding="utf-8"))
        if key is not None:
            _add_text(zf, KEY_NAME, key.decode("utf-8", "surrogateescape") + "\n")
        try:
            version = metadata.version("quizgen")
        except metadata.PackageNotFoundError:
            version = "0"
        _add_text(
            zf,
            "quizgen_src/pyproject.toml",
            _GENERATED_PYPROJECT.format(version=version, dependencies=json.dumps(_dependencies())),
        )
        for name, folder in dirs.items():
            skip_nested = [d for n, d in dirs.items() if n != name and folder in d.parents]
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder)
                if (
                    not path.is_file()
                    or "__pycache__" in rel.parts
                    or path.suffix in (".pyc", ".pyo")
                    or any(d in path.parents for d in skip_nested)
                ):
                    continue
                zf.write(path, f"quizgen_src/{mapping[name]}/{rel.as_posix()}")
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------------------------------------
# click commands


def _emit_reports(grades: Sequence[SubmissionGrade], json_out, junit_out, classroom_out) -> None:
    if json_out:
        atomic_write_text(json_out, json.dumps(results.json_results(grades), indent=1) + "\n")
    if junit_out:
        atomic_write_text(junit_out, results.junit_xml(grades))
    if classroom_out:
        # GitHub Actions step outputs: append name=value lines to the file in $GITHUB_OUTPUT
        with open(classroom_out, "a", encoding="utf-8") as f:
            f.write(f"result={results.classroom_output(grades[0])}\n")


def _key_option(help_text: str, default: str | None = None):
    return click.option(
        "--key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=default,
        help=help_text,
    )


_KEY_HELP = f"The instructor's key for hidden cases (default: ${ENV})."


def _assignment_group() -> click.Group:
    @click.group("assignment")
    def group() -> None:
        """Code assignments: starter files, spec validation, the Gradescope entry point."""

    @group.command("starter")
    @click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout."
    )
    def starter_cmd(spec: Path, out: Path | None) -> None:
        """Write the student's starter file for SPEC: signatures, docstrings, NotImplementedError."""
        text = write_starter(spec, out)
        if out is None:
            click.echo(text, nl=False)
        else:
            click.echo(f"wrote {out}", err=True)

    @group.command("validate")
    @click.argument(
        "specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
    )
    def validate_cmd(specs: tuple[Path, ...]) -> None:
        """Load each SPEC and draw every case, calling the reference; errors name file and line."""
        for line in validate_specs(specs):
            click.echo(line)

    @group.command("gradescope-run")
    @click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--submission", default=f"{GRADESCOPE_ROOT}/submission", type=click.Path(path_type=Path))
    @click.option(
        "--metadata",
        "metadata_path",
        default=f"{GRADESCOPE_ROOT}/submission_metadata.json",
        type=click.Path(path_type=Path),
    )
    @click.option(
        "--results",
        "results_path",
        default=f"{GRADESCOPE_ROOT}/results/results.json",
        type=click.Path(path_type=Path),
    )
    @click.option(
        "--hidden-visibility",
        type=click.Choice(results.VISIBILITIES),
        default="after_due_date",
        show_default=True,
    )
    @_key_option("The instructor's key for hidden cases.", f"{GRADESCOPE_ROOT}/source/{KEY_NAME}")
    def gradescope_cmd(spec, submission, metadata_path, results_path, hidden_visibility, key_file) -> None:
        """Grade a Gradescope submission into results.json (run_autograder calls this)."""
        grade = gradescope_run(
            spec,
            submission=submission,
            metadata_path=metadata_path,
            results_path=results_path,
            hidden_visibility=hidden_visibility,
            key_file=key_file,
        )
        click.echo(results.summary(grade))

    return group


def _sandbox_or_exit(allow_unsandboxed: bool) -> Options:
    """The sandbox's options; exit 2 with one line when it would refuse untrusted code."""
    options = Options(allow_unsandboxed=allow_unsandboxed)
    try:
        sandbox.preflight(options)
    except sandbox.SandboxError as exc:
        raise click.UsageError(str(exc)) from None
    return options


_ALLOW_UNSANDBOXED = click.option(
    "--allow-unsandboxed",
    is_flag=True,
    help="Run submissions even where the OS gives no namespaces to isolate them (they can then "
    "read what you can read and signal your processes); only for code you trust.",
)


@click.command("check")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("solution", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--hidden", is_flag=True, help="Also run hidden cases (of --variant; needs the instructor's key)."
)
@_key_option(_KEY_HELP)
@click.option("--variant", default="", help="Whose hidden cases (e.g. a student or repository id).")
@click.option("--quiet", is_flag=True, help="Only the failing cases' feedback and the total.")
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write JSON results."
)
@click.option(
    "--junit", "junit_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML."
)
@click.option(
    "--classroom",
    "classroom_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append GitHub Classroom's result=<base64> line to this file (pass $GITHUB_OUTPUT).",
)
@_ALLOW_UNSANDBOXED
def check_cmd(
    spec, solution, hidden, key_file, variant, quiet, json_out, junit_out, classroom_out, allow_unsandboxed
) -> None:
    """Run SPEC's visible tests on SOLUTION and show the feedback (exit 0 only if all pass)."""
    options = _sandbox_or_exit(allow_unsandboxed)
    grade = check_solution(spec, solution, hidden=hidden, variant=variant, options=options, key_file=key_file)
    text = results.summary(grade)
    if quiet:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("  PASS"))
    click.echo(text)
    _emit_reports([grade], json_out, junit_out, classroom_out)
    raise SystemExit(results.exit_code([grade]))


@click.command("autograde")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Submissions at once."
)
@click.option("--visible-only", is_flag=True, help="Skip the hidden cases.")
@_key_option(_KEY_HELP)
@click.option(
    "--executor",
    type=click.Choice(list(EXECUTORS)),
    default="local",
    show_default=True,
    help="local: -j threads here; dask: a Dask cluster (pip install 'quizgen[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="The Dask scheduler, e.g. tcp://10.0.0.5:8786 (without it: a local cluster of -j processes).",
)
@_ALLOW_UNSANDBOXED
def autograde_cmd(
    spec, submissions, out, jobs, visible_only, key_file, executor, scheduler, allow_unsandboxed
) -> None:
    """Grade every submission in SUBMISSIONS (student.py files or student/ folders) into OUT:
    grades.csv, results.json, junit.xml and feedback/<student>.txt."""
    _sandbox_or_exit(allow_unsandboxed)

    def progress(grade: SubmissionGrade) -> None:
        status = f"{grade.score:g}/{grade.max_score:g}"
        if grade.error or grade.rejected:
            status = "error: " + grade.error if grade.error else "not graded: " + grade.rejected
        click.echo(f"{grade.student}: {status}", err=True)

    grades = autograde_class(
        spec,
        submissions,
        out,
        jobs=jobs,
        hidden=not visible_only,
        progress=progress,
        executor=executor,
        scheduler=scheduler,
        key_file=key_file,
        allow_unsandboxed=allow_unsandboxed,
    )
    total = len(grades)
    errors = sum(bool(g.error) for g in grades)
    click.echo(
        f"graded {total - errors} of {total} submissions into {out}"
        + (f"; {errors} could not be graded" if errors else "")
    )
    raise SystemExit(results.EXIT_ERROR if errors else results.EXIT_OK)


@click.command("gradescope")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    default="autograder.zip",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--hidden-visibility",
    type=click.Choice(results.VISIBILITIES),
    default="after_due_date",
    show_default=True,
)
@_key_option(_KEY_HELP + " It goes into the zip, which students never see.")
def export_gradescope_cmd(spec, out, hidden_visibility, key_file) -> None:
    """Build Gradescope's autograder.zip for SPEC (setup.sh, run_autograder, the hidden-case key,
    quizgen's source)."""
    path = export_gradescope(spec, out, hidden_visibility=hidden_visibility, key_file=key_file)
    click.echo(f"wrote {path}")


def _add_to_export_group(cli_group: click.Group) -> None:
    """Put ``gradescope`` under ``export``: the group another module made, or a new one."""
    group = cli_group.commands.get("export")
    if not isinstance(group, click.Group):

        @cli_group.group("export")
        def group() -> None:
            """Export exams and assignments to Moodle, Canvas, PDF, Gradescope and other systems."""

    group.add_command(export_gradescope_cmd)


def register(cli_group: click.Group) -> None:
    """Add ``assignment``, ``check``, ``autograde`` and ``export gradescope`` to ``cli_group``."""
    cli_group.add_command(_assignment_group())
    cli_group.add_command(check_cmd)
    cli_group.add_command(autograde_cmd)
    _add_to_export_group(cli_group)
