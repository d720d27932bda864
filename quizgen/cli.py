"""The ``quizgen`` command: each subcommand parses its options and calls one plain function.

User errors (a bad bank, spec, roster or response file) print one line on stderr, such as
``error: exam.yaml:7: sections[0]: pick is 5 but the filters match 3 templates; ...``, and exit
with status 2; nothing already written is lost.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import bank as bank_mod
from . import engine, exam, output, quality, selfcheck
from .cli_options import bank_option
from .errors import QuizgenError
from .formatting import plain
from .selection import labels as option_labels

#: The most seeds ``bank validate --seeds`` draws per template.
MAX_SEEDS = 100_000


class QuizgenGroup(click.Group):
    """Turns :class:`QuizgenError` and a bad option (click's usage error) into one line on
    stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QuizgenError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            message = " ".join(exc.format_message().split())
            click.echo(f"error: {where}: {message} (see '{where} --help')", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=QuizgenGroup)
@click.version_option(package_name="quizgen")
def main() -> None:
    """Parameterized deep-learning quizzes: per-student exams, answer keys and grading."""


def _bank(bank_dirs) -> bank_mod.Bank:
    return bank_mod.load_bank(bank_dirs)


@main.group("bank")
def bank_group() -> None:
    """List, show and validate question templates."""


@bank_group.command("list")
@bank_option
@click.option("--topic", help="Only templates of this topic.")
@click.option("--tag", "tags", multiple=True, help="Only templates with this tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bank_list(bank_dirs, topic, tags, as_json) -> None:
    """List the templates of the bank."""
    templates = _bank(bank_dirs).select(topic=topic, tags=list(tags))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "title": t.title,
                        "topic": t.topic,
                        "tags": list(t.tags),
                        "difficulty": t.difficulty,
                        "variants": quality.count_variants(t),
                    }
                    for t in templates
                ],
                indent=1,
            )
        )
        return
    for t in templates:
        click.echo(f"{t.id:<40} d{t.difficulty}  {t.topic:<16} {t.title}")
    click.echo(f"{len(templates)} templates", err=True)


@bank_group.command("show")
@bank_option
@click.argument("template_id")
def bank_show(bank_dirs, template_id) -> None:
    """Show a template's definition summary."""
    t = _bank(bank_dirs).get(template_id)
    click.echo(f"{t.id}: {t.title}\n  topic {t.topic}, difficulty {t.difficulty}, tags {', '.join(t.tags)}")
    click.echo(f"  defined at {t.source}")
    click.echo("  params: " + ", ".join(f"{p.name} ({p.kind})" for p in t.params))
    click.echo("  steps: " + ", ".join(f"{s.name} = {s.call or s.pick}" for s in t.steps))
    for p in t.parts:
        click.echo(
            f"  part {p.id}: {p.kind} = {p.answer or 'its options'}, {p.points:g} pt, tolerance {p.tolerance.describe()}"
        )
        for m in p.mistakes:
            click.echo(f"    mistake {m.id}: {m.feedback}")
        if p.selection is not None:  # the text-option kinds: options and named misconceptions
            for o in p.selection.options:
                click.echo(f"    option {o.id} (correct: {o.correct}): {o.text}")
            if p.selection.truth != "":
                click.echo(f"    truth: {p.selection.truth}")
            for c in p.selection.cases:
                click.echo(f"    mistake {c.id} ({c.when or ', '.join(c.order)}): {c.feedback}")


