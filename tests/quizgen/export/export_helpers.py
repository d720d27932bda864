"""Hand-made instances with the awkward numbers the exports must keep (3e-05, 0.1 + 0.2,
matrices, tensors, shapes, choices), and a source built from them."""

from quizgen.export import common
from quizgen.manifest import Manifest, Question, StudentPaper
from quizgen.models import Instance, InstancePart, KnownMistake, Tolerance


def make_instance(
    template_id, seed, parts, *, text="Compute $x_{1}$ & more.", solution="Because $a < b$."
) -> Instance:
    return Instance(
        template_id, seed, {"seed": seed}, text, tuple(parts), solution, title=f"Hand-made {template_id}"
    )


def lr_update(seed=0) -> Instance:
    """One tiny number (a learning-rate update of 3e-05) with a known mistake."""
    part = InstancePart(
        "a",
        "real",
        "The update $\\Delta w$.",
        3e-05,
        Tolerance(rtol=1e-2, atol=1e-8),
        2.0,
        (KnownMistake("sign", "Wrong sign: $-\\eta g$, not $+\\eta g$.", -3e-05),),
    )
    return make_instance("hand.lr_update", seed, [part])


def awkward() -> Instance:
    """Several parts: 0.1 + 0.2, a 2x2 matrix with sigfigs, a (2, 1, 2) tensor, a shape, a choice."""
    return make_instance(
        "hand.awkward",
        7,
        [
            InstancePart("a", "real", "Sum.", 0.1 + 0.2, Tolerance(decimals=3), 1.0),
            InstancePart(
                "b",
                "matrix",
                "Matrix.",
                [[1.5e-7, -2.25], [1e6, 0.0]],
                Tolerance(sigfigs=3),
                1.0,
                (
                    KnownMistake(
                        "transposed", "You transposed it: use $W^{\\top}$.", [[1.5e-7, 1e6], [-2.25, 0.0]]
                    ),
                ),
            ),
            InstancePart("c", "tensor", "Tensor.", [[[1.0, 2.0]], [[3.0, 4.0]]], Tolerance(), 1.0),
            InstancePart("d", "shape", "Shape.", [2, 3], Tolerance(exact=True), 1.0),
            InstancePart(
                "e",
                "choice",
                "Pick one.",
                "B",
                Tolerance(),
                1.0,
                (KnownMistake("half", "Half of it ~ #1 {x}.", "A"),),
                options=("0.15", "0.3", "0.6"),
            ),
        ],
    )


def hand_source(instances, title="hand") -> common.ExportSource:
    """A manifest with one paper per instance, all at slot 1."""
    papers = tuple(
        StudentPaper(f"s{i}", f"Student {i}", "", (Question(1, 1, "Hand", inst),))
        for i, inst in enumerate(instances)
    )
    return common.source_from_manifest(
        Manifest({"title": title, "course": "T101", "instructions": ""}, papers)
    )
