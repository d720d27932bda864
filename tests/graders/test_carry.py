"""Error carried forward over the whole bank (graders/carry.py with engine.recompute_parts).

A simulated student gets an earlier part wrong in a plausible way (one of its known mistakes,
else the key scaled) and works on from that value, typing every answer rounded as its question
asks; the later parts must be credited as carried forward. Then each known mistake of a later
part, made on the student's own earlier answers, must be named.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from quizgen import engine, exam
from quizgen.cli_grade import bank_recompute_factory
from quizgen.formatting import plain
from quizgen.graders.batch import grade_questions
from quizgen.graders.carry import carried_grade
from quizgen.graders.numeric import grade_instance, grade_part_detail
from quizgen.models import ANSWER_KINDS, Instance, InstancePart, KnownMistake, Status, Tolerance

SEED = 1


@pytest.fixture(scope="module")
def the_bank(builtin_bank):
    return builtin_bank


@pytest.fixture(scope="module")
def factory():
    return bank_recompute_factory()


def typed(part: InstancePart, value) -> str:
    """``value`` as a student types it when the question asks for the part's precision."""
    if part.tolerance.sigfigs:
        return plain(value, sig=part.tolerance.sigfigs)
    if part.tolerance.decimals is not None:
        rounded = np.round(np.asarray(value, dtype=np.float64), part.tolerance.decimals)
        return plain(rounded.tolist() if rounded.ndim else float(rounded), sig=17)
    return plain(value, sig=17)


def wrong_values(part: InstancePart) -> list:
    """Plausible wrong answers: the part's known mistakes, else its key scaled."""
    known = [m.value for m in part.mistakes if m.distinguishable and m.value is not None]
    if known:
        return known[:2]
    moved = np.asarray(part.expected, dtype=np.float64) * 1.37 + 0.29
    if ANSWER_KINDS[part.kind].integral:
        moved = np.round(moved)
    return [moved.tolist() if moved.ndim else float(moved)]


@pytest.fixture(scope="module")
def simulated(the_bank):
    """(chains, mistakes): chains are (instance, responses, later part ids that should be
    credited); mistakes are (instance, responses, part id, mistake id) for each catalog mistake
    made after a wrong earlier part (only where it differs from the carried and direct keys)."""
    chains, mistakes = [], []
    for template in the_bank.templates.values():
        inst = engine.build_instance(template, SEED)
        spec = {p.id: p for p in template.parts}
        params = engine.params_from_plain(template, inst.params)
        for i, earlier in enumerate(inst.parts):
            later = [p for p in inst.parts[i + 1 :] if earlier.id in p.depends_on and p.kind != "choice"]
            if earlier.kind == "choice" or not later:
                continue
            for wrong in wrong_values(earlier):
                worked = engine.recompute(template, inst.params, {earlier.id: wrong})  # unrounded
                responses = {p.id: typed(p, p.expected) for p in inst.parts[:i] if p.kind != "choice"}
                responses[earlier.id] = typed(earlier, wrong)
                for p in inst.parts[i + 1 :]:
                    if p.kind != "choice" and p.id in worked:
                        responses[p.id] = typed(p, worked[p.id])
                chains.append((inst, responses, [p.id for p in later if p.id in worked]))
                for p in later:
                    if p.id not in worked:
                        continue
                    # the student's own values for what p uses, as they worked them out
                    own = {spec[earlier.id].answer: engine._as_step_value(earlier.kind, wrong)}
                    for d in p.depends_on:
                        dp = inst.part(d)
                        if (
                            d != earlier.id
                            and d in worked
                            and not dp.tolerance.accepts(dp.expected, worked[d])
                        ):
                            own[spec[d].answer] = engine._as_step_value(dp.kind, worked[d])
                    for m in spec[p.id].mistakes:
                        try:  # the mistake made by the generic pipeline, not the re-run lists
                            env = engine.run_steps(template, params, changes=m.changes, overrides=own)
                            value = engine.to_answer(p.kind, env[spec[p.id].answer])
                        except (*engine.NOT_APPLICABLE, ValueError):
                            continue
                        if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
                            continue
                        if p.tolerance.accepts(worked[p.id], value) or p.tolerance.accepts(p.expected, value):
                            continue  # the same as the carried key or the key: nothing to name
                        mistakes.append((inst, {**responses, p.id: typed(p, value)}, p.id, m.id))
    return chains, mistakes


def test_every_carried_forward_consistent_chain_is_credited(simulated, factory):
    chains, _ = simulated
    graded = grade_questions([(inst, r) for inst, r, _ in chains], recompute_factory=factory)
    assert sum(len(credited) for _, _, credited in chains) > 60
    missed = []
    for (inst, responses, credited), results in zip(chains, graded, strict=True):
        by_id = {g.result.part_id: g.result for g in results}
        for pid in credited:
            if by_id[pid].score != 1.0:
                missed.append((inst.template_id, pid, responses, by_id[pid].feedback))
    assert missed == []
    # the templates whose later parts read a picked earlier answer are among them
    credited_in = {inst.template_id for inst, _, credited in chains if credited}
    assert {"mlp.relu_network_step", "mlp.two_layer_sigmoid_step", "conv.train_step"} <= credited_in