@bank_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--seeds",
    default=selfcheck.DEFAULT_SEEDS,
    show_default=True,
    type=click.IntRange(1, MAX_SEEDS),
    help="Instances drawn per template.",
)
@click.option(
    "--quality-seeds",
    default=quality.DEFAULT_SEEDS,
    show_default=True,
    type=click.IntRange(0, MAX_SEEDS),
    help="Instances per template for the quality rules (mistake visibility, variety, ...); 0 skips them.",
)
@click.option("--report", is_flag=True, help="Also print each template's quality figures (as bank stats).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="Print problems only.")
def bank_validate(paths, seeds, quality_seeds, report, as_json, quiet) -> None:
    """Check the bank (or the given files/folders): schema, names, every template's self-test and
    the quality rules of docs/authoring.md.

    Given files or folders are checked against the built-in bank too (an id may not be reused)."""
    extra = list(paths)
    loaded, problems = bank_mod.load_bank(extra, strict=False)
    if extra:  # self-test only the given templates (a built-in file may be given too)
        given = [p.resolve() for p in extra]
        loaded = bank_mod.Bank(
            {
                k: t
                for k, t in loaded.templates.items()
                if any(Path(t.source.rsplit(":", 1)[0]).resolve().is_relative_to(g) for g in given)
            }
        )
    reports = selfcheck.check_bank(loaded, seeds=seeds, progress=None if quiet or as_json else _progress_cb)
    # a template whose self-test fails is not measured too: its problem is said once
    sound = bank_mod.Bank({r.template_id: loaded.templates[r.template_id] for r in reports if not r.problems})
    measured = quality.check_bank(sound, seeds=quality_seeds, exact_variants=report) if quality_seeds else []
    problems = [str(p) for p in problems] + [line for r in reports for line in r.problems]
    problems += [line for r in measured for line in r.problems]
    if report and not as_json:
        for r in measured:
            click.echo("\n".join(quality.format_stats(r)))
    if as_json:
        quality_by_id = {r.template_id: r.to_dict() for r in measured}
        templates = [{**r.to_dict(), "quality": quality_by_id.get(r.template_id)} for r in reports]
        click.echo(json.dumps({"problems": problems, "templates": templates}, indent=1))
    else:
        for line in problems:
            click.echo(line, err=True)
        if not quiet:
            click.echo(f"{len(reports)} templates checked over {seeds} seeds each; {len(problems)} problems")
    sys.exit(1 if problems else 0)


@bank_group.command("stats")
@bank_option
@click.argument("template_ids", nargs=-1)
@click.option(
    "--seeds",
    default=quality.DEFAULT_SEEDS,
    show_default=True,
    type=click.IntRange(1, MAX_SEEDS),
    help="Instances per template.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bank_stats(bank_dirs, template_ids, seeds, as_json) -> None:
    """Per template: distinct variants, each mistake's visibility, the option counts, problems."""
    loaded = _bank(bank_dirs)
    reports = [quality.measure(t, seeds=seeds) for t in loaded.select(ids=list(template_ids) or None)]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=1))
        return
    for r in reports:
        click.echo("\n".join(quality.format_stats(r)))


def _progress_cb(report) -> None:
    click.echo(f"  {report.template_id}: {'ok' if not report.problems else 'PROBLEMS'}", err=True)


@main.command()
@bank_option
@click.argument("template_id")
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**64 - 1),
    help="Instance seed (0 to 2**64 - 1).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True
)
def preview(bank_dirs, template_id, seed, fmt) -> None:
    """Show one instance: question, answers, worked solution and the known mistakes' values."""
    instance = engine.build_instance(_bank(bank_dirs).get(template_id), seed)
    if fmt == "json":
        click.echo(json.dumps(instance.to_dict(), indent=1))
    elif fmt == "html":
        from .manifest import Manifest, Question, StudentPaper

        paper = StudentPaper("preview", f"seed {seed}", "", (Question(1, 1, instance.title, instance),))
        manifest = Manifest(
            {"title": f"Preview of {template_id}", "course": "", "instructions": ""}, (paper,)
        )
        click.echo(output.render_paper(manifest.exam, paper, key=True, fmt="html"))
    else:
        click.echo(f"{instance.title}  [{template_id}, seed {seed}]\n\n{instance.text.strip()}\n")
        for part in instance.parts:
            click.echo(f"({part.id}) {part.prompt}")
            for letter, option in zip(option_labels(part), part.options, strict=False):
                click.echo(f"    {letter}. {option}")
            click.echo(f"    answer: {output.answer_text(part)}   [{part.kind}, {part.tolerance.describe()}]")
            for m in part.mistakes:
                flag = "" if m.distinguishable else "  (indistinguishable here)"
                click.echo(f"    mistake {m.id}: {plain(m.value) if m.value is not None else 'n/a'}{flag}")
        click.echo(f"\nWorked solution:\n{instance.solution.strip()}")


#: Below this many students, worker processes cost more to start than they save.
AUTO_JOBS_MIN_STUDENTS = 20
#: The most worker processes ``--jobs`` may start: more than the machine's CPUs only slows it.
MAX_JOBS = 64


