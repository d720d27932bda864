"""Canvas QTI 1.2 zip: valid for Canvas's importer (mirrored in validate_qti) for every template,
numbers written so that Canvas's margin rule decides like our grader, stable identifiers."""

import io
import zipfile
from decimal import Decimal

import pytest
from export_helpers import awkward, hand_source, lr_update, make_instance

from quizgen.export import common, qti
from quizgen.export.validate_qti import validate_qti
from quizgen.models import ANSWER_KINDS, InstancePart, KnownMistake, Tolerance


def build(source, tmp_path, name="quiz.zip"):
    result = qti.export_qti(source, tmp_path / name)
    return result, validate_qti(result.files[0])


def read_power(blank, exact, margin):
    """The power of ten the item's answer and margin (as Canvas stores them, floats) are our
    floats shifted by, to the nearest float (the unit 10^-power the prompt states), read from
    the item itself."""
    ours = Decimal(common.number_text(blank.expected)), Decimal(common.number_text(blank.margin))
    for power in range(0, 13):
        if (float(exact), float(margin)) == (float(ours[0].scaleb(power)), float(ours[1].scaleb(power))):
            return power
    raise AssertionError(f"{exact} ± {margin} is no decimal shift of {ours}")


def check_numbers(report, instances, scope):
    """Every number of every instance is one numerical item whose exact answer and margin are our
    float and margin shifted by one power of ten, so that Canvas's margin rule decides like
    Tolerance.close, and on the quiz page (4 decimals, no e-notation) the answer typed in full
    scores and every known mistake typed in full does not; returns how many were checked."""
    items = {i.ident: i for i in report.items}
    checked = 0
    for inst in instances:
        for part in inst.parts:
            if ANSWER_KINDS[part.kind].texts:
                continue  # text options hold no numbers: test_export_selection.py checks them
            if part.options:
                item = items[qti.item_ident(scope, inst, part)]
                assert item.type == "multiple_choice_question"
                assert item.options.index(item.correct_option) == "ABCDEFGH".index(part.expected)
                continue
            for blank in common.blanks(part):
                item = items[qti.item_ident(scope, inst, part, blank.index)]
                assert item.type == "numerical_question"
                ((exact, margin),) = item.exact
                power = read_power(blank, exact, margin)
                at = common.where(inst, part, blank.index)
                if power == 0:
                    problem = common.interval_problem(
                        blank.expected, blank.tolerance, exact, margin, common.canvas_accepts
                    )
                    assert problem is None, f"{at}: {problem}"
                typed = common.positional(blank.expected, power)
                assert "e" not in typed.lower()
                assert common.canvas_page_accepts(exact, margin, typed), (
                    f"{at}: {typed} vs {exact} ± {margin}"
                )
                for mistake in blank.mistakes:
                    wrong = common.positional(mistake.value, power)
                    assert not common.canvas_page_accepts(exact, margin, wrong), f"{at}: mistake {wrong}"
                checked += 1
    return checked


def test_every_builtin_template_exports_to_a_valid_zip(builtin_source, tmp_path):
    result, report = build(builtin_source, tmp_path)
    assert report.problems == []
    multi = [g for g in builtin_source.groups if any(common.layout(i) == "multi" for i in g.instances)]
    # the text-option kinds add documented warnings (ordering refused, Canvas's own multiple-
    # answers rule), checked in test_export_selection.py; the other warnings are as before
    selection = [w for w in result.warnings if "no ordering type" in w or "Canvas Classic scores" in w]
    assert selection and all(w.startswith(("concepts.", "theory.")) for w in selection), selection
    warnings = [w for w in result.warnings if w not in selection]
    if multi:  # versions: version k holds variant k of every question
        assert len(warnings) == 1 and multi[0].key in warnings[0]
        for k in range(2):
            chosen = [g.instances[k % len(g.instances)] for g in builtin_source.groups]
            assert check_numbers(report, chosen, f"version{k}") > 0
    else:
        assert check_numbers(report, [i for g in builtin_source.groups for i in g.instances], "pool") > 0


