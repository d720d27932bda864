"""Pages people read, laid out by a real headless Chromium at 1280 px (network off): the class
report's tables and the exam overview fit the page with short rows, an answer box is as tall as
the answer's rows, a wide display equation scrolls inside the key's solution box instead of
running out of it, and a feedback page's prompts are MathML, not raw LaTeX.

Set QUIZGEN_SCREENSHOTS=<folder> to keep a screenshot of each page there (to look at them).
Skipped, saying why, where no Chromium is installed (Debian: ``apt-get install chromium``).
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from headless import BROWSER, chromium

from quizgen import engine
from quizgen.graders.analysis import ItemStats, ParamBreakdown, PartRecord, StudentTotal
from quizgen.graders.reports import class_report_html, student_report_html
from quizgen.manifest import Question, StudentPaper
from quizgen.markup import to_html
from quizgen.models import GradeResult, Status
from quizgen.output import PAGES, render_paper

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed (apt-get install chromium)"),
]
WIDTH = 1280

PROBE = """
<script>
window.addEventListener("load", () => {
  const right = el => el.getBoundingClientRect().right;
  const out = {
    viewport: window.innerWidth,
    page_width: document.documentElement.scrollWidth,
    tables_right: Math.max(0, ...[...document.querySelectorAll("table")].map(right)),
    body_right: right(document.body),
    row_heights: [...document.querySelectorAll("table.items tr")].map(r => r.getBoundingClientRect().height),
    boxes: [...document.querySelectorAll(".box")].map(b => [b.getAttribute("style") || "",
      b.getBoundingClientRect().height, parseFloat(getComputedStyle(b).fontSize)]),
    wide_math: [...document.querySelectorAll(".solution math[display=block]")].map(m => [
      right(m) <= right(m.closest(".solution")) + 1, m.scrollWidth > m.clientWidth + 1,
      getComputedStyle(m).overflowX]),
    prompts_math: document.querySelectorAll("td math").length,
    raw_dollars: [...document.querySelectorAll("td")].filter(td => /\\$[^$]+\\$/.test(td.textContent)).length,
  };
  document.title = "PROBE" + JSON.stringify(out);
});
</script>
"""


def _layout(page_html: str, tmp_path: Path, name: str) -> dict:
    page = tmp_path / f"{name}.html"
    page.write_text(page_html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    base = chromium(
        tmp_path / "profile", "--hide-scrollbars", f"--window-size={WIDTH},1000", "--virtual-time-budget=5000"
    )
    run = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "<title>PROBE" in run.stdout, run.stderr[-2000:]
    title = run.stdout.split("<title>PROBE", 1)[1].split("</title>", 1)[0]
    keep = os.environ.get("QUIZGEN_SCREENSHOTS")
    if keep:
        shot = Path(keep) / f"{name}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*base, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120
        )
    return json.loads(title.replace("&quot;", '"').replace("&amp;", "&"))


def _fits(result: dict) -> None:
    assert result["viewport"] == WIDTH
    assert result["page_width"] <= WIDTH, result
    assert result["tables_right"] <= result["body_right"] + 1, result


def _long_array(n: int, seed: int) -> str:
    return "[" + ", ".join(f"{(seed * 7919 + i * 104729) % 10007 / 997:.6f}" for i in range(n)) + "]"


def test_class_report_tables_fit_1280px_with_short_rows(tmp_path):
    items = [
        ItemStats(
            f"losses.softmax_jacobian_very_long_template_name_{k}",
            "b",
            "Softmax Jacobian",
            "matrix",
            30,
            0.4,
            1.0,
            0.4,
            0.3,
            0.25,
            0.1,
            0.05,
            tuple((_long_array(16, k * 10 + j), 3 - j % 3) for j in range(8)),
            tuple(
                (f"mistake_with_a_long_identifier_{j}", "Forgot to subtract the max first.", 2)
                for j in range(6)
            ),
            tuple(
                ParamBreakdown(f"param_{p}", tuple((_long_array(4, p + v), 5, 0.5) for v in range(4)))
                for p in range(6)
            ),
        )
        for k in range(6)
    ]
    totals = [StudentTotal(f"s{i:03d}", f"Student {i}", i % 20, 20.0, {1: i % 20}) for i in range(30)]
    result = _layout(class_report_html("Midterm", totals, items, []), tmp_path, "report")
    _fits(result)
    assert max(result["row_heights"]) <= 160, result["row_heights"]


def test_overview_table_fits_the_page(tmp_path):
    rows = [
        {
            "slot": s,
            "section": "Backpropagation through a two-layer network",
            "template": f"mlp.two_layer_sigmoid_step_{s}",
            "title": "Two-layer sigmoid network: one SGD step",
            "variants": 30,
            "part": "d",
            "kind": "matrix",
            "range": _long_array(12, s) + " … " + _long_array(12, s + 1),
            "mistakes": ", ".join(f"forgot_the_sigmoid_derivative_{j}" for j in range(5)),
        }
        for s in range(1, 8)
    ]
    html = PAGES.get_template("overview.html.j2").render(
        title="Midterm: overview",
        exam={"title": "Midterm", "course": "DL", "points": 40, "seed": 1},
        n_students=30,
        rows=rows,
    )
    _fits(_layout(html, tmp_path, "overview"))


@pytest.fixture(scope="module")
def feature_map(builtin_bank):
    return engine.build_instance(builtin_bank.get("conv.feature_map"), 1)  # two matrix parts


def test_answer_boxes_are_as_tall_as_the_answer_and_wide_math_scrolls_in_the_key(tmp_path, feature_map):
    paper = StudentPaper("s1", "Ada", "", (Question(1, 1, "", feature_map),))
    exam = {"title": "Quiz", "course": "DL", "instructions": ""}
    result = _layout(render_paper(exam, paper, key=False, fmt="html"), tmp_path, "paper")
    _fits(result)
    rows = [len(p.expected) for p in feature_map.parts]  # 3 and 2 rows
    for (style, height, font), n in zip(result["boxes"], rows, strict=True):
        assert f"--rows: {n}" in style and height >= n * 1.4 * font, (style, height, n)
    wide = "$$" + " + ".join(rf"\frac{{x_{{{i}}}}}{{y_{{{i}}} + {i}}}" for i in range(60)) + "$$"
    key = render_paper(exam, paper, key=True, fmt="html").replace(
        "<strong>Worked solution.</strong>", f"<strong>Worked solution.</strong> {to_html(wide)}"
    )
    result = _layout(key, tmp_path, "key")
    _fits(result)
    assert result["wide_math"], "no display equation in the solution"
    inside, scrolls, overflow = result["wide_math"][0]
    assert inside and scrolls and overflow == "auto", result["wide_math"]


def test_feedback_page_renders_prompt_math_and_fits(tmp_path, feature_map):
    part = feature_map.parts[0]
    result = GradeResult(
        part.id, 0.0, part.points, Status.INCORRECT, "Too high by 1; the key must be matched exactly"
    )
    record = PartRecord(
        "s1", "Ada", 1, 1, feature_map.template_id, feature_map.title, feature_map.params, part,
        "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]", result, None, None,
    )  # fmt: skip
    page = student_report_html("Quiz", "s1", "Ada", [record], {1: feature_map.text})
    assert "$3 \\times 3$" not in page
    got = _layout(page, tmp_path, "feedback")
    _fits(got)
    assert got["prompts_math"] >= 1 and got["raw_dollars"] == 0, got
