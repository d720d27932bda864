"""Feedback reports: per student (HTML and Markdown) and for the class (HTML with an inline SVG
histogram of the totals, item analysis and collusion flags).

HTML goes through jinja2 with autoescape and ``StrictUndefined``: names, answers and feedback
are escaped; only the question text (rendered to HTML with MathML by :mod:`quizgen.markup`) and
our own SVG are inserted as markup. The templates live in this module so that they ship with it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from quizgen.formatting import plain
from quizgen.models import Status
from quizgen.selection import answer_text as selection_answer_text
from quizgen.selection import is_selection

from .analysis import ItemStats, PartRecord, StudentTotal
from .collusion import CollusionFlag

__all__ = ["class_report_html", "histogram_svg", "student_report_html", "student_report_md"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _pts(x: float) -> str:
    """Points for display: 1.5, 2, 0.333."""
    if not math.isfinite(x):
        return "—"
    return f"{x:.3g}" if abs(x - round(x)) > 1e-9 else str(round(x))


def _short(text, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis (the cell's title
    attribute keeps the whole)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expected_text(part) -> str:
    """The right answer as a student would type it (with the option text for a choice)."""
    if is_selection(part.kind):
        return selection_answer_text(part)
    if part.options:
        letter = str(part.expected)
        index = LETTERS.find(letter)
        return f"{letter} ({part.options[index]})" if 0 <= index < len(part.options) else letter
    try:
        return plain(part.expected, sig=8)
    except (TypeError, ValueError):
        return str(part.expected)


def _question_html(text: str) -> Markup:
    try:
        from quizgen.markup import to_html

        return to_html(text)
    except (ValueError, ImportError):
        return Markup("<p>") + escape(text) + Markup("</p>")


@dataclass(frozen=True)
class _Question:
    number: int
    title: str
    text: str
    points: float
    max_points: float
    parts: tuple[PartRecord, ...]


def _questions(records: Sequence[PartRecord], texts: Mapping[int, str]) -> list[_Question]:
    by_number: dict[int, list[PartRecord]] = {}
    for r in records:
        by_number.setdefault(r.number, []).append(r)
    return [
        _Question(
            n,
            rs[0].title or rs[0].template_id,
            texts.get(n, ""),
            sum(r.points for r in rs),
            sum(r.part.points for r in rs),
            tuple(rs),
        )
        for n, rs in sorted(by_number.items())
    ]


_STATUS_TEXT = {
    Status.CORRECT: "correct",
    Status.PARTIAL: "partly correct",
    Status.INCORRECT: "incorrect",
    Status.BLANK: "no answer",
    Status.FORMAT_ERROR: "could not be read",
}

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
body.wide{max-width:76rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top;overflow-wrap:break-word}th{background:#f4f4f4}
code{white-space:pre-wrap;overflow-wrap:anywhere}.num{text-align:right;white-space:nowrap}
td p{margin:0 0 .3rem}td p:last-child{margin:0}math[display="block"]{max-width:100%;overflow-x:auto;overflow-y:hidden}
.question{overflow-x:auto}
tr.correct td.status{color:#176a2c}tr.incorrect td.status,tr.format_error td.status{color:#a11}
tr.partial td.status{color:#8a5a00}tr.blank td.status{color:#666}.total{font-size:1.2rem}
section{border-top:1px solid #ddd;margin-top:1.5rem}.note{color:#555;font-size:.9rem}
table.items{table-layout:fixed;font-size:.9rem}table.items th{font-size:.85rem;overflow-wrap:normal;hyphens:auto}
table.items th.num{white-space:normal}
table.items .one{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
details summary{cursor:pointer;color:#355f8c}details[open] summary{margin-bottom:.2rem}
"""

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader(
        {
            "student.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ exam_title }} — {{ name }}</title>
<style>{{ css }}</style></head><body>
<h1>{{ exam_title }}</h1>
<p>{{ name }} ({{ student_id }})</p>
{% if questions %}<p class="total">Total: <strong>{{ pts(total) }}</strong> of {{ pts(max_total) }} points</p>
{% else %}<p class="total">No answers from you were received: absent, not graded.</p>
{% endif %}
{% for q in questions %}<section>
<h2>Question {{ q.number }}: {{ q.title }} — {{ pts(q.points) }} / {{ pts(q.max_points) }}</h2>
<div class="question">{{ question_html(q.text) }}</div>
<table><tr><th>Part</th><th>Your answer</th><th>Right answer</th><th>Points</th><th>Result</th><th>Feedback</th></tr>
{% for r in q.parts %}<tr class="{{ r.result.status.value }}">
<td><strong>({{ r.part.id }})</strong> {{ question_html(r.part.prompt) }}</td>
<td>{% if r.response %}<code>{{ r.response }}</code>{% else %}—{% endif %}</td>
<td><code>{{ expected(r.part) }}</code></td>
<td class="num">{{ pts(r.points) }} / {{ pts(r.part.points) }}</td>
<td class="status">{{ status_text[r.result.status] }}</td>
<td>{{ question_html(r.result.feedback) }}{% if r.override_reason %} <span class="note">(set by hand: {{ r.override_reason }})</span>{% endif %}</td>
</tr>{% endfor %}</table>
</section>{% endfor %}
</body></html>
""",
            "class.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ exam_title }} — grading report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{{ css }}</style></head><body class="wide">
<h1>{{ exam_title }} — grading report</h1>
<p>{{ totals|length }} students graded{% if absent %}, {{ absent|length }} absent{% endif %}; mean {{ pts(summary.mean) }}, median {{ pts(summary.median) }},
standard deviation {{ pts(summary.sd) }}, lowest {{ pts(summary.low) }}, highest {{ pts(summary.high) }}
of {{ pts(summary.max) }} points.</p>
<h2>Score distribution</h2>
{{ svg }}
<h2>Items</h2>
<p class="note">Difficulty is the mean score as a fraction (higher is easier); discrimination is the
correlation of the part's score with the rest of the exam (below 0.2 deserves a look).</p>
<table class="items"><colgroup><col style="width:16%"><col style="width:4%"><col style="width:4%">
<col style="width:7%"><col style="width:7%"><col style="width:8%"><col style="width:6%"><col style="width:7%">
<col style="width:17%"><col style="width:14%"><col style="width:10%"></colgroup>
<tr><th>Template</th><th>Part</th><th class="num">n</th><th class="num">Mean points</th>
<th class="num">Difficulty</th><th class="num">Discrimi&shy;nation</th><th class="num">Blank</th>
<th class="num">Unreadable</th><th>Common wrong answers</th><th>Mistakes matched</th><th>By parameter</th></tr>
{% for it in items %}<tr><td class="tid">{{ it.template_id }}</td><td>{{ it.part_id }}</td><td class="num">{{ it.n }}</td>
<td class="num">{{ pts(it.mean_points) }} / {{ pts(it.max_points) }}</td><td class="num">{{ "%.2f"|format(it.difficulty) }}</td>
<td class="num">{{ "—" if it.discrimination is none else "%.2f"|format(it.discrimination) }}</td>
<td class="num">{{ "%.0f%%"|format(100 * it.blank) }}</td><td class="num">{{ "%.0f%%"|format(100 * it.format_errors) }}</td>
<td class="list">{% for a, c in it.common_wrong[:3] %}<code class="one" title="{{ a }}">{{ a }} ×{{ c }}</code>{% endfor %}
{% if it.common_wrong|length > 3 %}<details><summary>{{ it.common_wrong|length - 3 }} more</summary>{% for a, c in it.common_wrong[3:] %}<code class="one" title="{{ a }}">{{ a }} ×{{ c }}</code>{% endfor %}</details>{% endif %}</td>
<td class="list">{% for m, f, c in it.mistakes[:3] %}<span class="one" title="{{ m }}: {{ f }}">{{ m }} ×{{ c }}</span>{% endfor %}
{% if it.mistakes|length > 3 %}<details><summary>{{ it.mistakes|length - 3 }} more</summary>{% for m, f, c in it.mistakes[3:] %}<span class="one" title="{{ m }}: {{ f }}">{{ m }} ×{{ c }}</span>{% endfor %}</details>{% endif %}</td>
<td class="list">{% if it.by_param %}<details><summary>{{ it.by_param|length }} parameter{{ "s" if it.by_param|length != 1 else "" }}</summary>{% for b in it.by_param %}{{ b.name }}: {% for v, n, s in b.values %}{{ short(v) }} → {{ "%.2f"|format(s) }} (n={{ n }}){% if not loop.last %}, {% endif %}{% endfor %}<br>{% endfor %}</details>{% endif %}</td>
</tr>{% endfor %}</table>
<h2>Possible collusion</h2>
{% if flags %}<p class="note">Pairs whose shared wrong answers the class's own answers make improbable: a wrong
answer equal to the other student's right answer for their own variant, or the same rare wrong answer. The p-value is
the chance that a classmate drawn at random shares this much; corrected, it is multiplied by the number of pairs.
Evidence to look at, not proof.</p>
<table><tr><th>Student</th><th>Shares with</th><th class="num">p (corrected)</th><th>Evidence</th></tr>
{% for f in flags %}<tr><td>{{ f.student_id }}</td><td>{{ f.other_id }}</td><td class="num">{{ "%.2g"|format(f.corrected) }}</td><td>{% for e in f.evidence %}{{ e }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td></tr>{% endfor %}
</table>{% else %}<p>None.</p>{% endif %}
<h2>Absent</h2>
{% if absent %}<p class="note">No answer from these students in any responses file: not graded, empty in grades.csv, left
out of the statistics above.</p>
<ul>{% for sid, name in absent %}<li>{{ sid }}{% if name %} ({{ name }}){% endif %}</li>{% endfor %}</ul>
{% else %}<p>None.</p>{% endif %}
{% if warnings %}<h2>Warnings</h2><ul>{% for w in warnings %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
</body></html>
""",
        }
    ),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.globals.update(
    short=_short,
    pts=_pts,
    expected=expected_text,
    question_html=_question_html,
    status_text=_STATUS_TEXT,
    css=Markup(_CSS),
)