def test_single_answer_templates_form_pick_one_groups_of_their_variants(builtin_source, tmp_path):
    # the text-option kinds are left out here: ordering is refused by Canvas and multiple select
    # warns (both documented); test_export_selection.py checks their items
    single = [
        g
        for g in builtin_source.groups
        if all(common.layout(i) != "multi" and not ANSWER_KINDS[i.parts[0].kind].texts for i in g.instances)
    ]
    if not single:
        pytest.skip("no built-in template asks for a single number or choice")
    source = common.ExportSource("singles", builtin_source.manifest, tuple(single))
    result, report = build(source, tmp_path)
    assert report.problems == [] and result.warnings == []
    assert sorted(report.sections.values()) == [(1, len(g.instances)) for g in single]
    assert check_numbers(report, [i for g in single for i in g.instances], "pool") == sum(
        1 for g in single for i in g.instances if not i.parts[0].options
    )


def test_a_tiny_update_is_asked_in_thousandths_with_exact_decimal_bounds(tmp_path):
    # 3e-05 +- (1e-8 + 1e-2 * 3e-05 = 3.1000000000000005e-07 in floats): the quiz page saves
    # 0.0000 for 0.00003 (and blanks 3e-05), so it is asked in units of 10^-3: 0.03 +- 0.00031...
    result, report = build(hand_source([lr_update(0), lr_update(1)]), tmp_path)
    assert report.problems == [] and result.warnings == []
    assert report.sections and list(report.sections.values()) == [(1, 2)]
    item = report.items[0]
    assert item.points == 2.0
    assert item.exact == [("0.03", "0.00031000000000000005")]
    zf = zipfile.ZipFile(result.files[0])
    xml = zf.read(next(n for n in zf.namelist() if n != "imsmanifest.xml")).decode()
    assert ">0.02968999999999999995<" in xml and ">0.03031000000000000005<" in xml
    assert "units of 10&lt;sup&gt;\u22123&lt;/sup&gt;" in xml
    assert common.canvas_page_accepts("0.03", "0.00031000000000000005", "0.0303")
    assert not common.canvas_page_accepts("0.03", "0.00031000000000000005", "0.0304")
    assert not common.canvas_page_accepts("0.03", "0.00031000000000000005", "-0.03")
    # unscaled, no typed value would score: 0.00003 is saved as 0.0000, 3e-05 is blanked
    assert not common.canvas_page_accepts("3e-05", "3.1000000000000005E-7", "0.00003")
    assert not common.canvas_page_accepts("3e-05", "3.1000000000000005E-7", "3e-05")
    assert common.canvas_accepts("3e-05", "3.1000000000000005E-7", 3.031e-5)


def test_the_quiz_page_keeps_four_decimals_and_blanks_e_notation():
    assert common.canvas_page_saves("0.123456") == "0.1235"
    assert common.canvas_page_saves("1") == "1.0000"
    assert common.canvas_page_saves("-1.03125") == "-1.0313"  # toFixed: ties away from zero
    assert common.canvas_page_saves("3e-5") is None and common.canvas_page_saves("abc") is None


def test_awkward_variants_become_versions_with_one_item_per_number(tmp_path):
    inst = awkward()
    result, report = build(hand_source([inst]), tmp_path)
    assert report.problems == []
    assert "hand.awkward" in result.warnings[0] and "versions" in result.warnings[0]
    assert check_numbers(report, [inst], "version0") == 11
    # the question text once (a text-only item), then per part: a number or a choice is one
    # item with its prompt; an array part is a text-only item with its prompt and one short
    # item per entry
    kinds = [i.type[:4] for i in report.items]
    assert kinds == ["text", "nume", "text"] + ["nume"] * 4 + ["text"] + ["nume"] * 4 + ["text"] * 1 + [
        "nume"
    ] * 2 + ["mult"]
    assert sum(i.points for i in report.items) == 5.0
    stem, *rest = report.items
    assert "more." in stem.text and not any("more." in i.text for i in rest)
    assert "Matrix." in report.items[2].text and "2 \u00d7 2 matrix" in report.items[2].text
    assert [i.text[: len("<div><p><strong>(b) row 1, column 1</strong></p>")] for i in report.items[3:7]] == [
        f"<div><p><strong>(b) row {r}, column {c}</strong></p>" for r in (1, 2) for c in (1, 2)
    ]
    # 1.5e-07 (3 significant figures) is asked in units of 10^-6: 0.15 +- 0.0005 (+ the atol margin)
    assert (
        report.items[3].exact == [("0.15", "0.0005000000005000001")]
        and "10<sup>\u22126</sup>" in report.items[3].text
    )
    assert report.items[4].exact[0][0] == "-2.25" and "units" not in report.items[4].text
    assert "entry [2, 1, 2]" in report.items[11].text
    # the choice item carries the known mistake's feedback on its option
    (choice,) = [i for i in report.items if i.type == "multiple_choice_question"]
    assert len(choice.options) == 3


