"""quizgen benchmarks: one command prints a table and writes JSON.

    python bench/run.py                 # everything (a few minutes on 2 cores)
    python bench/run.py --quick         # smaller sizes, for a smoke run
    python bench/run.py --only generation,exam

Each scenario runs in a fresh child process, so its peak memory (ru_maxrss) is its own. Speeds
are reported with the baseline they are compared against, measured in the same run: absolute
times on shared machines are noise, ratios are not. Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS: dict = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def _roster(n: int) -> list:
    from quizgen.exam import Student

    return [Student(f"s{i:05d}", f"Student {i}", "") for i in range(n)]


#: The exam scenario's questions: the templates _exam_spec chose when the exam targets were set
#: (commit f72ad2d, one per topic in turn), pinned by id so that new templates do not move the figures.
EXAM_TEMPLATES = (
    "activations.derivatives_at_zero", "backprop.gradient_check", "norm.bn_backward", "conv.channels_sum",
    "data.input_normalization", "init.constant_symmetry", "losses.binary_cross_entropy",
    "metrics.binary_counts", "mlp.sigmoid_bump", "optim.adagrad_two_steps", "perceptron.gate",
    "pool.avgpool_padding", "regularization.dropout_eval_choice", "resnet.residual_block",
    "rnn.gradient_through_time", "schedules.cosine", "losses.log_softmax_nll", "training.fc_param_count",
    "activations.elu_softplus", "backprop.vanishing_sigmoid",
)  # fmt: skip


def _exam_spec(questions: int):
    """An exam of the first ``questions`` (at most 20) of EXAM_TEMPLATES, spread over the bank's
    families as they were when the exam targets were set."""
    from quizgen import bank, exam

    if not 0 < questions <= len(EXAM_TEMPLATES):
        raise ValueError(f"questions: 1 to {len(EXAM_TEMPLATES)}, got {questions}")
    b = bank.load_bank()
    chosen = [b.get(tid) for tid in EXAM_TEMPLATES[:questions]]
    sections = tuple(exam.Section(f"Part {i + 1}", (t,), 5.0, "fixed") for i, t in enumerate(chosen))
    return exam.ExamSpec("Benchmark exam", "BENCH", 7, "", sections)


# ------------------------------------------------------------------------------- scenarios


def question_kind(template) -> str:
    """How the generation scenario groups templates:

    - "shape": sizes in, whole numbers out (output sizes and shapes, parameter counts,
      receptive fields): no array parameters and every answer, options included, integral;
    - "array": at least one array parameter (feature maps, weights, batches, logits);
    - "scalar": the rest (an activation at a point, a schedule at a step, an init scale);
    - "text": every part a text-option kind (conceptual questions: options, true/false, ordering).
    """
    from quizgen import engine
    from quizgen.models import ANSWER_KINDS

    numeric = [part for part in template.parts if not ANSWER_KINDS[part.kind].texts]
    if not numeric:
        return "text"
    if any(p.kind in ("array", "onehot", "probs") for p in template.params):
        return "array"
    import numpy as np

    draw = engine.sample(template, 1)
    whole = all(np.all(np.mod(np.asarray(draw.values[part.answer], dtype=float), 1) == 0) for part in numeric)
    return "shape" if whole else "scalar"


@scenario
def generation(quick: bool) -> dict:
    """Instances per second (sample, reference answers and mistakes, render text) per family
    and per kind of question (see question_kind), built as an exam builds them: one template's
    instances for many seeds at once (engine.build_instances); each template timed as the best
    of 3 runs. ``per_kind_one_at_a_time`` is the same with one build_instance call per seed;
    ``per_kind_at_targets`` is per_kind over the templates the targets were set on
    (generation_templates.txt), comparable from run to run as the bank grows."""
    from quizgen import bank, engine

    seeds = range(100 if quick else 400)
    pinned = {
        line.strip()
        for line in (HERE / "generation_templates.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    per_family, kinds = {}, defaultdict(lambda: [0, 0.0, 0.0, 0])
    at_targets = defaultdict(lambda: [0, 0.0])  # per kind, over the templates of generation_templates.txt
    for t in bank.load_bank().select():
        engine.build_instances(t, range(5))  # compile the template's plan and warm caches
        dt = min(_timed(engine.build_instances, t, seeds)[1] for _ in range(3))
        alone = min(_timed(lambda t=t: [engine.build_instance(t, s) for s in seeds])[1] for _ in range(3))
        fam = per_family.setdefault(t.family, [0, 0.0])
        fam[0] += len(seeds)
        fam[1] += dt
        kind = kinds[question_kind(t)]
        kind[0] += len(seeds)
        kind[1] += dt
        kind[2] += alone
        kind[3] += 1
        if t.id in pinned:
            at_targets[question_kind(t)][0] += len(seeds)
            at_targets[question_kind(t)][1] += dt
    return {
        "per_kind_at_targets": {k: round(n / dt) for k, (n, dt) in sorted(at_targets.items())},
        "per_family": {f: round(n / dt) for f, (n, dt) in sorted(per_family.items())},
        "per_kind": {k: round(n / dt) for k, (n, dt, _, _) in sorted(kinds.items())},
        "per_kind_one_at_a_time": {k: round(n / alone) for k, (n, _, alone, _) in sorted(kinds.items())},
        "templates_per_kind": {k: count for k, (_, _, _, count) in sorted(kinds.items())},
    }


@scenario
def exam(quick: bool, students: int | None = None, jobs: int = 1, formats: str = "html,md") -> dict:
    """Wall time of a whole exam build: N students x 20 questions, papers and keys in
    ``formats`` (the issue's build is HTML; Markdown copies are quizgen's default too),
    overview and manifest."""
    from quizgen import exam as exam_mod

    n = students or (100 if quick else 1000)
    spec = _exam_spec(20)
    with tempfile.TemporaryDirectory() as tmp:
        cpu = _cpu_seconds()
        files, dt = _timed(
            exam_mod.generate,
            spec,
            _roster(n),
            Path(tmp) / "out",
            jobs=jobs,
            formats=tuple(formats.split(",")),
        )
        cpu = _cpu_seconds() - cpu  # the worker processes have ended and been counted by now
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*") if f.is_file())
    return {
        "students": n,
        "questions": 20,
        "jobs": jobs,
        "formats": formats,
        "seconds": round(dt, 3),
        "files": files,
        "megabytes": round(size / 1e6, 1),
        "per_student_ms": round(1000 * dt / n, 3),
        # CPU time of this process and its workers: steadier than wall time on a shared machine,
        # and wall time can get no lower than this divided by the cores
        "cpu_seconds": round(cpu, 3),
        "cpu_per_student_ms": round(1000 * cpu / n, 3),
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its ended children."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_PYTEST_BASELINE = """
# One pytest process per submission running the same calls and checks (GitHub Classroom's way).
import importlib.util, os, pickle
import numpy as np
import pytest
from quizgen.graders._forkserver import pick
from quizgen.graders.sandbox import Ref

