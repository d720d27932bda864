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


def _exam_spec(questions: int):
    """An exam of ``questions`` templates spread over every family of the built-in bank."""
    from quizgen import bank, exam

    b = bank.load_bank()
    by_topic = defaultdict(list)
    for t in b.select():
        by_topic[t.topic].append(t)
    chosen, topics = [], sorted(by_topic)
    while len(chosen) < questions:
        for topic in topics:
            pool = [t for t in by_topic[topic] if t not in chosen]
            if pool and len(chosen) < questions:
                chosen.append(pool[0])
    sections = tuple(exam.Section(f"Part {i + 1}", (t,), 5.0, "fixed") for i, t in enumerate(chosen))
    return exam.ExamSpec("Benchmark exam", "BENCH", 7, "", sections)


# ------------------------------------------------------------------------------- scenarios


@scenario
def generation(quick: bool) -> dict:
    """Instances per second (sample, reference answers and mistakes, render text) per family,
    and for shape-answer against array-answer templates."""
    from quizgen import bank, engine

    seeds = 100 if quick else 400
    per_family, kinds = {}, defaultdict(lambda: [0, 0.0])
    for t in bank.load_bank().select():
        _, dt = _timed(lambda t=t: [engine.build_instance(t, s) for s in range(seeds)])
        fam = per_family.setdefault(t.family, [0, 0.0])
        fam[0] += seeds
        fam[1] += dt
        is_shape = all(p.kind in ("integer", "shape") for p in t.parts)
        kind = kinds["shape questions"] if is_shape else kinds["array/real questions"]
        kind[0] += seeds
        kind[1] += dt
    return {
        "per_family": {f: round(n / dt) for f, (n, dt) in sorted(per_family.items())},
        "per_kind": {k: round(n / dt) for k, (n, dt) in kinds.items()},
    }


@scenario
def exam(quick: bool, students: int | None = None, jobs: int = 1) -> dict:
    """Wall time of a whole exam build: N students x 20 questions, HTML+Markdown papers and
    keys, overview and manifest."""
    from quizgen import exam as exam_mod

    n = students or (100 if quick else 1000)
    spec = _exam_spec(20)
    with tempfile.TemporaryDirectory() as tmp:
        files, dt = _timed(exam_mod.generate, spec, _roster(n), Path(tmp) / "out", jobs=jobs)
        size = sum(f.stat().st_size for f in files)
    return {"students": n, "questions": 20, "jobs": jobs, "seconds": round(dt, 3), "files": len(files),
            "megabytes": round(size / 1e6, 1), "per_student_ms": round(1000 * dt / n, 3)}


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
    "exam": lambda q: {"1 process": _child("exam", q), "2 processes": _child("exam", q, jobs=2)},
    "scaling": scaling,
}


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
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