def test_at_half_credit_a_consistent_answer_still_says_it_was_carried_forward(simulated, factory):
    chains, _ = simulated
    questions = [(inst, r) for inst, r, _ in chains]
    graded = grade_questions(questions, recompute_factory=factory, carry_forward_credit=0.5)
    full = grade_questions(questions, recompute_factory=factory)
    silent = []
    for (inst, _, credited), half, one in zip(chains, graded, full, strict=True):
        by_id = {g.result.part_id: g.result for g in half}
        right = {
            g.result.part_id
            for g in one
            if g.result.status is Status.CORRECT and not g.result.carried_forward
        }
        for pid in credited:
            if pid not in right and "carried forward" not in by_id[pid].feedback:
                silent.append((inst.template_id, pid, by_id[pid].feedback))
            if pid not in right:
                assert by_id[pid].score >= 0.5 and by_id[pid].carried_forward
    assert silent == []


def test_mistakes_after_a_wrong_earlier_part_are_named(simulated, factory):
    _, mistakes = simulated
    graded = grade_questions([(inst, r) for inst, r, _, _ in mistakes], recompute_factory=factory)
    named = 0
    for (_, _, pid, _), results in zip(mistakes, graded, strict=True):
        result = next(g.result for g in results if g.result.part_id == pid)
        named += result.mistake is not None
    assert len(mistakes) > 50
    assert named / len(mistakes) >= 0.95


def test_a_flipped_kernel_then_half_sum_of_squares_is_named(the_bank, factory):
    """The issue's example: conv.train_step, (a) with the kernel flipped, then (b) with the
    half sum of squares on that output."""
    template = the_bank.get("conv.train_step")
    inst = engine.build_instance(template, SEED)
    flipped = next(m.value for m in inst.part("a").mistakes if m.id == "flipped_kernel")
    from quizgen.reference.losses import half_squared_error

    half = float(half_squared_error(np.asarray(flipped), np.asarray(inst.params["t"])).loss)
    responses = {"a": plain(flipped, sig=17), "b": plain(half, sig=17)}
    b = grade_instance(inst, responses, recompute=factory(inst))[1]
    assert b.mistake == "half_sum_of_squares" and b.carried_forward
    assert b.feedback.startswith("Graded with your earlier answer to part (a) carried forward: ")


def test_an_earlier_answer_rounded_as_asked_costs_no_point(the_bank, factory):
    """mlp.two_layer_sigmoid_step: (b) wrong (no bias), typed to 4 significant figures as asked;
    (c) worked out from the unrounded (b) and typed to 4 significant figures."""
    template = the_bank.get("mlp.two_layer_sigmoid_step")
    inst = engine.build_instance(template, SEED)
    b, c = inst.part("b"), inst.part("c")
    wrong = next(m.value for m in b.mistakes if m.id == "forgot_bias")
    worked = engine.recompute(template, inst.params, {"b": wrong})
    responses = {
        "a": typed(inst.part("a"), inst.part("a").expected),
        "b": typed(b, wrong),
        "c": typed(c, worked["c"]),
    }
    # the key recomputed from the typed (rounded) (b) alone does not accept the typed (c) ...
    from_typed = engine.recompute(
        template, inst.params, {"b": [float(x) for x in responses["b"].strip("[]").split(",")]}
    )
    assert not c.tolerance.accepts(from_typed["c"], float(responses["c"]))
    # ... but the rounding (b) was allowed is allowed for
    result = grade_instance(inst, responses, recompute=factory(inst))[2]
    assert result.score == 1.0 and result.carried_forward


# ------------------------------------------------------------------------------ the rules, small


def _pair() -> Instance:
    a = InstancePart("a", "real", "", 2.0, Tolerance(), 1.0, (KnownMistake("half", "Halved.", 1.0),))
    key = [3.0, 5.0, 7.0, 9.0]
    b = InstancePart("b", "vector", "", key, Tolerance(), 1.0, depends_on=("a",))
    return Instance("pair", 0, {}, "", (a, b), "")


def _given_a(overrides):
    return {"a": float(overrides["a"]), "b": [3.0, 5.0, 7.0, 10.0]}  # (b) given a = 1