def test_rebuilding_gives_the_same_zip_and_identifiers(fixture_source, tmp_path):
    a, report_a = build(fixture_source, tmp_path, "a.zip")
    b, _report_b = build(fixture_source, tmp_path, "b.zip")
    assert a.files[0].read_bytes() == b.files[0].read_bytes()
    idents = [i.ident for i in report_a.items]
    assert len(set(idents)) == len(idents)
    assert qti.item_ident("pool", lr_update(0)) != qti.item_ident("pool", lr_update(1))


def test_exact_answers_have_no_margin_and_integers_no_decimal_point(tmp_path):
    part = InstancePart("a", "integer", "", 12, Tolerance(exact=True), 1.0)
    _result, report = build(hand_source([make_instance("hand.int", 0, [part])]), tmp_path)
    assert report.problems == []
    assert report.items[0].exact == [("12", "0")]


def test_a_choice_with_one_option_is_reported(tmp_path):
    bad = InstancePart(
        "a", "choice", "", "A", Tolerance(), 1.0, (KnownMistake("m", "f", "A", False),), ("1",)
    )
    result, report = build(hand_source([make_instance("hand.one", 2, [bad]), lr_update()]), tmp_path)
    assert result.warnings == [
        "hand.one seed 2: not exported to Canvas: part a is multiple choice with a single option"
    ]
    assert len(report.items) == 1


def _rewrite(zip_path, name_filter, old, new):
    src = zipfile.ZipFile(zip_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in src.namelist():
            data = src.read(name)
            if name_filter(name):
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode(), 1)
            if data is not None:
                out.writestr(name, data)
    return buf.getvalue()


