"""A small class for grading tests: three students, two questions each, numbers shuffled.

Question "chain" (slot 1): a = 2 * x, b = a + 1 (b depends on a); x differs per student.
Question "conv.shape" (slot 2): a shape (4, 4, k) and a multiple-choice part.
Student s2's paper prints the questions in the other order (q1 is slot 2).
"""

from __future__ import annotations

import json

from quizgen.models import Instance, InstancePart, KnownMistake, Tolerance

X = {"s1": 3.0, "s2": 4.0, "s3": 5.0}
K = {"s1": 8, "s2": 10, "s3": 12}


def chain(x: float) -> Instance:
    return Instance(
        template_id="chain",
        title="Chain",
        seed=int(x),
        params={"x": x},
        text=f"Let x = {x}. (a) a = 2x. (b) b = a + 1.",
        parts=(
            InstancePart(
                "a",
                "real",
                "a = 2x",
                2 * x,
                Tolerance(),
                2.0,
                (KnownMistake("half", "You halved x.", x / 2),),
            ),
            InstancePart("b", "real", "b = a + 1", 2 * x + 1, Tolerance(), 2.0, depends_on=("a",)),
        ),
        solution="a = 2x.",
    )


def conv(k: int) -> Instance:
    return Instance(
        template_id="conv.shape",
        title="Conv shape",
        seed=k,
        params={"k": k},
        text="Output shape?",
        parts=(
            InstancePart(
                "a",
                "shape",
                "shape",
                [4, 4, k],
                Tolerance(exact=True),
                1.0,
                (KnownMistake("no_pad", "You forgot the padding.", [2, 2, k]),),
            ),
            InstancePart(
                "b",
                "choice",
                "which?",
                "B",
                Tolerance(),
                1.0,
                (KnownMistake("flip", "You flipped the kernel.", "A"),),
                options=("1", "2", "3"),
            ),
        ),
        solution="",
    )


def recompute_chain(instance: Instance):
    """The fake engine: recompute b from the student's a."""

    def recompute(overrides):
        a = float(overrides.get("a", 2 * instance.params["x"]))
        return {"a": 2 * instance.params["x"], "b": a + 1}

    return recompute if instance.template_id == "chain" else None


def manifest_dict() -> dict:
    students = []
    for sid, name in (("s1", "Ada Lovelace"), ("s2", "Alan Turing"), ("s3", "Grace <Hopper>")):
        questions = [
            {"number": 1, "slot": 1, "instance": chain(X[sid]).to_dict()},
            {"number": 2, "slot": 2, "instance": conv(K[sid]).to_dict()},
        ]
        if sid == "s2":
            questions = [
                {"number": 1, "slot": 2, "instance": conv(K[sid]).to_dict()},
                {"number": 2, "slot": 1, "instance": chain(X[sid]).to_dict()},
            ]
        students.append({"id": sid, "name": name, "email": f"{sid}@example.edu", "questions": questions})
    return {
        "format": "quizgen-manifest/1",
        "exam": {"title": "Quiz 1", "course": "DL101"},
        "students": students,
    }


def write_manifest(path) -> None:
    path.write_text(json.dumps(manifest_dict()), encoding="utf-8")


WIDE_CSV = """student_id,name,q1.a,q1.b,q2.a,q2.b
s1,Ada Lovelace,6,7,4x4x8,B
s2,Alan Turing,"(4, 4, 10)",a,4,5
s3,Grace Hopper,2.5,6,"[2, 2, 12]",C
"""
# s1: all right.
# s2: q1 is conv: shape right, choice A (the flip mistake); q2 is chain with x = 4: a = 4 (wrong),
#     b = 5 (right given a = 4: carried forward).
# s3: a = 2.5 (the halving mistake), b = 6 (wrong either way: 2.5 + 1 = 3.5); shape is the no_pad
#     mistake; choice C wrong.
