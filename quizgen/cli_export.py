"""``quizgen export moodle|qti|pdf``: a generated exam's manifest, or template variants straight
from the bank, as Moodle XML, a Canvas QTI zip, or printable LaTeX/PDF papers with keys.

    quizgen export moodle --manifest out/manifest.json --out exam.xml
    quizgen export qti --template conv.output_size --template pool.max --variants 5 --out quiz.zip
    quizgen export pdf --manifest out/ --out printed/

Everything an export cannot represent exactly is printed as ``warning: ...`` on stderr (and
listed under ``warnings`` with ``--json``); ``--strict`` turns warnings into exit status 1. What
the instructor must do though nothing is inexact is printed as ``note: ...`` (``notes``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import bank as bank_mod
from .cli_options import GradebookLocation, bank_option
from .export import (
    ExportResult,
    export_moodle,
    export_pdf,
    export_qti,
    source_from_bank,
    source_from_manifest,
)
from .manifest import load_manifest


def _source(manifest, template_ids, variants, bank_dirs, title):
    if bool(manifest) == bool(template_ids):
        raise click.UsageError("give either --manifest or at least one --template (with --variants)")
    if manifest:
        path = Path(manifest)
        return source_from_manifest(load_manifest(path / "manifest.json" if path.is_dir() else path))
    return source_from_bank(bank_mod.load_bank(bank_dirs), list(template_ids), variants, title=title)


def _report(kind: str, result: ExportResult, as_json: bool, strict: bool) -> None:
    if as_json:
        payload = {
            "format": kind,
            "files": [str(f) for f in result.files],
            "questions": result.questions,
            "warnings": result.warnings,
            "notes": result.notes,
        }
        click.echo(json.dumps(payload, indent=1))
    else:
        for line in result.warnings:
            click.echo(f"warning: {line}", err=True)
        shown = ", ".join(str(f) for f in result.files[:4]) + (" ..." if len(result.files) > 4 else "")
        click.echo(f"{kind}: {result.questions} questions -> {shown} ({len(result.warnings)} warnings)")
        for line in result.notes:
            click.echo(f"note: {line}")
    if strict and result.warnings:
        sys.exit(1)


def _common(func):
    options = [
        click.option(
            "--manifest",
            type=click.Path(exists=True, path_type=Path),
            help="A generated exam's manifest.json (or its folder).",
        ),
        click.option(
            "--template", "template_ids", multiple=True, help="A template id from the bank (repeatable)."
        ),
        click.option(
            "--variants",
            type=click.IntRange(min=1),
            default=5,
            show_default=True,
            help="Variants per template (seeds 0..N-1) with --template.",
        ),
        bank_option,
        click.option(
            "--title", default="quizgen", show_default=True, help="Title (category root) with --template."
        ),
        click.option("--out", required=True, type=click.Path(path_type=Path), help="Output file or folder."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary."),
        click.option("--strict", is_flag=True, help="Exit with status 1 when there are warnings."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("moodle")
@_common
def moodle_cmd(manifest, template_ids, variants, bank_dirs, title, out, as_json, strict) -> None:
    """Moodle XML: a category per question holding its variants (numerical, multichoice, cloze)."""
    source = _source(manifest, template_ids, variants, bank_dirs, title)
    _report("moodle", export_moodle(source, out), as_json, strict)


@click.command("qti")
@_common
def qti_cmd(manifest, template_ids, variants, bank_dirs, title, out, as_json, strict) -> None:
    """Canvas QTI 1.2 zip: numerical and multiple-choice items, pick-one groups of variants."""
    source = _source(manifest, template_ids, variants, bank_dirs, title)
    _report("qti", export_qti(source, out), as_json, strict)


@click.command("pdf")
@_common
@click.option("--tex-only", is_flag=True, help="Write the .tex files without compiling them.")
@click.option("--no-keys", is_flag=True, help="Papers only, no answer keys.")
@click.option("--jobs", type=click.IntRange(min=1), help="pdflatex processes at once (default: up to 8).")
def pdf_cmd(
    manifest, template_ids, variants, bank_dirs, title, out, as_json, strict, tex_only, no_keys, jobs
) -> None:
    """LaTeX and PDF: OUT/papers/<student>.pdf and OUT/keys/<student>.pdf (from the bank: a
    paper per variant)."""
    source = _source(manifest, template_ids, variants, bank_dirs, title)
    result = export_pdf(source, out, compile=not tex_only, jobs=jobs, keys=not no_keys)
    _report("pdf", result, as_json, strict)


@click.command("grades")
@click.option(
    "--lms", type=click.Choice(["canvas", "moodle"]), required=True, help="Whose grade-import CSV to write."
)
@click.option(
    "--db",
    required=True,
    type=GradebookLocation(exists=True),
    help="The gradebook 'quizgen grade' wrote: OUT/gradebook.sqlite, or postgresql://user@host/dbname.",
)
@click.option("--exam", help="Exam key, when the gradebook holds several.")
@click.option("--title", help="Assignment / grade item name [default: the exam's title].")
@click.option("--assignment-id", help="Canvas: the assignment's id, to update that assignment.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The CSV to write."
)
def grades_cmd(lms, db, exam, title, assignment_id, out) -> None:
    """Totals as a Canvas gradebook CSV or a Moodle grade-import CSV (absent students blank)."""
    from .graders.lms_grades import write_lms_grades

    try:
        path = write_lms_grades(db, out, lms, exam=exam, title=title, assignment_id=assignment_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(f"{lms} grades -> {path}")


def register(main: click.Group) -> None:
    """Add ``moodle``, ``qti`` and ``pdf`` to the ``export`` group of the ``quizgen`` command
    (creating the group unless another module already has)."""
    group = main.commands.get("export")
    if not isinstance(group, click.Group):

        @main.group("export")
        def group() -> None:
            """Export exams to Moodle XML, a Canvas QTI zip, printable PDF, and other systems."""

    for command in (moodle_cmd, qti_cmd, pdf_cmd, grades_cmd):
        group.add_command(command)
