"""``quizgen grade``, ``quizgen regrade`` and ``quizgen report``: thin wrappers over
:mod:`quizgen.graders.gradebook`. Register them on the main group with :func:`register`.

The commands load the bank (built-in plus ``--bank`` folders) when they first need it, once for
two uses: a manifest's papers are redrawn from it before they are graded, and one whose keys
differ is refused (:mod:`quizgen.manifest_check`); and error carried forward re-runs a template
with the student's earlier answers substituted (:func:`quizgen.engine.carried_pipeline`). A
regrade of papers already in the gradebook whose template the bank no longer has is graded
without carrying errors forward, with a warning.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import bank as bank_mod
from . import engine
from .cli_options import GRADEBOOK, bank_option
from .errors import QuizgenError
from .graders.gradebook import GradeSettings, GradingOutcome, grade_class, regrade_class, report
from .graders.gradebook_sql import shown
from .models import Instance, Tolerance

__all__ = ["LazyBank", "bank_recompute_factory", "grade_commands", "parse_tolerance", "register"]


class LazyBank:
    """The bank of ``bank_dirs`` (built-in plus extra folders), loaded on the first ``get``: a
    grade whose papers the gradebook has verified before and that carries no error forward
    never loads it."""

    def __init__(self, bank_dirs=()) -> None:
        self.bank_dirs = tuple(bank_dirs)
        self._bank: bank_mod.Bank | None = None

    def get(self, template_id: str):
        if self._bank is None:
            self._bank = bank_mod.load_bank(self.bank_dirs)
        return self._bank.get(template_id)


def bank_recompute_factory(bank_dirs=(), *, missing: set[str] | None = None, bank: LazyBank | None = None):
    """A factory ``instance -> recompute`` over the bank (None for a template it lacks, whose
    id is added to ``missing``). The bank (``bank``, or one of ``bank_dirs``) is loaded when a
    chained part first needs it."""
    source = bank if bank is not None else LazyBank(bank_dirs)

    def factory(instance: Instance):
        if not any(p.depends_on for p in instance.parts):
            return None
        try:
            template = source.get(instance.template_id)
        except QuizgenError:
            if missing is not None:
                missing.add(instance.template_id)
            return None
        return lambda overrides: engine.carried_pipeline(template, instance.params, overrides)

    return factory


_TOL_FIELDS = {"rtol": float, "atol": float, "sigfigs": int, "decimals": int}


def parse_tolerance(text: str) -> tuple[str, Tolerance]:
    """``TEMPLATE[:PART]=rtol:0.05,atol:1e-6`` (or ``sigfigs:3``, ``decimals:2``, ``exact``)."""
    key, sep, spec = text.partition("=")
    if not sep or not key.strip() or not spec.strip():
        raise click.BadParameter(
            f"{text!r}: write TEMPLATE[:PART]=rtol:0.05 (or atol:..., sigfigs:3, decimals:2, exact)"
        )
    fields: dict = {}
    for item in spec.split(","):
        name, _, value = item.strip().partition(":")
        if name == "exact" and not value:
            fields["exact"] = True
            continue
        if name not in _TOL_FIELDS:
            raise click.BadParameter(
                f"{text!r}: unknown tolerance {name!r}; use rtol, atol, sigfigs, decimals or exact"
            )
        try:
            fields[name] = _TOL_FIELDS[name](value)
        except ValueError:
            raise click.BadParameter(f"{text!r}: {name} needs a number, got {value!r}") from None
    try:
        return key.strip(), Tolerance(**fields)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}") from None


def _settings(partial: bool, credit: float, tolerances) -> GradeSettings:
    return GradeSettings(partial=partial, carry_forward_credit=credit, tolerances=dict(tolerances))


def _print(outcome: GradingOutcome, as_json: bool, missing: set[str], out: Path | None) -> None:
    warnings = list(outcome.warnings) + [
        f"template {t!r} is not in the bank; its parts were graded without error carried forward (pass --bank)"
        for t in sorted(missing)
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "exam": outcome.exam,
                    "db": shown(outcome.db_path),
                    "run": outcome.run.run_id if outcome.run else None,
                    "graded": outcome.run.graded if outcome.run else 0,
                    "resumed": outcome.run.resumed if outcome.run else 0,
                    "absent": list(outcome.run.absent) if outcome.run else [],
                    "changes": [c.describe() for c in outcome.changes],
                    "warnings": warnings,
                    "files": [str(f) for f in outcome.files],
                },
                indent=1,
            )
        )
        return
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    if outcome.run:
        resumed = f" (resumed: {outcome.run.resumed} were already done)" if outcome.run.resumed else ""
        absent = f", {len(outcome.run.absent)} absent (not graded)" if outcome.run.absent else ""
        click.echo(
            f"graded {outcome.run.graded} students in run {outcome.run.run_id}{resumed}{absent}; "
            f"gradebook {shown(outcome.db_path)}"
        )
    for c in outcome.changes:
        click.echo(f"changed: {c.describe()}")
    if outcome.run and outcome.run.kind == "regrade" and not outcome.changes:
        click.echo("no grade changed")
    if outcome.files:
        click.echo(f"reports in {outcome.files[0].parent} (report.html, grades.csv, feedback/)")


grading_options = [
    click.option(
        "--all-or-nothing",
        "all_or_nothing",
        is_flag=True,
        default=None,
        help="No per-element partial credit for vectors, matrices and tensors.",
    ),
    click.option(
        "--carry-forward-credit",
        type=click.FloatRange(0.0, 1.0),
        default=None,
        help="Credit for a part right given the student's own earlier wrong answer [default: 1].",
    ),
    click.option(
        "--tolerance",
        "tolerances",
        multiple=True,
        metavar="TEMPLATE[:PART]=SPEC",
        help="Override a tolerance, e.g. conv.size=rtol:0.05 or adam.step:m=sigfigs:3 (repeatable).",
    ),
]


def _with(options):
    def decorate(f):
        for opt in reversed(options):
            f = opt(f)
        return f

    return decorate


@click.command("grade")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("responses", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--db",
    type=GRADEBOOK,
    help="Gradebook: a SQLite file or postgresql://user@host/dbname [default: OUT/gradebook.sqlite].",
)
@bank_option
@_with(grading_options)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def grade_command(
    manifest, responses, out, db, bank_dirs, all_or_nothing, carry_forward_credit, tolerances, as_json
):
    """Grade RESPONSES (CSV, JSON or YAML) against MANIFEST: gradebook, grades.csv, reports."""
    missing: set[str] = set()
    settings = _settings(
        not all_or_nothing,
        1.0 if carry_forward_credit is None else carry_forward_credit,
        [parse_tolerance(t) for t in tolerances],
    )
    progress = None
    if not as_json and sys.stderr.isatty():  # pragma: no cover - interactive only

        def progress(student_id: str) -> None:
            click.echo(f"  graded {student_id}", err=True)

    bank = LazyBank(bank_dirs)
    outcome = grade_class(
        manifest,
        responses,
        out,
        db_path=db,
        settings=settings,
        recompute_factory=bank_recompute_factory(missing=missing, bank=bank),
        progress=progress,
        bank=bank,
    )
    _print(outcome, as_json, missing, out)


def _db(db: Path | str | None, out: Path | None) -> Path | str:
    if db is None and out is None:
        raise click.UsageError("give the gradebook with --db, or the grading folder with --out")
    return db if db is not None else out / "gradebook.sqlite"


@click.command("regrade")
@click.option(
    "--db",
    type=GRADEBOOK,
    help="Gradebook: a SQLite file or postgresql://user@host/dbname [default: OUT/gradebook.sqlite].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Rewrite the reports in this folder [default: where they were last written].",
)
@click.option("--exam", help="Exam key, when the gradebook holds several.")
@click.option(
    "--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A corrected manifest."
)
@click.option(
    "--responses",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="More or corrected responses.",
)
@bank_option
@_with(grading_options)
@click.option(
    "--override", "overrides", multiple=True, metavar="STUDENT:qN.PART=POINTS", help="Set points by hand."
)
@click.option(
    "--clear-override", "clears", multiple=True, metavar="STUDENT:qN.PART", help="Remove a manual override."
)
@click.option("--reason", default="", help="Why (required with --override).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def regrade_command(
    db, out, exam, manifest, responses, bank_dirs, all_or_nothing, carry_forward_credit, tolerances,
    overrides, clears, reason, as_json,
):  # fmt: skip
    """Recompute every grade from the stored responses and list what changed for whom.

    Settings not given keep the last run's; --tolerance adds to them."""
    from .graders.gradebook import Gradebook

    db_path = _db(db, out)
    settings = None
    if all_or_nothing is not None or carry_forward_credit is not None or tolerances:
        with Gradebook.existing(db_path) as book:
            last = book.last_settings(book.resolve_exam(exam))
        settings = GradeSettings(
            partial=last.partial if all_or_nothing is None else not all_or_nothing,
            carry_forward_credit=last.carry_forward_credit
            if carry_forward_credit is None
            else carry_forward_credit,
            tolerances={**last.tolerances, **dict(parse_tolerance(t) for t in tolerances)},
        )
    missing: set[str] = set()
    bank = LazyBank(bank_dirs)
    outcome = regrade_class(
        db_path,
        out_dir=out,
        exam=exam,
        manifest_path=manifest,
        responses_path=responses,
        settings=settings,
        recompute_factory=bank_recompute_factory(missing=missing, bank=bank),
        overrides=overrides,
        clear_overrides=clears,
        reason=reason,
        bank=bank,
    )
    _print(outcome, as_json, missing, out)


