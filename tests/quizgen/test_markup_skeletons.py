"""The skeleton caches of quizgen.markup (a text or formula rendered once with its numbers
replaced by 7, the numbers put back) must give exactly what rendering each text afresh gives."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from latex2mathml.converter import convert

from quizgen import bank, engine, markup


def _direct_math(latex: str, display: bool = False) -> str:
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception as exc:
        raise ValueError(str(exc)) from exc


def _reference(text: str, monkeypatch) -> str:
    """Every paragraph parsed and every formula converted by latex2mathml, no caches."""
    with monkeypatch.context() as m:
        m.setattr(markup, "math_to_mathml", _direct_math)
        return str(markup.to_html_general(text))


def _fresh():
    for fn in (markup.to_html, markup._plan, markup._skeleton, markup._convert):
        fn.cache_clear()


TEXTS = [
    "plain 12 and -3.5 and 7, 77, 1-2, 1.5.3",
    "*a*-1 and *b* 2 and **c**-3 and -*d*",  # a sign after a closing * decides the italic
    "$x^-1$ and $x^- y = 2$ and $x^{12}$ and $x^12$ and $x^1$",
    r"$\tfrac12 (P - 1) = \begin{bmatrix} 0.5 & -0.25 \\ 3 & 4 \end{bmatrix}$",
    r"$\frac17 + 2$ and $\sqrt 25 + \sqrt 3 + \sqrt{16}$",
    "$-0.9^2 + 0.9^2 + -1.5^{3} + 2$ and $1.-2^2$",
    "$7..7$ and $0..2$ and $1-2$",
    r"$\text{step 3 of 10} = 7$ and $\mathrm{x7} = 3$",
    "- 1 item\n- -2 item $x = -3$\n\n-1 is not an item\n\n10 paragraphs",
    r"\$5 and `code 12 -3` and a < 2 & b > -1",
    "$$\n\\frac{\\partial L}{\\partial x} = \\begin{bmatrix} 1 & -2 \\end{bmatrix}\n$$\nafter 3",
    r"$3 \times 3$, $\{-1, 0\}$, $\lfloor (3 + 2 \cdot 1 - 3)/2 \rfloor + 1 = 2$",
]


@pytest.mark.parametrize("text", TEXTS)
def test_text_skeleton_equals_rendering_afresh(text, monkeypatch):
    _fresh()
    want = _reference(text, monkeypatch)
    assert markup.to_html(text) == want
    # the same text again (the cached plan) and a variant with other numbers
    markup.to_html.cache_clear()
    assert markup.to_html(text) == want
    other = text.replace("2", "9").replace("-3", "-30")
    assert markup.to_html(other) == _reference(other, monkeypatch)


def test_variants_of_a_text_share_one_plan():
    _fresh()
    for a, b in ((1, 2.5), (-3, 4), (10, -0.125)):
        markup.to_html(rf"Let $x = {a}$ and $w = \begin{{bmatrix}} {b} & {a} \end{{bmatrix}}$ ({b} units).")
    info = markup._plan.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_every_text_of_the_bank_renders_as_afresh(monkeypatch):
    _fresh()
    texts = set()
    for t in bank.load_bank().select():
        for seed in (11, 12, 13):
            inst = engine.build_instance(t, seed)
            texts.update((inst.text, inst.solution, *(p.prompt for p in inst.parts)))
    assert len(texts) > 100
    for text in sorted(texts):
        assert markup.to_html(text) == _reference(text, monkeypatch), text


_TOKENS = [
    "$", "$$", "x", "y", " ", "\n", "\n\n", "- ", "*", "**", "`", "-", ".", "^", "_", "{", "}",
    "\\frac", "\\tfrac", "\\sqrt", "\\text{", "\\times", "\\cdot", "&", "<", "=", "+", "(", ")",
    "7", "1", "12", "0.5", "-3", "-0.25", "\\$", "\\begin{bmatrix}", "\\end{bmatrix}", "\\\\", " & ",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join))
def test_any_text_renders_as_afresh(monkeypatch, text):
    try:
        want = _reference(text, monkeypatch)
    except ValueError:
        return  # not valid LaTeX; nothing to compare
    assert markup.to_html(text) == want


_MATH_TOKENS = [
    "x", "y", " ", "^", "_", "{", "}", "\\frac", "\\tfrac", "\\sqrt", "\\hat", "\\text{", "\\times", "&",
    "=", "+", "-", "(", ")", ".", "'", "7", "1", "12", "0.5", "-3", "-0.25", "3.5", "1 in", "\\\\",
    "\\begin{bmatrix}", "\\end{bmatrix}", " & ", "\\left(", "\\right)", "\\over", "\\{",
]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_MATH_TOKENS), min_size=1, max_size=14).map("".join), st.booleans())
def test_any_formula_converts_as_directly(latex, display):
    try:
        want = _direct_math(latex, display)
    except ValueError:
        return
    assert markup.math_to_mathml(latex, display) == want


def test_a_number_that_misfits_its_slot_is_kept_in_the_text_skeleton(monkeypatch):
    """\\tfrac12 cannot take a slot; the text's other numbers still use one plan."""
    _fresh()
    text = r"Then $\partial L / \partial Z = \tfrac12 (P - Y) = \begin{{bmatrix}} {} & {} \end{{bmatrix}}$."
    want = [_reference(text.format(a, b), monkeypatch) for a, b in ((0.25, -0.5), (-0.125, 3))]
    assert markup.to_html(text.format(0.25, -0.5)) == want[0]

    def general_path(*args):
        raise AssertionError("took the general path")

    monkeypatch.setattr(markup, "_inline", general_path)
    monkeypatch.setattr(markup, "_convert", general_path)
    assert markup.to_html(text.format(-0.125, 3)) == want[1]
