"""Does a template teach? Its quality measured over many draws (issue 15).

The self-check (:mod:`quizgen.selfcheck`) proves every instance is right; these rules ask whether
the draws can test what the question is meant to test. Over ``seeds`` instances built with
:func:`engine.build_instances` (the instance's parts carry each known mistake's value and whether
it differs from the key under the part's tolerance), per template:

- ``visibility`` (part, mistake): the share of draws in which the mistake's value is
  distinguishable from the key; at least :data:`MIN_VISIBILITY`.
- ``constant`` (part): the key differs between draws.
- ``zero`` (part): the key is all zeros in at most ``1 - MIN_NONZERO`` of the draws;
  ``zero_element`` (array parts): no element is zero in more than ``1 - MIN_NONZERO`` of them.
- ``options`` (choice part): at least :data:`MIN_OPTIONS` distinct options in every draw.
- ``no_mistake`` (part): the part knows at least one mistake.
- ``variants``: at least :data:`MIN_VARIANTS` distinct parameter sets in :data:`VARIANT_DRAWS`
  draws (always that many, however many instances are built: the count depends on the draws).
- ``solution``: the rendered text, solution, prompts and key show no negative number after an
  operator or under a power without parentheses, no float noise (``1.110223e-16``) and no empty
  placeholder (``σ(·_r + ·_r)``).

A template may declare an exception to a rule in its YAML (``quality:``, checked by the bank
loader), always with a reason and optionally with a lower ``min`` that still has to hold.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import engine, expressions
from .errors import QuizgenError
from .models import Instance, InstancePart, QualityException, Template
from .output import answer_text
from .seeding import rng_factories
from .selection import is_selection, mistake_ids, option_of, split_letters
from .selection import labels as option_labels

#: A mistake must differ from the key in at least this share of draws.
MIN_VISIBILITY = 0.95
#: A part's key may be all zeros (or have a zero element) in at most 1 - this share of draws.
MIN_NONZERO = 0.95
#: Distinct parameter sets a template must have in VARIANT_DRAWS draws.
MIN_VARIANTS = 200
VARIANT_DRAWS = 1000
#: Distinct options every multiple-choice part must offer.
MIN_OPTIONS = 4
#: Each named misconception of a text-option part must be a possible wrong answer in this share.
MIN_CASE_SHARE = 0.05
#: The share of draws in which a true/false statement is true must lie in this range.
BALANCE = (0.3, 0.7)
#: Instances built per template by default (the CLI); tests use fewer.
DEFAULT_SEEDS = 1000
#: |x| at or below this counts as zero (float round-off of an exact zero included).
ZERO = 1e-12

#: What a rendered text must not contain: (pattern, what is wrong, the fix).
TEXT_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (
        re.compile(r"(?:[+\-*/×·]|\\cdot|\\times)\s*[-−]\s*\d"),
        "a negative number right after an operator; write it in parentheses, e.g. 1 - (-0.46)",
    ),
    (
        re.compile(r"(?<![\w.)}\]])[-−]\d+(?:\.\d+)?\s*\^|\{[-−]\d+(?:\.\d+)?\}\s*\^"),
        "a negative number under a power without parentheses; write (-0.46)^2",
    ),
    (
        re.compile(r"\d(?:\.\d+)?e-(?:1[1-9]|[2-9]\d)\b|10\^\{-(?:1[1-9]|[2-9]\d)\}"),
        "float round-off noise such as 1.110223e-16; the value is 0 (round it in the reference or the text)",
    ),
    (
        re.compile(r"·_|\\cdot_[a-z]\b|\(\s*[+*/]|[+\-*/]\s*\)|(?<![\w`])\(\s*\)|\[\s*\]"),
        "an empty placeholder (a value that rendered as nothing); print the number",
    ),
    (
        re.compile(r"\bcourse notes? \d", re.IGNORECASE),
        "a citation of one course's notes, which another course's students never saw; remove it",
    ),
)


@dataclass(frozen=True)
class Finding:
    """One rule measured on one template: ``value`` against ``threshold`` (higher is better)."""

    check: str
    part: str
    mistake: str
    value: float
    threshold: float
    message: str
    declared: QualityException | None = None  # the template's setting for this rule, if any

    @property
    def ok(self) -> bool:
        """Passes its threshold, or the template waives the rule (a declared entry without min)."""
        waived = self.declared is not None and self.declared.minimum is None
        return waived or self.value >= self.threshold

    def problem(self) -> str:
        if self.declared is not None:
            return f"{self.message} (below the declared minimum {self.threshold:g})"
        return self.message


@dataclass(frozen=True)
class QualityReport:
    """What :func:`measure` found for one template, and the problems (one line each)."""

    template_id: str
    source: str
    seeds: int
    variants: int
    variant_draws: int
    findings: tuple[Finding, ...]
    problems: tuple[str, ...]

    def visibility(self) -> list[Finding]:
        return [f for f in self.findings if f.check == "visibility"]

    def options(self) -> list[Finding]:
        return [f for f in self.findings if f.check == "options"]

    def to_dict(self) -> dict:
        return {
            "template_id": self.template_id,
            "seeds": self.seeds,
            "variants": self.variants,
            "variant_draws": self.variant_draws,
            "visibility": {f"{f.part}/{f.mistake}": round(f.value, 4) for f in self.visibility()},
            "min_options": {f.part: int(f.value) for f in self.options()},
            "problems": list(self.problems),
        }


# ----------------------------------------------------------------------------------- measuring


def count_variants(
    template: Template,
    draws: int = VARIANT_DRAWS,
    known: Sequence[Instance] = (),
    *,
    enough: int | None = None,
) -> int:
    """Distinct parameter sets among the accepted draws of seeds 0 .. draws-1; ``known`` are
    instances already built from the first of these seeds (their parameters are reused). With
    ``enough``, counting stops once that many are seen (what a pass/fail check needs)."""
    seen = {json.dumps(i.params, sort_keys=True) for i in known[:draws]}
    rest = range(len(known), draws)
    for seed, rng in zip(rest, rng_factories(rest), strict=True):
        if enough is not None and len(seen) >= enough:
            break
        params = engine.sample(template, seed, rng()).params
        seen.add(json.dumps(expressions.to_plain(params), sort_keys=True))
    return len(seen)


def _numbers(value) -> np.ndarray | None:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def _key_value(part: InstancePart):
    """What the key says, comparable across draws: the number(s), or a choice's option text
    (the text-option kinds: the key's option texts, so a shuffled order is not a new key)."""
    if is_selection(part.kind):
        texts = [option_of(part, x) for x in split_letters(part.expected)]
        return "; ".join(texts if part.kind == "ordering" else sorted(texts))
    if part.kind == "choice":
        return part.options["ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(part.expected)]
    return part.expected


def _texts(instance: Instance) -> Iterable[tuple[str, str]]:
    """(where, text) of everything a student or grader reads."""
    yield "text", instance.text
    yield "solution", instance.solution
    for part in instance.parts:
        yield f"part {part.id} prompt", part.prompt
        yield f"part {part.id} key", answer_text(part)
        for letter, option in zip(option_labels(part), part.options, strict=False):
            yield f"part {part.id} option {letter}", option
        for m in part.mistakes:
            yield f"part {part.id} mistake {m.id} feedback", m.feedback


def _selection_findings(
    part, visible: Counter, true_keys: Counter, min_options: dict, n: int
) -> list[Finding]:
    """The rules for a text-option part. ``visibility``: each named misconception (a wrong
    option, a true/false case, a wrong order) is a possible wrong answer in at least
    :data:`MIN_CASE_SHARE` of the draws: an option whose truth depends on the draw, or a case
    that applies to one kind of false claim, is wrong only in some draws by design, so the
    numeric parts' 95% does not apply. ``options``: text choice, multiple select and ordering
    offer at least :data:`MIN_OPTIONS` (true/false has two by nature: not checked).
    ``balance`` (true/false): the statement is true in :data:`BALANCE` of the draws."""
    out = []
    for mid in mistake_ids(part):
        share = visible[part.id, mid] / n
        out.append(
            Finding(
                "visibility",
                part.id,
                mid,
                share,
                MIN_CASE_SHARE,
                f"part {part.id}, mistake {mid}: a possible wrong answer in {share:.0%} of {n} draws "
                f"(needs {MIN_CASE_SHARE:.0%}); let the draws reach it",
            )
        )
    if not mistake_ids(part):
        out.append(
            Finding("no_mistake", part.id, "", 0, 1, f"part {part.id}: knows no mistake; add a realistic one")
        )
    if part.kind == "true_false":
        share = true_keys[part.id] / n
        low, high = BALANCE
        out.append(
            Finding(
                "balance",
                part.id,
                "",
                min(share, 1 - share),
                low,
                f"part {part.id}: the statement is true in {share:.0%} of {n} draws (needs {low:.0%} to {high:.0%}); "
                "draw false claims about as often as true ones",
            )
        )
    else:
        k = min_options.get(part.id, 0)
        out.append(
            Finding(
                "options",
                part.id,
                "",
                k,
                MIN_OPTIONS,
                f"part {part.id}: as few as {k} options (needs {MIN_OPTIONS}); add realistic options",
            )
        )
    return out


_CODE = re.compile(r"`[^`]*`")


def text_problems(text: str) -> list[str]:
    """What is wrong in one rendered text (:data:`TEXT_RULES`), each with the offending excerpt;
    inline code (`` `nn.GELU()` ``) is not checked."""
    out = []
    text = _CODE.sub("`code`", text) if "`" in text else text
    for pattern, what in TEXT_RULES:
        m = pattern.search(text)
        if m:
            lo, hi = max(0, m.start() - 15), min(len(text), m.end() + 10)
            excerpt = " ".join(text[lo:hi].split())
            out.append(f"{what} (…{excerpt}…)")
    return out


def measure(
    template: Template,
    *,
    seeds: int = DEFAULT_SEEDS,
    variant_draws: int = VARIANT_DRAWS,
    exact_variants: bool = True,
) -> QualityReport:
    """Every rule of this module over instances of seeds 0 .. seeds-1 (see the module docstring).
    Without ``exact_variants`` the variants are counted only up to the rule's threshold (faster)."""
    where = f"{template.source}: template {template.id}"
    try:
        instances = engine.build_instances(template, range(seeds))
        needed = None if exact_variants else _variant_threshold(template)
        variants = count_variants(template, variant_draws, instances, enough=needed)
    except QuizgenError as exc:
        return QualityReport(
            template.id, template.source, seeds, 0, variant_draws, (), (f"{where}: {exc.message}",)
        )
    findings: list[Finding] = []
    n = len(instances)
    visible: Counter = Counter()
    zero_key: Counter = Counter()
    zero_elem: Counter = Counter()
    min_options: dict[str, int] = {}
    true_keys: Counter = Counter()
    keys: dict[str, set] = {p.id: set() for p in template.parts}
    bad_text: dict[str, tuple[int, str]] = {}  # problem -> (seed, where) of its first draw
    for inst in instances:
        for part in inst.parts:
            for m in part.mistakes:
                visible[part.id, m.id] += m.distinguishable
            key = _key_value(part)
            keys[part.id].add(json.dumps(key) if not isinstance(key, str) else key)
            if part.kind == "choice" or is_selection(part.kind):
                min_options[part.id] = min(min_options.get(part.id, 99), len(set(part.options)))
                if is_selection(part.kind) and part.kind == "true_false":
                    true_keys[part.id] += part.expected == "T"
                continue
            arr = _numbers(part.expected)
            if arr is not None:
                is_zero = np.abs(arr) <= ZERO
                zero_key[part.id] += bool(is_zero.all())
                zero_elem[part.id] += bool(arr.ndim > 0 and is_zero.any())
        for place, text in _texts(inst):
            for what in text_problems(text):
                bad_text.setdefault(f"{place}: {what}", (inst.seed, place))
    for part in template.parts:
        if is_selection(part.kind):
            findings.extend(_selection_findings(part, visible, true_keys, min_options, n))
            if len(keys[part.id]) <= 1 and n > 1:
                findings.append(
                    Finding(
                        "constant",
                        part.id,
                        "",
                        0,
                        1,
                        f"part {part.id}: the right option(s) are the same in all {n} draws (only their order is "
                        "shuffled); make the truth depend on the draw, or declare the exception with a reason",
                    )
                )
            continue  # the zero rules are about numbers: they do not apply to option letters
        for m in part.mistakes:
            share = visible[part.id, m.id] / n
            findings.append(
                Finding(
                    "visibility",
                    part.id,
                    m.id,
                    share,
                    MIN_VISIBILITY,
                    f"part {part.id}, mistake {m.id}: differs from the key in {share:.0%} of {n} draws "
                    f"(needs {MIN_VISIBILITY:.0%}); constrain the parameters so it shows",
                )
            )
        if not part.mistakes:
            findings.append(
                Finding(
                    "no_mistake", part.id, "", 0, 1, f"part {part.id}: knows no mistake; add a realistic one"
                )
            )
        if len(keys[part.id]) <= 1 and n > 1:
            findings.append(
                Finding(
                    "constant", part.id, "", 0, 1, f"part {part.id}: the answer is the same in all {n} draws"
                )
            )
        if part.kind == "choice":
            k = min_options.get(part.id, 0)
            findings.append(
                Finding(
                    "options",
                    part.id,
                    "",
                    k,
                    MIN_OPTIONS,
                    f"part {part.id}: as few as {k} distinct options (needs {MIN_OPTIONS}); "
                    "add realistic mistakes or raise choices:",
                )
            )
            continue
        nonzero = 1 - zero_key[part.id] / n
        if nonzero < 1:
            findings.append(
                Finding(
                    "zero",
                    part.id,
                    "",
                    nonzero,
                    MIN_NONZERO,
                    f"part {part.id}: the answer is zero in {1 - nonzero:.0%} of {n} draws; redraw such cases",
                )
            )
        no_zero_elem = 1 - zero_elem[part.id] / n
        if no_zero_elem < 1:
            findings.append(
                Finding(
                    "zero_element",
                    part.id,
                    "",
                    no_zero_elem,
                    0.0,  # zeros are what ReLU, max-pool routes and dropout masks teach: on by request
                    f"part {part.id}: some element of the answer is zero in {1 - no_zero_elem:.0%} of {n} draws",
                )
            )
    findings.append(
        Finding(
            "variants",
            "",
            "",
            variants,
            MIN_VARIANTS,
            f"{variants} distinct parameter sets in {variant_draws} draws (needs {MIN_VARIANTS}); widen the ranges",
        )
    )
    text_share = 1 - len({seed for seed, _ in bad_text.values()}) / n if bad_text else 1.0
    first = next(iter(bad_text.items()), None)
    findings.append(
        Finding(
            "solution",
            "",
            "",
            text_share,
            1.0,
            f"seed {first[1][0]}, {first[0]}"
            + (f" (and {len(bad_text) - 1} more)" if len(bad_text) > 1 else "")
            if first
            else "",
        )
    )
    findings = [_apply_declared(template, f) for f in findings]
    problems = [f"{where}: {f.problem()}" for f in findings if not f.ok]
    return QualityReport(
        template.id, template.source, n, variants, variant_draws, tuple(findings), tuple(problems)
    )


def _variant_threshold(template: Template) -> int:
    for e in template.quality:
        if e.check == "variants":
            return 0 if e.minimum is None else int(e.minimum)
    return MIN_VARIANTS


def _apply_declared(template: Template, finding: Finding) -> Finding:
    """The finding under the template's declared setting for its rule, if any: without ``min``
    the rule is waived for it, with ``min`` that is its threshold."""
    for e in template.quality:
        if (e.check, e.part, e.mistake) == (finding.check, finding.part, finding.mistake):
            threshold = finding.threshold if e.minimum is None else e.minimum
            return replace(finding, threshold=threshold, declared=e)
    return finding


def check_bank(
    bank,
    *,
    seeds: int = DEFAULT_SEEDS,
    exact_variants: bool = True,
    progress: Callable[[QualityReport], None] | None = None,
) -> list[QualityReport]:
    """:func:`measure` for every template of ``bank``, in id order."""
    reports = []
    for template in bank.select():
        report = measure(template, seeds=seeds, exact_variants=exact_variants)
        reports.append(report)
        if progress:
            progress(report)
    return reports


def format_stats(report: QualityReport) -> list[str]:
    """The lines ``quizgen bank stats`` prints for one template."""
    lines = [f"{report.template_id}: {report.variants} variants in {report.variant_draws} draws"]
    for f in report.findings:
        if f.check == "visibility":
            mark = "  (declared: " + f.declared.reason + ")" if f.declared else ("" if f.ok else "  LOW")
            lines.append(f"  {f.part}/{f.mistake}: visible in {f.value:.0%}{mark}")
        elif f.check == "options":
            lines.append(f"  {f.part}: at least {int(f.value)} options")
    lines.extend(
        f"  declared {f.check}{' ' + f.part if f.part else ''}: {f.declared.reason}"
        for f in report.findings
        if f.declared is not None and f.check != "visibility"
    )
    lines.extend(f"  problem: {p.split(': ', 2)[-1]}" for p in report.problems)
    return lines
