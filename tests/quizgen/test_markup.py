import pytest
from latex2mathml.converter import convert

from quizgen import bank, engine
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


def test_fast_conversion_equals_direct_on_every_formula_of_the_bank():
    formulas = set()
    instances = [engine.build_instance(t, seed) for t in bank.load_bank().select() for seed in (11, 12, 13)]
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