def test_half_credit_keeps_a_higher_direct_score_and_says_it_was_carried_forward():
    results = grade_instance(
        _pair(), {"a": "1", "b": "[3, 5, 7, 10]"}, recompute=_given_a, carry_forward_credit=0.5
    )
    b = results[1]
    # 3 of 4 elements as the key's, where one number typed everywhere gets 1: (3 - 1) / (4 - 1)
    assert b.score == pytest.approx(2 / 3) and b.carried_forward
    assert "carried forward: this part is right given it (50% credit)" in b.feedback
    assert "(67%), which is kept" in b.feedback


def test_a_mistake_made_on_the_carried_values_is_named_ahead_of_a_direct_one():
    part = _pair().parts[1]
    direct = grade_part_detail(
        replace(part, mistakes=(KnownMistake("sq", "Squared.", [1, 1, 1, 2]),)), "[1, 1, 1, 2]"
    )
    carried = replace(
        part, expected=[2.0, 4.0, 6.0, 8.0], mistakes=(KnownMistake("cube", "Cubed.", [1, 1, 1, 2]),)
    )
    again = grade_part_detail(carried, "[1, 1, 1, 2]")
    assert direct.result.mistake == "sq" and again.result.mistake == "cube"
    result = carried_grade(direct, again, {"a": np.asarray(1.0)}, 1.0).result
    assert result.mistake == "cube" and result.carried_forward
    assert result.feedback == "Graded with your earlier answer to part (a) carried forward: Cubed."


# ------------------------------------------------------- re-running only what a carried value reaches


def _full_mistake_values(template, part, draw, kind, memo, overrides=engine._NOTHING, writes=engine._NOTHING):
    """engine._mistake_values as it was before it skipped anything: every step of each
    mistake's re-run, whatever the student's values cut off (the reference for the test below)."""
    out = []
    for m in part.mistakes:
        steps = engine.plan.plan_for(template).mistakes[part.id, m.id]
        env = dict(draw.values)
        value = draw.values[part.answer]
        try:
            for step in steps:
                if step.name in overrides:
                    value = draw.values[step.name]
                else:
                    value = step.run(env)
                    if step.name in writes:
                        value = engine._written(value, writes[step.name])
                env[step.name] = value
            out.append((m, engine.to_answer(kind, value)))
        except engine.NOT_APPLICABLE:
            out.append((m, None))
    return out


def _example_class(the_bank, n: int) -> list:
    """(instance, responses) of ``n`` students answering the example midterm as the example
    course does (examples/make_responses.py: what bench/run.py grades)."""
    examples = Path(__file__).resolve().parents[2] / "examples"
    loader = importlib.util.spec_from_file_location("make_responses", examples / "make_responses.py")
    make = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(make)
    roster = [exam.Student(f"s{i:03d}", f"Student {i}", "") for i in range(n)]
    manifest = exam.build_exam(exam.load_spec(examples / "midterm.yaml", the_bank), roster)
    out = []
    for i, paper in enumerate(manifest.students):
        row = make.answers_for(paper, the_bank, i)
        for q in paper.questions:
            out.append((q.instance, {p.id: row.get(f"q{q.number}.{p.id}") for p in q.instance.parts}))
    return out


def test_rerunning_only_what_a_carried_value_reaches_changes_no_grade(
    simulated, the_bank, factory, monkeypatch
):
    """The rounding allowance re-runs only the steps a moved carried value reaches (and skips
    parts it cannot reach), and a mistake's re-run skips what the student's values cut off from
    its change: over every template's chains and mistakes after a wrong earlier part, the grades
    are those of the full re-runs."""
    chains, mistakes = simulated
    questions = [(inst, r) for inst, r, _ in chains] + [(inst, r) for inst, r, _, _ in mistakes]
    questions += _example_class(the_bank, 40)  # students with several wrong earlier parts
    skipped = {"moves": 0, "reaches": 0}
    moves, reaches = engine._moves, engine._reaches

    def counted_moves(*args):
        out = moves(*args)
        skipped["moves"] += not out
        return out

    def counted_reaches(steps, overrides):
        out = reaches(steps, overrides)
        skipped["reaches"] += not out
        return out

    monkeypatch.setattr(engine, "_moves", counted_moves)
    monkeypatch.setattr(engine, "_reaches", counted_reaches)
    fast = grade_questions(questions, recompute_factory=factory)
    assert skipped["moves"] > 0 and skipped["reaches"] > 0, skipped  # the shortcuts were taken

    monkeypatch.setattr(engine, "_moves", lambda *args: True)
    monkeypatch.setattr(
        engine,
        "_moved_run",
        lambda template, params, env, overrides, moved, reach, root: engine.run_steps(
            template, params, overrides=overrides, base=env
        ),
    )
    monkeypatch.setattr(engine, "_mistake_values", _full_mistake_values)
    full = grade_questions(questions, recompute_factory=factory)
    assert [[g.result for g in q] for q in fast] == [[g.result for g in q] for q in full]
    assert sum(g.result.carried_forward for q in full for g in q) > 100
