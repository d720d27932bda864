"""bank validate's check of error carried forward against the data (quizgen.selfcheck)."""

import dataclasses

from quizgen import bank, engine, selfcheck


def test_the_carry_check_passes_a_bank_template_and_names_a_dependency_left_out():
    template = bank.load_bank(()).get("mlp.relu_network_step")
    inst = engine.build_instance(template, 2)
    assert selfcheck.carry_problems(template, inst) == []
    # an instance whose part (d) forgot (b), as a hand-written list could
    d = dataclasses.replace(inst.part("d"), depends_on=("a",))
    forgot = dataclasses.replace(inst, parts=tuple(d if p.id == "d" else p for p in inst.parts))
    problems = selfcheck.carry_problems(template, forgot)
    assert problems == [
        "part d changes with part b's value but does not list it in depends_on; error carried forward "
        "would miss it (a value read in a way the step graph does not show)"
    ]