def _parse_jobs(value) -> int | None:
    """``--jobs``: a positive number, or None for auto."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise click.BadParameter(f"expected a number of processes >= 1 or 'auto', got {value!r}")
    limit = max_jobs()
    if jobs > limit:
        click.echo(f"warning: --jobs {jobs} is more than this machine can use; using {limit}", err=True)
        return limit
    return jobs


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def max_jobs() -> int:
    """The cap on ``--jobs``: four processes per usable CPU, at most :data:`MAX_JOBS`."""
    return max(1, min(MAX_JOBS, 4 * _cpus()))


def _parse_formats(value: str) -> tuple[str, ...]:
    """``--formats``: a comma-separated subset of output.PAGE_FORMATS, in the order given."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in output.PAGE_FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"expected a comma-separated list of {', '.join(output.PAGE_FORMATS)}, got {value!r}"
        )
    return chosen


def auto_jobs(students: int) -> int:
    """One worker process per usable CPU for a large class, else one process."""
    if students < AUTO_JOBS_MIN_STUDENTS:
        return 1
    return max(1, min(MAX_JOBS, _cpus()))


@main.command()
@bank_option
@click.argument("spec_path", metavar="EXAM.yaml", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--roster",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Roster CSV (id,name,email).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the exam already in --out (all its papers, keys and manifest) with the new one.",
)
@click.option(
    "-j",
    "--jobs",
    default="auto",
    show_default=True,
    callback=lambda ctx, param, value: _parse_jobs(value),
    help="Worker processes: a number, or auto (one per CPU for classes of "
    f"{AUTO_JOBS_MIN_STUDENTS}+ students; the output is the same either way).",
)
@click.option(
    "--formats",
    default=",".join(output.PAGE_FORMATS),
    show_default=True,
    callback=lambda ctx, param, value: _parse_formats(value),
    help="Page formats of the papers and keys, comma-separated.",
)
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def generate(bank_dirs, spec_path, roster, out, overwrite, jobs, formats, quiet, as_json) -> None:
    """Generate every student's paper, answer key, the manifest and an overview.

    A folder that holds an exam already is refused unless --overwrite is given."""
    summary = generate_exam(
        spec_path,
        roster,
        out,
        overwrite=overwrite,
        bank_dirs=bank_dirs,
        jobs=jobs,
        formats=formats,
        show_progress=not (quiet or as_json) and sys.stderr.isatty(),
    )
    if as_json:
        click.echo(json.dumps(summary, indent=1))
    elif not quiet:
        click.echo(
            f"{summary['students']} papers, {summary['questions']} questions each, "
            f"{summary['points']:g} points -> {summary['out']}"
        )


def generate_exam(
    spec_path,
    roster_path,
    out,
    *,
    bank_dirs=(),
    jobs=None,
    formats=output.PAGE_FORMATS,
    show_progress=False,
    overwrite=False,
) -> dict:
    """Load the bank, spec and roster; build and write the exam (``jobs`` None: auto). Returns
    a summary. ``out`` holding an exam is refused unless ``overwrite``."""
    out = Path(out)
    if not overwrite and out.is_dir() and output.holds_exam(out):  # before the slow part
        raise QuizgenError(
            "already holds an exam (manifest.json, papers/, keys/); pass --overwrite to replace "
            "all of it, or choose another --out",
            source=str(out),
        )
    spec = exam.load_spec(spec_path, bank_mod.load_bank(bank_dirs))
    students = exam.load_roster(roster_path)
    jobs = auto_jobs(len(students)) if jobs is None else jobs
    if show_progress:
        with click.progressbar(length=len(students), label="generating", file=sys.stderr) as bar:
            files = exam.generate(
                spec,
                students,
                out,
                jobs=jobs,
                formats=formats,
                progress=lambda _p: bar.update(1),
                overwrite=overwrite,
            )
    else:
        files = exam.generate(spec, students, out, jobs=jobs, formats=formats, overwrite=overwrite)
    return {
        "out": str(out),
        "students": len(students),
        "questions": sum(len(s.templates) for s in spec.sections),
        "points": exam.exam_info(spec)["points"],
        "files": files,
        "jobs": jobs,
        "manifest": str(Path(out) / "manifest.json"),
    }


def _register_subcommands() -> None:
    """Subcommands that live beside this module: grading, code autograding, exports."""
    from . import cli_autograde, cli_export, cli_grade, cli_serve

    for module in (cli_grade, cli_autograde, cli_export, cli_serve):
        module.register(main)


_register_subcommands()
