"""Grading trusts no answer key it reads: every instance of a manifest is redrawn from the bank.

A manifest is a file; whoever can write it could set their own part's ``expected`` (or a
mistake's value and credit, an option text, a tolerance, the points, the seed) to suit the
answers they gave. Before a manifest's papers enter the gradebook (:meth:`Gradebook.import_manifest`,
the one door of ``quizgen grade``, ``regrade --manifest``, the LMS responses import graded with
``quizgen grade``, and ``quizgen serve``), :func:`check_manifest`:

1. redraws each distinct (template id, seed, points) once with the generator
   (:func:`quizgen.engine.build_instances`) and requires the stored instance to equal the redrawn
   one, field by field: params, texts, and every part's kind, key, tolerance, points, options,
   dependencies and known mistakes (id, value, credit, feedback);
2. for a manifest that ``quizgen generate`` wrote (not one delivered in an LMS, which serves any
   student any variant), requires each seed to be the one generate derives,
   ``stable_seed(exam seed, student id, slot)``, each exam slot to hold the same template with the
   same points on every paper, and each paper's points to be the exam's.

The redraw costs about what generating the papers cost (a quarter of grading them), so it is
skipped, soundly, in two cases (``skip``):

- the gradebook remembers what it verified (the SHA-256 of each verified instance's stored
  text): a later import of the same papers (a second responses file, a resumed job, a regrade,
  serve starting again) redraws only the instances it has not seen;
- ``quizgen generate`` seals each instance it draws with an HMAC-SHA256 under the instructor's
  key (:func:`manifest_key`: a random key kept outside the exam folder, in
  ``~/.config/quizgen/manifest.key`` or the file ``$QUIZGEN_KEY_FILE`` names): whoever edits an
  instance without the key cannot make its seal, so an instance whose seal checks under the key
  is as generate drew it. Grading elsewhere (no key), an older manifest (no seals) or a broken
  seal falls back to the redraw.

The manifest records a fingerprint of each template it drew from (``exam.template_sha256``,
:func:`template_fingerprint`), so a manifest of a bank that changed since is told apart from an
edited one. A manifest from before fingerprints gets the message that covers both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import os
import secrets
from collections import defaultdict
from collections.abc import Collection, Mapping
from pathlib import Path

from . import __version__, engine
from .bank import Bank, load_bank
from .errors import QuizgenError, SpecError
from .manifest import Manifest, StudentPaper
from .models import Instance, InstancePart, Template
from .seeding import stable_seed

__all__ = [
    "KEY_ENV",
    "check_manifest",
    "instance_digest",
    "instance_json",
    "key_path",
    "manifest_key",
    "seal",
    "sealed_by_key",
    "sealed_student",
    "template_fingerprint",
]

#: The environment variable naming the key file (default: ``~/.config/quizgen/manifest.key``).
KEY_ENV = "QUIZGEN_KEY_FILE"

#: The template fields an instance is drawn from (tags, difficulty, quality notes and the file's
#: place are not: editing them changes no instance).
_DRAWN_FROM = ("id", "title", "params", "constraints", "steps", "text", "parts", "solution")


def _plain(value):
    """Dataclasses, mappings and tuples as JSON-ready data (for a fingerprint)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def template_fingerprint(template: Template) -> str:
    """SHA-256 (hex, first 16 digits) of what ``template`` draws instances from: its params,
    constraints, steps, texts and parts, as canonical JSON."""
    data = {name: _plain(getattr(template, name)) for name in _DRAWN_FROM}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def instance_json(instance: Instance) -> str:
    """An instance's text as the gradebook stores it and seals and digests are taken of."""
    return json.dumps(instance.to_dict())


def key_path() -> Path:
    """The instructor's key file: ``$QUIZGEN_KEY_FILE``, else ``$XDG_CONFIG_HOME`` (default
    ``~/.config``) ``/quizgen/manifest.key``."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "quizgen" / "manifest.key"


_KEYS: dict[tuple[str, bool], bytes | None] = {}


def manifest_key(*, create: bool = False) -> bytes | None:
    """The key of :func:`key_path` (64 hex digits of random bytes), made (readable by its owner
    only) when ``create`` and missing; None when there is none or it cannot be read or made."""
    path = key_path()
    cached = _KEYS.get((str(path), create))
    if cached is not None:
        return cached
    key = None
    try:
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temp, path)  # atomic, and never over a key another process just made
            except FileExistsError:
                pass
            finally:
                temp.unlink()
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            key = text.encode("ascii")
    except (OSError, UnicodeDecodeError):
        key = None
    if key is not None:
        _KEYS[(str(path), create)] = key
    return key


def seal(key: bytes, instance_text: str) -> str:
    """HMAC-SHA256 of an instance's text (:func:`instance_json`) under ``key``, in hex."""
    return hmac.new(key, instance_text.encode("utf-8"), hashlib.sha256).hexdigest()


