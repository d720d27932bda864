"""Write the example course's responses file: a class's answers to the example midterm.

    python examples/make_responses.py out/midterm/manifest.json examples/responses.csv

The answers mix what a grader meets in practice, chosen per student and question so every
kind appears: right answers (in several notations), wrong answers, known mistakes (the value a
listed mistake gives), a wrong earlier step with the later step right given it (error carried
forward), malformed answers and blanks. The file is deterministic; a test regenerates it from a
fresh exam and compares, so it cannot drift from the bank.
"""

from __future__ import annotations

import csv
import io
import sys

import numpy as np

from quizgen import bank, engine
from quizgen.formatting import plain
from quizgen.manifest import load_manifest
from quizgen.models import ANSWER_KINDS

MALFORMED = ("about 3", "[1, 2", "0.5.5", "x = ?")


def _other_notation(kind: str, expected) -> str:
    """The right answer written differently from the key."""
    arr = np.asarray(expected, dtype=np.float64)
    if kind == "shape":
        return "x".join(str(int(v)) for v in arr)
    if kind in ("vector", "matrix"):
        rows = arr.reshape(1, -1) if arr.ndim == 1 else arr
        return "[" + "; ".join(" ".join(f"{v:.6g}" for v in row) for row in rows) + "]"
    if arr.ndim == 0:
        return f"{float(arr):.6e}"
    return plain(arr, sig=8)


def _wrong(kind: str, expected) -> str:
    arr = np.asarray(expected, dtype=np.float64)
    if kind in ("integer", "shape"):
        return plain(arr + 1)
    return plain(arr * 1.37 + 0.11, sig=6)


def answers_for(paper, the_bank, index: int) -> dict[str, str]:
    """One student's answers, by response column."""
    row: dict[str, str] = {}
    for q in paper.questions:
        inst = q.instance
        template = the_bank.get(inst.template_id)
        case = (index + q.number) % 7
        ecf_done = False
        for j, part in enumerate(inst.parts):
            col = f"q{q.number}.{part.id}"
            known = [m for m in part.mistakes if m.distinguishable]
            if ANSWER_KINDS[part.kind].choice:  # option letters: choice and the text-option kinds
                letters = [m.value for m in known]
                row[col] = (letters[0] if case in (2, 5) and letters else part.expected).lower()
                continue
            if case == 6 and j == 0 and len(inst.parts) > 1 and not ecf_done:
                # a wrong first step, then later steps right given that wrong step
                wrong = np.asarray(part.expected, dtype=np.float64) * 1.5 + 0.25
                if part.kind in ("integer", "shape"):
                    wrong = np.round(wrong)
                redone = engine.recompute(template, inst.params, {part.id: wrong})
                row[col] = plain(wrong, sig=10)
                for later in inst.parts[1:]:
                    if later.kind != "choice" and later.id in redone:
                        row[f"q{q.number}.{later.id}"] = plain(redone[later.id], sig=10)
                ecf_done = True
                continue
            if col in row:
                continue
            if case == 0:
                row[col] = plain(part.expected, sig=10)
            elif case == 1:
                row[col] = _other_notation(part.kind, part.expected)
            elif case == 2 and known:
                row[col] = plain(known[0].value, sig=10)
            elif case == 3:
                row[col] = _wrong(part.kind, part.expected)
            elif case == 4:
                row[col] = MALFORMED[(index + j) % len(MALFORMED)]
            elif case == 5 and j == 0:
                row[col] = ""
            else:
                row[col] = plain(part.expected, sig=10)
    return row


def make_responses(manifest_path) -> str:
    manifest = load_manifest(manifest_path)
    the_bank = bank.load_bank()
    rows = [answers_for(paper, the_bank, i) for i, paper in enumerate(manifest.students)]
    columns = list(dict.fromkeys(c for r in rows for c in r))
    columns.sort(key=lambda c: (int(c[1:].split(".")[0]), c))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", "name", *columns])
    for paper, row in zip(manifest.students, rows, strict=True):
        writer.writerow([paper.id, paper.name, *(row.get(c, "") for c in columns)])
    return buf.getvalue()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/make_responses.py MANIFEST.json OUT.csv")
    with open(sys.argv[2], "w", encoding="utf-8", newline="") as fh:
        fh.write(make_responses(sys.argv[1]))