BAD = {
    "missing file": (lambda n: n == "imsmanifest.xml", '.xml" />', '.xmlx" />', "which is not in the zip"),
    "asymmetric margin": (
        lambda n: n != "imsmanifest.xml",
        ">0.03031000000000000005<",
        ">0.03032<",
        "not symmetric",
    ),
    "not a number": (lambda n: n != "imsmanifest.xml", ">0.03<", ">0.03 m/s<", "not a number Canvas reads"),
    "unknown type": (
        lambda n: n != "imsmanifest.xml",
        "numerical_question",
        "numeric_question",
        "not one Canvas knows",
    ),
    "pick too many": (
        lambda n: n != "imsmanifest.xml",
        "<selection_number>1<",
        "<selection_number>3<",
        "selection_number must be",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_the_validator_rejects_what_canvas_would(name, tmp_path):
    which, old, new, message = BAD[name]
    result, report = build(hand_source([lr_update(0), lr_update(1)]), tmp_path)
    assert report.problems == []
    problems = validate_qti(_rewrite(result.files[0], which, old, new)).problems
    assert any(message in p for p in problems), problems


def test_the_validator_rejects_a_choice_whose_answer_is_not_an_option(tmp_path):
    part = InstancePart("a", "choice", "", "B", Tolerance(), 1.0, options=("1", "2"))
    result, report = build(hand_source([make_instance("hand.mc", 0, [part])]), tmp_path)
    assert report.problems == []
    correct = report.items[0].correct_option
    broken = _rewrite(
        result.files[0],
        lambda n: n != "imsmanifest.xml",
        f'respident="response1">{correct}<',
        'respident="response1">zzz<',
    )
    assert any("is not an option" in p for p in validate_qti(broken).problems)


def test_every_number_of_the_example_exam_can_be_answered_on_the_quiz_page(example_source, tmp_path):
    # 44 of its 2,400 numbers (softmax probabilities, AdamW steps) accepted no typed value before
    result, report = build(example_source, tmp_path)
    assert report.problems == []
    assert not [w for w in result.warnings if "cannot be answered" in w]
    groups = example_source.groups
    count = max(len(g.instances) for g in groups)
    checked = sum(
        check_numbers(report, [g.instances[k % len(g.instances)] for g in groups], f"version{k}")
        for k in range(count)
    )
    assert checked == sum(
        common.answered_numbers(p for p in i.parts if not p.options) for g in groups for i in g.instances
    )
    scaled = [i for i in report.items if "units of 10" in i.text]
    assert scaled  # the softmax probabilities and AdamW steps among them


def test_a_number_no_unit_makes_answerable_is_refused_naming_the_question(tmp_path, monkeypatch):
    # with no scaled units allowed, 3e-05 +- 3.1e-07 cannot be typed: the page saves 0.0000
    monkeypatch.setattr(common, "MAX_CANVAS_POWER", 0)
    result, report = build(hand_source([lr_update(0), make_instance("hand.int", 1, [_int_part()])]), tmp_path)
    assert report.problems == []
    (warning,) = result.warnings
    assert warning.startswith("hand.lr_update seed 0: not exported to Canvas: part a cannot be answered")
    assert "saved as 0.0000" in warning
    assert [i.exact for i in report.items] == [[("12", "0")]]


def _int_part():
    return InstancePart("a", "integer", "", 12, Tolerance(exact=True), 1.0)


def test_the_validator_refuses_an_item_no_typed_number_can_score(tmp_path):
    result, report = build(hand_source([lr_update(0)]), tmp_path)
    assert report.problems == []
    # the item as exported before scaling: 3e-05 +- 3.1e-07, which the page saves as 0.0000
    broken = result.files[0].read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(broken))
    name = next(n for n in zf.namelist() if n != "imsmanifest.xml")
    xml = zf.read(name).decode()
    for old, new in (
        (">0.03<", ">3e-05<"),
        (">0.02968999999999999995<", ">0.00002969<"),
        (">0.03031000000000000005<", ">0.00003031<"),
    ):
        assert old in xml
        xml = xml.replace(old, new)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for n in zf.namelist():
            out.writestr(n, xml if n == name else zf.read(n))
    problems = validate_qti(buf.getvalue()).problems
    assert any("no number a student can type" in p for p in problems), problems


def test_canvas_cannot_give_a_mistake_its_credit_and_the_export_says_so(credit_source, tmp_path):
    """Canvas scores a numerical answer 100% or 0 and a choice right or wrong: a mistake with
    credit 0.5 earns 0 there (still outside the margin), with one warning per template, part
    and mistake."""
    result, report = build(credit_source, tmp_path)
    assert report.problems == []
    credit = sorted(w for w in result.warnings if "credit in quizgen" in w)
    assert len(result.warnings) == len(credit) + 1  # and the versions warning
    assert credit == [
        f"{t}, part {p}: the known mistake {m} earns 50% credit in quizgen, but a Canvas numerical answer "
        "scores 100% or 0 and a multiple-choice option is right or wrong: it earns 0 in Canvas; grade with "
        "quizgen (quizgen import-responses, then quizgen grade) to give it"
        for t, p, m in [
            ("fixture.credit_choice", "a", "half_convention"),
            ("fixture.credit_number", "a", "half_convention"),
            ("fixture.credit_parts", "a", "half_convention"),
            ("fixture.credit_parts", "b", "half_gradient"),
        ]
    ]
    chosen = [g.instances[0] for g in credit_source.groups]
    assert check_numbers(report, chosen, "version0") == 1 + 1 + 3