def student_report_html(
    exam_title: str, student_id: str, name: str, records: Sequence[PartRecord], texts: Mapping[int, str]
) -> str:
    """One student's feedback page: each question's text, their answers, the right answers,
    points and feedback. ``texts`` maps printed question number to the question text."""
    questions = _questions(records, texts)
    return _ENV.get_template("student.html").render(
        exam_title=exam_title,
        student_id=student_id,
        name=name or student_id,
        questions=questions,
        total=sum(q.points for q in questions),
        max_total=sum(q.max_points for q in questions),
    )


def _md_code(text: str) -> str:
    text = " ".join(str(text).split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def student_report_md(
    exam_title: str, student_id: str, name: str, records: Sequence[PartRecord], texts: Mapping[int, str]
) -> str:
    """The same report as Markdown."""
    questions = _questions(records, texts)
    total, max_total = sum(q.points for q in questions), sum(q.max_points for q in questions)
    lines = [
        f"# {exam_title}",
        "",
        f"{name or student_id} ({student_id})",
        "",
        f"**Total: {_pts(total)} of {_pts(max_total)} points**"
        if questions
        else "**No answers from you were received: absent, not graded.**",
    ]
    for q in questions:
        lines += ["", f"## Question {q.number}: {q.title} — {_pts(q.points)} / {_pts(q.max_points)}", ""]
        if q.text.strip():
            lines += [q.text.strip(), ""]
        for r in q.parts:
            status = _STATUS_TEXT[r.result.status]
            lines.append(
                f"- **({r.part.id})** {' '.join(r.part.prompt.split())} — {_pts(r.points)} / {_pts(r.part.points)} points, {status}"
            )
            lines.append(f"  - Your answer: {_md_code(r.response) if r.response else '(none)'}")
            lines.append(f"  - Right answer: {_md_code(expected_text(r.part))}")
            feedback = " ".join(r.result.feedback.split())
            if r.override_reason:
                feedback += f" (set by hand: {r.override_reason})"
            lines.append(f"  - Feedback: {feedback}")
    return "\n".join(lines) + "\n"


def histogram_svg(totals: Sequence[float], max_points: float, *, bins: int = 10) -> Markup:
    """An inline SVG bar chart of the totals over [0, max_points] in ``bins`` equal bins."""
    width, height, left, bottom, top = 480, 200, 36, 28, 10
    top_value = max(max_points, max(totals, default=0.0), 1e-9)
    counts = [0] * bins
    for t in totals:
        counts[min(bins - 1, max(0, int(t / top_value * bins)))] += 1
    peak = max(counts) or 1
    bar_w = (width - left - 4) / bins
    plot_h = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="histogram of total scores" font-family="sans-serif" font-size="10">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#333"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>',
    ]
    for i, c in enumerate(counts):
        h = c / peak * plot_h
        x = left + i * bar_w
        lo, hi = top_value * i / bins, top_value * (i + 1) / bins
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            f'fill="#4a7bb7"><title>{_pts(lo)}–{_pts(hi)}: {c}</title></rect>'
        )
    for i in range(0, bins + 1, max(1, bins // 5)):
        x = left + i * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 14}" text-anchor="middle">{_pts(top_value * i / bins)}</text>'
        )
    parts.append(
        f'<text x="{(left + width) / 2:.0f}" y="{height - 2}" text-anchor="middle">total points</text>'
    )
    parts.append("</svg>")
    return Markup("\n".join(parts))


@dataclass(frozen=True)
class _Summary:
    mean: float
    median: float
    sd: float
    low: float
    high: float
    max: float


def class_report_html(
    exam_title: str,
    totals: Sequence[StudentTotal],
    items: Sequence[ItemStats],
    flags: Sequence[CollusionFlag],
    warnings: Sequence[str] = (),
    *,
    absent: Sequence[tuple[str, str]] = (),
) -> str:
    """The class report: summary, score histogram, item analysis, collusion flags, the absent
    students (``(id, name)``, not in ``totals``), warnings."""
    scores = [t.points for t in totals]
    max_points = max((t.max_points for t in totals), default=0.0)
    summary = _Summary(
        mean=statistics.fmean(scores) if scores else math.nan,
        median=statistics.median(scores) if scores else math.nan,
        sd=statistics.pstdev(scores) if scores else math.nan,
        low=min(scores, default=math.nan),
        high=max(scores, default=math.nan),
        max=max_points,
    )
    return _ENV.get_template("class.html").render(
        exam_title=exam_title,
        totals=totals,
        summary=summary,
        svg=histogram_svg(scores, max_points),
        items=items,
        flags=flags,
        warnings=warnings,
        absent=absent,
    )
