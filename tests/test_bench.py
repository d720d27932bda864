"""The bench's summary table (the scenarios themselves are measured, not tested)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).parents[1] / "bench" / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_the_table_shows_each_headline_figure_beside_its_target():
    exam_run = {"students": 1000, "questions": 20, "seconds": 9.64, "cpu_seconds": 18.9}
    results = {
        "generation": {
            "per_kind_at_targets": {"array": 2721, "shape": 10818},
            "per_kind": {"shape": 8113, "text": 17101},
        },
        "exam": {"HTML, 2 processes": {**exam_run, "jobs": 2}, "HTML, 1 process": {"error": "boom"}},
        "grading": {"all correct": {"batch_per_s": 103683}},
        "code_grading": {"speedup": 47.3},
    }
    lines = bench.table(results).splitlines()
    assert lines[0].split() == ["what", "measured", "target"]
    body = "\n".join(lines[2:])
    rows = {line.split("  ")[0]: line for line in lines[2:]}
    # the targets stand beside the templates they were set on; the whole bank's figures have none
    assert "10,818" in rows["shape instances/s (templates of the targets)"]
    assert rows["shape instances/s (templates of the targets)"].rstrip().endswith(">= 10,000")
    assert rows["shape instances/s (whole bank)"].rstrip().endswith("8,113")
    assert "17,101" in rows["text instances/s (whole bank)"]
    assert "9.6 s (18.9 CPU s)" in body and "< 10 s" in body
    assert "103,683" in body and "47.3x" in body
    assert "1 process" not in body and "scalar" not in body  # failed or missing scenarios are left out
