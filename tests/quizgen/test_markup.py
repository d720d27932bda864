import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from latex2mathml.converter import convert

from quizgen import engine, markup
from quizgen.markup import _MATH, math_to_mathml, to_html


def _direct(latex: str, display: bool) -> str:
    return convert(latex.strip(), display="block" if display else "inline")


@pytest.mark.parametrize(
    "latex",
    [
        r"x = 3",
        r"\begin{bmatrix} 1.5 & -2 \\ 30 & 4 \end{bmatrix} \times 10^{-5}",
        r"\frac{0.25}{1 - 0.9^{3}}",
        r"\frac12 + w_5",  # digits that are not separate numbers: falls back to direct conversion
        r"\text{step 3 of 10} = 7",
        r"\lfloor (28 + 2 \cdot 1 - 5)/2 \rfloor + 1 = 13",
        r"7 7 7",
        r"1 - -0.9051^2 = 0.1807",
        r"(27 + 1) \cdot 10 = 280, \lfloor 13/3 \rfloor, b_2. \sqrt 25 \eta_7",
        r"x^23 + y_0.5 + \sqrt2 + z^-3 + 4 - -2",
        r"\begin{bmatrix} -1 & 2 \\ -0.5 & -3 \end{bmatrix} - 10^{-4}",
        # character references with a 7 in them (&#x000D7; is the times sign) are not placeholders
        r"3 \times 3",
        r"\{-1, 0\}, \{1, 2\}",
        r"\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}",
        r"\text{7} \times 2",
        r"\text{x7} \cdot 2 \times 3",
        # a sign or a long number where TeX takes one token as an argument changes the structure
        r"\frac1-3 + 2",
        r"\frac&-0.25 \times 2",
        r"\tfrac1-0.25 \cdot 4",
        r"\frac{a}-3 \times 1",
        r"\frac{a}12 \times 1",
        r"7\times\times_\frac^12{\tfrac--0.25}",
        r"\tfrac12 (P - 1) = \begin{bmatrix} 0.5 & -0.25 \\ 3 & 4 \end{bmatrix}",
        r"x^17 + 3",
        # MathML puts a subscript before a superscript written first: the slots are reordered
        r"x^{0.5}_{2} + 1",
        r"\sum^{3}_{i=1} x_i",
        r"\hat\sqrt0.5^7_2",
    ],
)
def test_fast_conversion_equals_direct_conversion(latex):
    for display in (False, True):
        assert math_to_mathml(latex, display) == _direct(latex, display)


def test_fast_conversion_equals_direct_on_every_formula_of_the_bank(builtin_bank):
    formulas = set()
    instances = [engine.build_instance(t, seed) for t in builtin_bank.select() for seed in (11, 12, 13)]
    for inst in instances:
        for text in (inst.text, inst.solution, *(p.prompt for p in inst.parts)):
            for m in _MATH.finditer(text):
                formulas.add((m.group(1) or m.group(2), m.group(1) is not None))
    assert len(formulas) > 50
    for latex, display in formulas:
        assert math_to_mathml(latex, display) == _direct(latex, display), latex


def test_text_outside_math_is_escaped():
    html = to_html("a < b and <script>alert(1)</script> $x^2$")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<math" in html


def test_bad_formula_names_the_formula():
    with pytest.raises(ValueError, match=r"cannot render the formula \$\\begin\{bmatrix"):
        to_html(r"$\begin{bmatrix} 1 & 2$")


def test_formulas_that_differ_only_in_numbers_share_one_conversion():
    from quizgen import markup

    markup._convert.cache_clear()
    markup._skeleton.cache_clear()
    for latex in (r"3 \times 3", r"5 \times 5", r"\{-1, 0\}, \{1, 2\}", r"\{-2, 4\}, \{1, 9\}"):
        assert math_to_mathml(latex) == _direct(latex, False)
    assert markup._convert.cache_info().misses == 2


# The skeleton caches of quizgen.markup (a text or formula rendered once with its numbers
# replaced by 7, the numbers put back) must give exactly what rendering each text afresh gives.


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


def test_every_text_of_the_bank_renders_as_afresh(builtin_bank, monkeypatch):
    _fresh()
    texts = set()
    for t in builtin_bank.select():
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
