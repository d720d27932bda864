"""load_yaml caps what a file may ask for before building anything."""

import time

import pytest

from quizgen.errors import QuizgenError
from quizgen.yamlio import MAX_DEPTH, load_yaml


def _write(tmp_path, text, name="f.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(QuizgenError, match=r"once its aliases .* are expanded"):
        load_yaml(path)
    assert time.perf_counter() - start < 1.0


def test_alias_loop_and_deep_nesting_are_refused(tmp_path):
    with pytest.raises(QuizgenError, match=r"f.yaml:1: an alias refers to the anchor that contains it"):
        load_yaml(_write(tmp_path, "a: &a [1, *a]\n"))
    with pytest.raises(QuizgenError, match="nested 65 levels deep"):
        load_yaml(_write(tmp_path, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)))
    with pytest.raises(QuizgenError, match="nested too deeply"):
        load_yaml(_write(tmp_path, "[" * 600 + "]" * 600))


def test_anchors_and_merge_keys_still_work(tmp_path):
    data = load_yaml(_write(tmp_path, "a: &x {p: 1}\nb: {<<: *x, q: 2}\nc: [*x, *x]\n"))
    assert data == {"a": {"p": 1}, "b": {"p": 1, "q": 2}, "c": [{"p": 1}, {"p": 1}]}


def test_latin1_and_utf16_specs(tmp_path):
    path = tmp_path / "exam.yaml"
    path.write_bytes("title: Prüfung\n".encode("latin-1"))
    with pytest.raises(QuizgenError, match=r"exam.yaml:1: not UTF-8 text.*save it as UTF-8"):
        load_yaml(path)
    path.write_bytes("title: Prüfung\n".encode("utf-16"))
    assert load_yaml(path) == {"title": "Prüfung"}
