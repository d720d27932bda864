"""Exports of a generated exam (its manifest) or of template variants straight from the bank:
Moodle XML (:mod:`.moodle`), a Canvas QTI 1.2 zip (:mod:`.qti`) and printable LaTeX/PDF papers
with answer keys (:mod:`.pdf`), with validators that read the LMS files the way the importers do
(:mod:`.validate_moodle`, :mod:`.validate_qti`).

Every export returns an :class:`~.common.ExportResult`: the files written, the number of
questions, and a warning for everything it could not represent exactly (never a silent drop).
"""

from __future__ import annotations

from .common import ExportResult, ExportSource, VariantGroup, source_from_bank, source_from_manifest
from .moodle import export_moodle
from .pdf import PdfError, export_pdf
from .qti import export_qti

__all__ = [
    "ExportResult",
    "ExportSource",
    "PdfError",
    "VariantGroup",
    "export_moodle",
    "export_pdf",
    "export_qti",
    "source_from_bank",
    "source_from_manifest",
]