@click.command("report")
@click.option(
    "--db",
    type=GRADEBOOK,
    help="Gradebook: a SQLite file or postgresql://user@host/dbname [default: OUT/gradebook.sqlite].",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--exam", help="Exam key, when the gradebook holds several.")
def report_command(db, out, exam):
    """Write grades.csv, item analysis, collusion flags and feedback reports from the gradebook."""
    files = report(_db(db, out), out, exam=exam)
    click.echo(f"{len(files)} files in {out}")


@click.command("import-responses")
@click.argument(
    "reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--lms", type=click.Choice(["canvas", "moodle"]), required=True, help="Whose reports they are.")
@click.option(
    "--manifest",
    type=click.Path(exists=True, path_type=Path),
    help="The manifest.json (or its folder) the quiz was exported from.",
)
@click.option("--template", "template_ids", multiple=True, help="Or: the template ids it was exported from.")
@click.option("--variants", type=click.IntRange(min=1), default=5, show_default=True, help="With --template.")
@click.option("--title", default="quizgen", show_default=True, help="With --template: the export's title.")
@bank_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
def import_responses_command(reports, lms, manifest, template_ids, variants, title, bank_dirs, out):
    """Read the Canvas Student Analysis or Moodle Responses CSVs of a quiz exported by quizgen
    (Canvas: one REPORT per version of the quiz taken, each found from its columns):
    writes OUT/manifest.json (the variants each student was served) and OUT/responses.json,
    to grade with 'quizgen grade OUT/manifest.json OUT/responses.json --out ...'."""
    from .cli_export import _source
    from .graders.lms_responses import import_lms_responses, write_imported

    source = _source(manifest, template_ids, variants, bank_dirs, title)
    imported = import_lms_responses(lms, reports, source)
    for w in imported.warnings:
        click.echo(f"warning: {w}", err=True)
    m, r = write_imported(imported, out)
    click.echo(f"{len(imported.responses)} students' answers -> {r}; their variants -> {m}")


#: The commands, for a group that prefers to add them itself.
grade_commands = [grade_command, regrade_command, report_command]


def register(cli_group: click.Group) -> None:
    """Add ``grade``, ``regrade``, ``report`` and ``import-responses`` to ``cli_group``."""
    for command in (*grade_commands, import_responses_command):
        cli_group.add_command(command)
