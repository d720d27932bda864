"""The generated HTML paper in a real headless Chromium, with the network off.

The page is loaded with a probe script appended (the paper itself has no JavaScript) that
reports, through the document title, whether every <math> element was laid out as MathML with
a real size. Chromium's console is captured on stderr and must hold no errors. Skipped, saying
why, only where no Chromium is installed (Debian: ``apt-get install chromium``).
"""

import json
import subprocess
from pathlib import Path

import pytest
from headless import BROWSER, chromium

from quizgen import exam, output
from quizgen.markup import to_html

EXAMS = Path(__file__).parent / "fixtures" / "exams"

PROBE = """
<script>
window.addEventListener("load", () => {
  const maths = [...document.querySelectorAll("math")];
  const boxes = maths.map(m => m.getBoundingClientRect());
  const result = {
    count: maths.length,
    laid_out: boxes.filter(b => b.width > 0 && b.height > 0).length,
    mathml_display: maths.filter(m => getComputedStyle(m).display.includes("math")).length,
    tall: [...document.querySelectorAll("mfrac, mtable")].filter(
      f => f.tagName === "mfrac" || f.querySelectorAll("mtr").length > 1).map(
      f => f.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(f).fontSize)),
  };
  document.title = "PROBE" + JSON.stringify(result);
});
</script>
"""


@pytest.mark.browser
@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed (apt-get install chromium)")
def test_paper_math_renders_offline_with_no_console_errors(tmp_path, fixture_bank):
    spec = exam.load_spec(EXAMS / "small.yaml", fixture_bank)
    manifest = exam.build_exam(spec, exam.load_roster(EXAMS / "roster.csv"))
    html = output.render_paper(manifest.exam, manifest.students[0], key=True, fmt="html")
    page = tmp_path / "paper.html"
    # a fraction and a two-row matrix, which only MathML layout makes taller than a text line
    tall = str(to_html(r"$$\frac{1}{2} \begin{bmatrix} 1 \\ 2 \end{bmatrix}$$"))
    page.write_text(html.replace("</body>", tall + PROBE + "</body>"), encoding="utf-8")
    cmd = chromium(
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    )
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "<title>PROBE" in run.stdout, run.stderr[-3000:]
    title = run.stdout.split("<title>PROBE", 1)[1].split("</title>", 1)[0]
    result = json.loads(title.replace("&quot;", '"'))
    assert result["count"] > 0
    assert result["laid_out"] == result["count"]
    assert result["mathml_display"] == result["count"]
    assert len(result["tall"]) >= 2 and all(result["tall"])
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
