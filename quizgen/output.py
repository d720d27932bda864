"""Write a generated exam to its output folder.

    OUT/manifest.json                 every instance, expected answers and mistakes (for grading)
    OUT/papers/<student>.html, .md    one paper per student (self-contained HTML, MathML math)
    OUT/keys/<student>.html, .md      answer key with worked solutions
    OUT/overview.html                 templates used, variants, answer ranges
    OUT/responses_template.csv        one row per student, a column per q<number>.<part>

Everything is first written into a fresh folder beside OUT and moved into place only when all of
it has been written, so a failure never leaves a half-written exam or loses an earlier one's
files; the manifest is moved last.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import jinja2
import numpy as np

from .formatting import FILTERS, num, plain
from .manifest import Manifest, StudentPaper
from .markup import to_html
from .models import InstancePart


def answer_text(part: InstancePart) -> str:
    """The expected answer as a student would type it (option letter and text for choices)."""
    if part.options:
        index = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(part.expected)
        return f"{part.expected} ({part.options[index]})"
    return plain(part.expected, sig=8)


def _page_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("quizgen", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.filters["html"] = to_html
    env.filters["answer_text"] = answer_text
    return env


PAGES = _page_env()


def _sections(paper: StudentPaper) -> list[tuple[str, list]]:
    out: list[tuple[str, list]] = []
    for q in paper.questions:
        if not out or out[-1][0] != q.section:
            out.append((q.section, []))
        out[-1][1].append(q)
    return out


def render_paper(manifest: Manifest, paper: StudentPaper, *, key: bool, fmt: str) -> str:
    """A student's paper (``key=False``) or answer key, as ``html`` or ``md``."""
    title = f"{manifest.exam['title']} — {paper.name or paper.id}" + (" — answer key" if key else "")
    return PAGES.get_template(f"paper.{fmt}.j2").render(
        title=title, exam=manifest.exam, paper=paper, sections=_sections(paper), key=key
    )


def _range_text(values: list) -> str:
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    if all(a.ndim == 0 for a in arrays):
        return f"{num(min(arrays))} … {num(max(arrays))}"
    shapes = sorted({a.shape for a in arrays})
    flat = np.concatenate([a.ravel() for a in arrays])
    return f"shapes {', '.join(map(str, shapes))}; entries {num(flat.min())} … {num(flat.max())}"


def overview_rows(manifest: Manifest) -> list[dict]:
    """One row per exam slot and part: the template, how many distinct variants, answer range."""
    by_slot: dict[int, list] = defaultdict(list)
    for paper in manifest.students:
        for q in paper.questions:
            by_slot[q.slot].append(q)
    rows = []
    for slot in sorted(by_slot):
        qs = by_slot[slot]
        first = qs[0].instance
        variants = len({repr(sorted(q.instance.params.items())) for q in qs})
        for i, part in enumerate(first.parts):
            values = [q.instance.parts[i].expected for q in qs]
            if part.options:
                counts = defaultdict(int)
                for v in values:
                    counts[v] += 1
                value_range = "correct option: " + ", ".join(f"{k}×{counts[k]}" for k in sorted(counts))
            else:
                value_range = _range_text(values)
            n_known = np.mean([sum(m.distinguishable for m in q.instance.parts[i].mistakes) for q in qs])
            rows.append(
                {
                    "slot": slot,
                    "section": qs[0].section,
                    "template": first.template_id,
                    "title": first.title,
                    "variants": variants,
                    "part": part.id,
                    "kind": part.kind,
                    "range": value_range,
                    "mistakes": f"{n_known:.1f} distinguishable on average",
                }
            )
    return rows


def response_template(manifest: Manifest) -> str:
    """A CSV to fill in: student_id, name, then q<number>.<part> for every printed question part."""
    columns: list[str] = []
    for paper in manifest.students:
        for q in paper.questions:
            for part in q.instance.parts:
                col = f"q{q.number}.{part.id}"
                if col not in columns:
                    columns.append(col)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", "name", *columns])
    for paper in manifest.students:
        writer.writerow([paper.id, paper.name, *([""] * len(columns))])
    return buf.getvalue()


def _safe_name(student_id: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in student_id)
    return cleaned.lstrip(".") or "student"


def write_exam(manifest: Manifest, out: str | Path, *, formats=("html", "md"), progress=None) -> list[Path]:
    """Write every file of the exam into ``out``; returns the paths written (manifest last)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".quizgen-", dir=out))
    try:
        files: list[Path] = []

        def put(rel: str, text: str) -> None:
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            files.append(Path(rel))

        names: dict[str, str] = {}
        for paper in manifest.students:
            name = _safe_name(paper.id)
            if name in names.values():
                name = f"{name}-{len(names)}"
            names[paper.id] = name
            for fmt in formats:
                put(f"papers/{name}.{fmt}", render_paper(manifest, paper, key=False, fmt=fmt))
                put(f"keys/{name}.{fmt}", render_paper(manifest, paper, key=True, fmt=fmt))
            if progress:
                progress(paper)
        put(
            "overview.html",
            PAGES.get_template("overview.html.j2").render(
                title=f"{manifest.exam['title']}: overview",
                exam=manifest.exam,
                n_students=len(manifest.students),
                rows=overview_rows(manifest),
            ),
        )
        put("responses_template.csv", response_template(manifest))
        put("manifest.json", manifest.to_json())
        for sub in {f.parent for f in files} - {Path(".")}:
            (out / sub).mkdir(parents=True, exist_ok=True)
        for rel in files:  # manifest.json was put last, so it is moved last
            os.replace(staging / rel, out / rel)
        return [out / rel for rel in files]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