with open(os.environ["BENCH_CASES"], "rb") as fh:
    CASES = pickle.load(fh)
spec = importlib.util.spec_from_file_location("student", os.environ["BENCH_STUDENT"])
student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student)


def _resolve(value, results):
    if isinstance(value, Ref):
        return pick(results[value.call], value.path)
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve(v, results) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    results, selected = [], []
    for fn, args, kwargs, select in case["calls"]:
        out = getattr(student, fn)(*_resolve(args, results), **_resolve(kwargs, results))
        results.append(out)
        selected.append([pick(out, p) for p in select] if select is not None else [out])
    for call, index, expected, rtol, atol in case["checks"]:
        np.testing.assert_allclose(np.asarray(selected[call][index], dtype=float), expected, rtol=rtol, atol=atol)
"""


@scenario
def code_grading(quick: bool) -> dict:
    """Per-submission cost of grading a 10-test assignment: quizgen's sandbox (a fork server
    with NumPy imported, one isolated child per submission) against one ``python -m pytest``
    process per submission running the same calls and checks, measured in the same run."""
    import pickle
    import shutil

    from quizgen.graders import sandbox
    from quizgen.graders.assignment import build_cases, load_assignment, with_hidden_key
    from quizgen.graders.autograde import run_cases

    examples = HERE.parent / "examples" / "assignments"
    key = b"bench-only-key-0123456789abcdef0123"  # hidden cases are drawn only with a key
    assignment = with_hidden_key(load_assignment(examples / "softmax_cross_entropy.yaml"), key)
    cases = build_cases(assignment, variant="bench")[:10]
    n = 8 if quick else 30
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subs = []
        for i in range(n):
            sub = tmp / f"student{i:03d}.py"
            shutil.copy(examples / "solutions" / "softmax_cross_entropy.py", sub)
            subs.append(sub)
        server = sandbox.default_server()
        run_cases(assignment, cases, subs[0], server=server)  # start the fork server once
        grades, ours = _timed(lambda: [run_cases(assignment, cases, s, server=server) for s in subs])
        passed = all(c.points == c.max_points for g in grades for c in g.cases)

        plain = [
            {
                "name": c.name,
                "calls": [(k.function, k.args, dict(k.kwargs), k.select) for k in c.calls],
                "checks": [
                    (p.call, p.pick, p.expected, p.tolerance.rtol, p.tolerance.atol) for p in c.checks
                ],
            }
            for c in cases
        ]
        (tmp / "cases.pkl").write_bytes(pickle.dumps(plain))
        (tmp / "test_baseline.py").write_text(_PYTEST_BASELINE)
        env = {**os.environ, "BENCH_CASES": str(tmp / "cases.pkl")}

        def pytest_run(sub):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    str(tmp / "test_baseline.py"),
                ],
                env={**env, "BENCH_STUDENT": str(sub)},
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            return proc.returncode

        codes, baseline = _timed(lambda: [pytest_run(s) for s in subs])
    return {
        "assignment": assignment.id,
        "tests": len(cases),
        "submissions": n,
        "all_passed": passed and set(codes) == {0},
        "quizgen_ms_per_submission": round(1000 * ours / n, 1),
        "pytest_ms_per_submission": round(1000 * baseline / n, 1),
        "speedup": round(baseline / ours, 1),
        "submissions_per_second": round(n / ours, 1),
    }


def _example_class(n: int, answers: str, folder: Path) -> tuple[Path, Path]:
    """manifest.json and responses.csv of ``n`` students sitting the benchmark's exam
    (grading_exam.yaml: the example midterm's templates when the targets were set, pinned by id):
    the example course's answer mix (examples/make_responses.py) or every answer right."""
    import csv
    import importlib.util

    from quizgen import bank, exam
    from quizgen.formatting import plain
    from quizgen.models import ANSWER_KINDS

    spec_file = HERE.parent / "examples" / "make_responses.py"
    loader = importlib.util.spec_from_file_location("make_responses", spec_file)
    make = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(make)
    the_bank = bank.load_bank()
    manifest = exam.build_exam(exam.load_spec(HERE / "grading_exam.yaml", the_bank), _roster(n))
    rows = []
    for i, paper in enumerate(manifest.students):
        if answers == "mix":
            rows.append(make.answers_for(paper, the_bank, i))
        else:
            rows.append(
                {
                    f"q{q.number}.{p.id}": p.expected
                    if ANSWER_KINDS[p.kind].choice
                    else plain(p.expected, sig=10)
                    for q in paper.questions
                    for p in q.instance.parts
                }
            )
    columns = sorted({c for r in rows for c in r}, key=lambda c: (int(c[1:].split(".")[0]), c))
    (folder / "manifest.json").write_text(manifest.to_json())
    with open(folder / "responses.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["student_id", "name", *columns])
        for paper, row in zip(manifest.students, rows, strict=True):
            writer.writerow([paper.id, paper.name, *(row.get(c, "") for c in columns)])
    return folder / "manifest.json", folder / "responses.csv"


@scenario
def grading(quick: bool, answers: str = "mix") -> dict:
    """Numeric answers graded per second for a class sitting grading_exam.yaml: the per-answer
    ladder (baseline), the batch grader in memory (same results, checked), grade_class end to
    end (reading, SQLite, reports) and a regrade, with where the end-to-end time goes."""
    import gc

    from quizgen.cli_grade import bank_recompute_factory
    from quizgen.graders import gradebook as gb
    from quizgen.graders.batch import collector_paused, grade_questions
    from quizgen.graders.numeric import grade_instance_detail
    from quizgen.graders.responses import read_responses
    from quizgen.manifest import load_manifest

    n = 200 if quick else 1000
    factory = bank_recompute_factory()
    recomputing = [0, 0.0]

    def timed_factory(instance):  # counts the reference recomputations error carried forward needs
        recompute = factory(instance)
        if recompute is None:
            return None

        def timed(overrides):
            t0 = time.perf_counter()
            try:
                return recompute(overrides)
            finally:
                recomputing[0] += 1
                recomputing[1] += time.perf_counter() - t0

        return timed

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest_path, responses_path = _example_class(n, answers, folder)
        manifest = load_manifest(manifest_path)
        responses = read_responses(responses_path, manifest)
        questions = [
            (q.instance, responses.for_question(paper.id, q.number))
            for paper in manifest.students
            for q in paper.questions
        ]
        count = sum(len(instance.parts) for instance, _ in questions)
        for instance, _ in questions[:20]:
            factory(instance)  # the bank loads on first use: not part of grading

        ladder_s = batch_s = float("inf")
        for _ in range(2):
            gc.collect()
            want, dt = _timed(
                lambda: [grade_instance_detail(i, a, factory(i), 1.0, True) for i, a in questions]
            )
            ladder_s = min(ladder_s, dt)
        for _ in range(3):
            gc.collect()
            recomputing[:] = [0, 0.0]
            got, dt = _timed(grade_questions, questions, recompute_factory=timed_factory)
            batch_s = min(batch_s, dt)
        identical = all(
            g.result == w.result and g.matches_key == w.matches_key
            for gs, ws in zip(got, want, strict=True)
            for g, w in zip(gs, ws, strict=True)
        )
        del got, want

        gc.collect()
        outcome, e2e_s = _timed(
            gb.grade_class, manifest_path, responses_path, folder / "graded", recompute_factory=factory
        )
        db = outcome.db_path
        _, regrade_s = _timed(
            gb.regrade_class, db, settings=gb.GradeSettings(partial=False), recompute_factory=factory
        )
        _, regrade_reports_s = _timed(
            gb.regrade_class,
            db,
            out_dir=folder / "graded",
            settings=gb.GradeSettings(),
            recompute_factory=factory,
        )

        # the same job again, phase by phase, into a fresh gradebook (the collector paused, as
        # grade_class pauses it)
        phases = {}
        with collector_paused(), gb.Gradebook(folder / "phases.sqlite") as book:
            m, phases["read manifest"] = _timed(load_manifest, manifest_path)
            r, phases["read responses"] = _timed(read_responses, responses_path, m)

            def store():
                key = book.import_manifest(m)
                book.store_responses(key, r)
                return key

            key, phases["store papers and answers"] = _timed(store)
            _, phases["grade (batch, SQLite)"] = _timed(book.grade, key, gb.GradeSettings(), factory)
            _, phases["reports (2 files per student)"] = _timed(
                gb.write_reports, folder / "phases.sqlite", folder / "p"
            )

    def rate(seconds: float) -> int:
        return round(count / seconds)

    return {
        "students": n,
        "answers": count,
        "identical_results": identical,
        "ladder_per_s": rate(ladder_s),
        "batch_per_s": rate(batch_s),
        "batch_vs_ladder": round(ladder_s / batch_s, 1),
        "batch_s": round(batch_s, 3),
        "batch_recompute_s": round(recomputing[1], 3),
        "batch_recompute_calls": recomputing[0],
        "end_to_end_s": round(e2e_s, 3),
        "end_to_end_per_s": rate(e2e_s),
        "end_to_end_vs_ladder": round(ladder_s / e2e_s, 2),
        "end_to_end_phases_s": {k: round(v, 3) for k, v in phases.items()},
        "regrade_s": round(regrade_s, 3),
        "regrade_per_s": rate(regrade_s),
        "regrade_vs_ladder": round(ladder_s / regrade_s, 2),
        "regrade_with_reports_s": round(regrade_reports_s, 3),
    }


@scenario
def serve(quick: bool) -> dict:
    """``quizgen serve`` under load: 200 simulated students practising and handing in homework
    at once for 60 s (40 for 6 s with --quick), the server its own process on 127.0.0.1 with
    SQLite; requests/s, p95 latency, errors, and the machine's load (bench/serve_load.py)."""
    sys.path.insert(0, str(HERE))
    from serve_load import run_load

    return run_load(40, 6.0) if quick else run_load(200, 60.0)


def _child(name: str, quick: bool, **kwargs) -> dict:
    """Run one scenario in a fresh interpreter; returns its result and its peak memory."""
    code = (
        f"import json, resource, sys; sys.path.insert(0, {str(HERE)!r}); import run; "
        f"r = run.SCENARIOS[{name!r}]({quick!r}, **{kwargs!r}); "
        "r['peak_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1); "
        "print('RESULT' + json.dumps(r))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.split("RESULT", 1)[1])


def scaling(quick: bool) -> dict:
    """Generation cost and memory at 100, 1,000 and 10,000 students: linear time, flat memory."""
    sizes = (50, 200, 800) if quick else (100, 1000, 10000)
    rows = {n: _child("exam", quick, students=n) for n in sizes}
    return {str(n): r for n, r in rows.items()}


GROUPS = {
    "generation": lambda q: _child("generation", q),
    "code_grading": lambda q: _child("code_grading", q),
    "exam": lambda q: {
        "HTML, 1 process": _child("exam", q, formats="html"),
        "HTML, 2 processes": _child("exam", q, jobs=2, formats="html"),
        "HTML+Markdown, 1 process": _child("exam", q),
        "HTML+Markdown, 2 processes": _child("exam", q, jobs=2),
    },
    "scaling": scaling,
    "grading": lambda q: {
        "example mix": _child("grading", q),
        "all correct": _child("grading", q, answers="correct"),
    },
    "serve": lambda q: _child("serve", q),
}


def _rows(results: dict) -> list[tuple[str, str, str]]:
    """(what, measured, the issue's target) for each headline figure of the scenarios that ran
    (and did not fail)."""

    def get(*path):
        node = results
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    rows = []
    pinned = get("generation", "per_kind_at_targets") or {}
    for kind, target in (("shape", ">= 10,000"), ("array", ">= 2,000"), ("scalar", "")):
        if kind in pinned:
            rows.append((f"{kind} instances/s (templates of the targets)", f"{pinned[kind]:,}", target))
    kinds = get("generation", "per_kind") or {}
    for kind in ("shape", "array", "scalar", "text"):
        if kind in kinds:
            rows.append((f"{kind} instances/s (whole bank)", f"{kinds[kind]:,}", ""))
    for label in ("HTML, 1 process", "HTML, 2 processes"):
        run = get("exam", label)
        if run and "seconds" in run:
            what = f"exam {run['students']:,} x {run['questions']}, {label}"
            target = "< 10 s" if run["jobs"] == 2 else ""
            rows.append((what, f"{run['seconds']:.1f} s ({run['cpu_seconds']:.1f} CPU s)", target))
    for label, target in (("all correct", ">= 100,000"), ("example mix", "")):
        run = get("grading", label)
        if run and "batch_per_s" in run:
            rows.append((f"numeric grading, {label}, answers/s", f"{run['batch_per_s']:,}", target))
    code = get("code_grading")
    if code and "speedup" in code:
        rows.append(("code grading vs pytest per submission", f"{code['speedup']}x", ">= 20x"))
    load = get("serve")
    if load and "p95_ms" in load:
        what = f"serve, {load['students']} students, p95 (errors; load avg)"
        measured = f"{load['p95_ms']:.0f} ms ({load['errors']}; {load['machine']['loadavg_1min_after']})"
        rows.append((what, measured, "< 100 ms, 0 errors"))
    scaled = get("scaling") or {}
    if scaled and all("per_student_ms" in r for r in scaled.values()):
        sizes = "/".join(f"{int(n):,}" for n in scaled)
        per = " / ".join(f"{r['per_student_ms']:.1f}" for r in scaled.values())
        peak = " / ".join(f"{r['peak_mb']:.0f}" for r in scaled.values())
        rows.append((f"scaling {sizes} students, ms/student", per, "linear"))
        rows.append((f"scaling {sizes} students, peak MB", peak, "flat"))
    return rows


def table(results: dict) -> str:
    """The headline figures as a text table."""
    rows = [("what", "measured", "target"), *_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(GROUPS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args()
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "quick": args.quick}
    for name in args.only.split(","):
        print(f"== {name}", flush=True)
        results[name] = GROUPS[name](args.quick)
        print(json.dumps(results[name], indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
