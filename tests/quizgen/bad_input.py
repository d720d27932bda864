"""Shared checks of the malformed-input test modules (test_bad_*.py): a command given a bad
input exits 1 or 2 with one line naming the file and the place, no traceback, and nothing
written or changed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from quizgen.cli import main


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(args, *, watch: Path, names: str, where: str = "", status=(1, 2)) -> str:
    """Run ``quizgen args``; assert it is refused as described above; return the line."""
    before = snapshot(watch)
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: raised {result.exception!r}\n{result.output}"
    )
    assert result.exit_code in status, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, (args, result.output)
    assert names in lines[0] and where in lines[0], (args, lines[0])
    assert snapshot(watch) == before, f"{args} changed {watch}"
    return lines[0]