def sealed_student(paper: StudentPaper) -> dict:
    """``paper.to_dict()`` with each question's seal, for generate to write (none when no key
    can be read or made: grading then redraws)."""
    data = paper.to_dict()
    key = manifest_key(create=True)
    if key is not None:
        for entry in data["questions"]:  # json.dumps of the same dict: instance_json's text
            entry["seal"] = seal(key, json.dumps(entry["instance"]))
    return data


def sealed_by_key(manifest: Manifest, texts: Mapping[tuple[str, int], str]) -> set[tuple[str, int]]:
    """(student id, number) of the questions whose seal is the HMAC of their instance's text
    (``texts``, :func:`instance_json`) under :func:`manifest_key`: as generate drew them."""
    key = manifest_key() if any(q.seal for p in manifest.students for q in p.questions) else None
    if key is None:
        return set()
    return {
        (p.id, q.number)
        for p in manifest.students
        for q in p.questions
        if q.seal and hmac.compare_digest(q.seal, seal(key, texts[(p.id, q.number)]))
    }


def instance_digest(instance_json: str) -> str:
    """The SHA-256 of an instance's stored JSON text (what the gradebook remembers as verified)."""
    return hashlib.sha256(instance_json.encode("utf-8")).hexdigest()


def _section_points(total: float) -> float:
    """The question's points as the exam spec gave them: the parts' sum less float noise
    (8.000000000000002 -> 8.0), which :func:`engine.build_instances` rescales the parts to."""
    return float(f"{total:.15g}")


def _part_difference(stored: InstancePart, fresh: InstancePart) -> str:
    """What differs between two parts of the same id, in words."""
    for name in ("kind", "expected", "options", "tolerance", "points", "depends_on"):
        if getattr(stored, name) != getattr(fresh, name):
            return {"expected": "its answer key", "options": "its option texts"}.get(name, f"its {name}")
    drawn = {m.id: m for m in fresh.mistakes}
    for m in stored.mistakes:
        other = drawn.get(m.id)
        if other is None:
            return f"mistake {m.id!r}, which the template does not have"
        for name in ("value", "credit", "credit_reason", "distinguishable", "feedback"):
            if getattr(m, name) != getattr(other, name):
                return f"the {name} of mistake {m.id!r}"
    if stored.mistakes != fresh.mistakes:
        return "its list of known mistakes"
    return "its prompt"


def _difference(stored: Instance, fresh: Instance) -> str:
    """Where ``stored`` differs from the redrawn ``fresh``: 'part b: its answer key', ..."""
    if [p.id for p in stored.parts] != [p.id for p in fresh.parts]:
        return "its list of parts"
    for s, f in zip(stored.parts, fresh.parts, strict=True):
        if s != f:
            return f"part {s.id}: {_part_difference(s, f)}"
    for name in ("params", "text", "solution", "title"):
        if getattr(stored, name) != getattr(fresh, name):
            return f"its {name}"
    return "its content"


