"""Numeric grading speed of this checkout against a baseline revision, in the same run.

    python bench/grading_ab.py --base main --students 1000 --rounds 5

On a shared machine absolute speeds are noise; a ratio measured with both sides interleaved is
not. The baseline revision is exported (``git archive``) and both sides are laid out as an
importable ``quizgen`` package; each round runs one child process per side and scenario (the
order alternating), each grading the same class (bench/run.py's example midterm: the example
mix and every answer right) with :func:`~quizgen.graders.batch.grade_questions` as
bench/run.py's ``batch_per_s`` does, best of ``--repeats`` in CPU time. It prints each side's
median over rounds, the ratio new/baseline (>1: this checkout is faster) and whether both sides
gave identical grades (a digest of every result).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The repo folders installed under ``quizgen.`` (pyproject's package-dir).
SUBPACKAGES = {"reference": "reference", "graders": "graders", "question_bank": "question_bank"}


def layout(src: Path, dest: Path) -> Path:
    """An importable ``quizgen`` under ``dest`` made of symlinks into checkout ``src``."""
    pkg = dest / "quizgen"
    pkg.mkdir(parents=True, exist_ok=True)
    for entry in (src / "quizgen").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name, folder in SUBPACKAGES.items():
        (pkg / name).symlink_to(src / folder)
    return dest


def export(rev: str, dest: Path) -> Path:
    """Checkout ``rev`` of this repository exported into ``dest``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def snapshot(dest: Path) -> Path:
    """This checkout's working tree as it is now (later edits do not leak into the run)."""
    for folder in ("quizgen", *SUBPACKAGES.values()):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def make_data(n: int, answers: str, folder: Path) -> Path:
    """bench/run.py's example class (manifest.json, responses.csv), made once per size."""
    if not (folder / "responses.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(HERE))
        import run

        run._example_class(n, answers, folder)
    return folder


def worker(data: Path, repeats: int) -> dict:
    """In a child whose ``quizgen`` is one side: grade the class ``repeats`` times."""
    import gc

    from quizgen.cli_grade import bank_recompute_factory
    from quizgen.graders.batch import grade_questions
    from quizgen.graders.responses import read_responses
    from quizgen.manifest import load_manifest

    manifest = load_manifest(data / "manifest.json")
    responses = read_responses(data / "responses.csv", manifest)
    questions = [
        (q.instance, responses.for_question(paper.id, q.number))
        for paper in manifest.students
        for q in paper.questions
    ]
    count = sum(len(instance.parts) for instance, _ in questions)
    factory = bank_recompute_factory()
    for instance, _ in questions[:20]:
        factory(instance)  # the bank loads on first use: not part of grading
    best = best_wall = float("inf")
    got = None
    for _ in range(repeats):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        got = grade_questions(questions, recompute_factory=factory)
        best = min(best, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    digest = hashlib.sha256()
    for rows in got:
        for g in rows:
            digest.update(repr((g.result, g.matches_key)).encode())
    return {"answers": count, "cpu_s": best, "wall_s": best_wall, "digest": digest.hexdigest()}


def run_side(site: Path, data: Path, repeats: int, callgrind: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(site))
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import grading_ab; "
        f"import quizgen; assert quizgen.__file__.startswith({str(site)!r}), quizgen.__file__; "
        f"print(json.dumps(grading_ab.worker(grading_ab.Path({str(data)!r}), {repeats})))"
    )
    command = [sys.executable, "-c", code]
    if callgrind:
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    out = subprocess.run(command, env=env, cwd="/", check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if callgrind:
        result["instructions"] = int(re.search(r"Collected : (\d+)", out.stderr).group(1))
    return result


def count(sites: dict, data: Path) -> dict:
    """Instructions of one grading (after a first one) per side, by callgrind: a whole child
    grading twice minus one grading once; unlike times, repeatable on a busy machine."""
    out = {}
    for side, site in sites.items():
        once, twice = (run_side(site, data, k, callgrind=True)["instructions"] for k in (1, 2))
        out[side] = twice - once
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="main", help="baseline git revision (default: main)")
    ap.add_argument("--students", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3, help="gradings per child (best kept)")
    ap.add_argument("--scenarios", default="mix,correct")
    ap.add_argument("--data", default=None, help="folder caching the classes (default: a temp folder)")
    ap.add_argument("--callgrind", action="store_true", help="count instructions instead of timing")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data_root = Path(args.data) if args.data else tmp_path / "data"
        sites = {
            "base": layout(export(args.base, tmp_path / "base_src"), tmp_path / "base_site"),
            "new": layout(snapshot(tmp_path / "new_src"), tmp_path / "new_site"),
        }
        results: dict = {}
        for scen in args.scenarios.split(","):
            data = make_data(args.students, scen, data_root / f"{args.students}_{scen}")
            if args.callgrind:
                n = count(sites, data)
                results[scen] = {**n, "ratio_new_over_base": round(n["base"] / n["new"], 3)}
                print(json.dumps({scen: results[scen]}), flush=True)
                continue
            times: dict = {"base": [], "new": []}
            digests: dict = {"base": set(), "new": set()}
            answers = 0
            for r in range(args.rounds):
                order = ("base", "new") if r % 2 == 0 else ("new", "base")
                for side in order:
                    res = run_side(sites[side], data, args.repeats)
                    times[side].append(res["cpu_s"])
                    digests[side].add(res["digest"])
                    answers = res["answers"]
                print(
                    f"  {scen} round {r + 1}: base {times['base'][-1]:.3f}s new {times['new'][-1]:.3f}s",
                    flush=True,
                )
            pair = [b / n for b, n in zip(times["base"], times["new"], strict=True)]
            results[scen] = {
                "answers": answers,
                "base_cpu_s_median": statistics.median(times["base"]),
                "new_cpu_s_median": statistics.median(times["new"]),
                "ratio_new_over_base": round(
                    statistics.median(times["base"]) / statistics.median(times["new"]), 3
                ),
                "ratio_pairwise_median": round(statistics.median(pair), 3),
                "identical_grades": digests["base"] == digests["new"] and len(digests["new"]) == 1,
            }
            print(json.dumps({scen: results[scen]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