def check_manifest(manifest: Manifest, bank: Bank | None, *, skip: Collection[tuple[str, int]] = ()) -> None:
    """Refuse (:class:`SpecError`, one line naming the manifest, the student, the question and the
    part, and the fix) a manifest whose papers are not what the bank draws from their seeds.

    ``skip``: (student id, printed number) of instances already verified: the gradebook's own,
    and those whose seal checks (:func:`sealed_by_key`); they are not redrawn, but the seed and
    slot checks apply to every instance. ``bank`` None: the built-in bank, loaded only if
    something is to be redrawn (anything with ``get(template_id)`` will do). Costs one redraw per
    distinct (template, seed, points) checked: about the time ``quizgen generate`` took for them."""
    exam = manifest.exam
    where = manifest.source or "manifest"
    fingerprints = exam.get("template_sha256") if isinstance(exam.get("template_sha256"), Mapping) else {}
    made_with = exam.get("quizgen_version")
    versions = (
        f" (made with quizgen {made_with}, this is {__version__})"
        if made_with and made_with != __version__
        else ""
    )
    fix = (
        "regenerate the exam with 'quizgen generate', or grade with the bank the manifest was made "
        f"with (--bank FOLDER){versions}"
    )

    def refuse(paper_id: str, number: int, template_id: str, what: str) -> None:
        raise SpecError(
            f"student {paper_id!r}, question {number} ({template_id}): {what}; {fix}", source=where
        )

    _check_structure(manifest, refuse)

    # 1. redraw each distinct (template, seed, points) once, grouped per template and points
    wanted: dict[tuple[str, float], set[int]] = defaultdict(set)
    checked = []
    for paper in manifest.students:
        for q in paper.questions:
            if (paper.id, q.number) in skip:
                continue
            inst = q.instance
            points = _section_points(inst.points)
            wanted[(inst.template_id, points)].add(inst.seed)
            checked.append((paper.id, q.number, inst, points))
    templates: dict[str, Template] = {}
    if wanted and bank is None:
        bank = load_bank()
    for template_id in sorted({t for t, _ in wanted}):
        try:
            templates[template_id] = bank.get(template_id)
        except QuizgenError:
            paper_id, number = next((p, n) for p, n, i, _ in checked if i.template_id == template_id)
            refuse(
                paper_id,
                number,
                template_id,
                f"template {template_id!r} is not in the bank, so its answer keys cannot be checked "
                "(pass the bank folder the exam was generated with: --bank FOLDER)",
            )
    drawn: dict[tuple[str, float, int], Instance] = {}
    for (template_id, points), seeds in wanted.items():
        seeds = sorted(seeds)
        try:
            fresh = engine.build_instances(templates[template_id], seeds, points=points)
        except QuizgenError as exc:
            raise SpecError(
                f"template {template_id!r} no longer draws the manifest's instances ({exc.message}); {fix}",
                source=where,
            ) from None
        drawn.update(((template_id, points, s), f) for s, f in zip(seeds, fresh, strict=True))

    for paper_id, number, stored, points in checked:
        fresh = drawn[(stored.template_id, points, stored.seed)]
        if stored == fresh:  # the dataclasses' equality: every field, every part
            continue
        if fresh.points != stored.points and _section_points(stored.points) != stored.points:
            # the parts' points were written as another total's share: try the total as stored
            again = engine.build_instances(templates[stored.template_id], [stored.seed], points=stored.points)
            if stored == again[0]:
                continue
        what = _difference(stored, fresh)
        recorded = fingerprints.get(stored.template_id)
        if recorded and recorded != template_fingerprint(templates[stored.template_id]):
            what = (
                f"template {stored.template_id!r} changed since this manifest was generated "
                f"({what} differs from what the bank draws now)"
            )
        else:
            what = f"{what} differs from what the bank draws from its seed {stored.seed} (edited?)"
        refuse(paper_id, number, stored.template_id, what)


def _check_structure(manifest: Manifest, refuse) -> None:
    """Seeds, slots and points as ``quizgen generate`` makes them (a manifest delivered in an LMS
    holds the variants each student was served: any seed at any slot)."""
    exam = manifest.exam
    if exam.get("delivered_in"):
        return
    seed = exam.get("seed")
    templates = exam.get("templates")
    slots: dict[int, tuple[str, float, str]] = {}
    for paper in manifest.students:
        for q in paper.questions:
            inst = q.instance
            if seed is not None and inst.seed != stable_seed(seed, paper.id, q.slot):
                refuse(
                    paper.id,
                    q.number,
                    inst.template_id,
                    f"seed {inst.seed} is not this student's seed for exam slot {q.slot} (copied from "
                    "another paper or edited)",
                )
            if isinstance(templates, list) and not (
                0 < q.slot <= len(templates) and templates[q.slot - 1] == inst.template_id
            ):
                refuse(
                    paper.id, q.number, inst.template_id, f"exam slot {q.slot} does not hold this template"
                )
            first = slots.setdefault(q.slot, (inst.template_id, inst.points, paper.id))
            if first[:2] != (inst.template_id, inst.points):
                refuse(
                    paper.id,
                    q.number,
                    inst.template_id,
                    f"exam slot {q.slot} holds {first[0]} worth {first[1]:g} on {first[2]!r}'s paper "
                    f"but {inst.template_id} worth {inst.points:g} here",
                )
        total = exam.get("points")
        if isinstance(total, (int, float)) and not math.isclose(paper.points, total, rel_tol=1e-9):
            raise SpecError(
                f"student {paper.id!r}: the paper is worth {paper.points:g} points but the exam "
                f"{total:g} (its points were edited); regenerate the exam with 'quizgen generate'",
                source=manifest.source or "manifest",
            )
