"""Text and files from a submission: text made safe for every writer, and files read without
following links (regular files only, size checked before reading), refused with a reason."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from quizgen.graders import untrusted
from quizgen.graders.sandbox import MAX_SOURCE_BYTES
from quizgen.graders.untrusted import (
    MAX_ENTRIES,
    Refused,
    clean_text,
    find_submissions,
    pick_file,
    read_submission,
)

HOSTILE = "a\ud800b\x00c\x1b[31mred\x7f\x9b\u202etxet\ufffe\uffff\r\nnext\tline"


def test_clean_text_is_utf8_xml_legal_and_keeps_newlines_and_tabs():
    text = clean_text(HOSTILE)
    text.encode("utf-8")  # a lone surrogate would raise here
    ET.fromstring(f"<a>{text.replace('&', '&amp;').replace('<', '&lt;')}</a>")
    assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert "\\x00" in text and "\\x1b[31mred" in text and "\\u202e" in text  # shown, not obeyed
    assert "\ufffd" in text and "\n" in text and "\t" in text


def test_clean_text_caps_the_length_and_says_how_much_was_cut():
    text = clean_text("x" * 100_000, 1000)
    assert text.startswith("x" * 1000) and len(text) < 1100 and "more characters not shown" in text


def test_clean_text_of_a_non_string_uses_its_str():
    assert clean_text(12) == "12" and clean_text(None) == "None"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "root_only_secret.txt"
    path.write_text("TOP-SECRET-ANSWER")
    path.chmod(0o600)
    return path


def test_a_link_to_a_root_only_file_is_refused_unread(tmp_path, secret):
    link = tmp_path / "link_to_secret.py"
    link.symlink_to(secret)
    with pytest.raises(Refused, match="symbolic link") as err:
        read_submission(link)
    assert "TOP-SECRET" not in str(err.value)


def test_a_link_to_a_huge_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as f:
        f.truncate(2 << 30)  # 2 GiB, sparse: reading it would take seconds and gigabytes
    link = tmp_path / "link_to_huge.py"
    link.symlink_to(huge)
    start = time.monotonic()
    with pytest.raises(Refused, match="symbolic link"):
        read_submission(link)
    with pytest.raises(Refused, match=f"larger than {MAX_SOURCE_BYTES} bytes"):
        read_submission(huge)  # the file itself: its size is checked before reading
    assert time.monotonic() - start < 1.0


def test_a_fifo_a_folder_and_a_dangling_link_with_a_long_name_are_refused(tmp_path):
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    with pytest.raises(Refused, match="FIFO"):
        read_submission(fifo)  # never blocks waiting for a writer
    with pytest.raises(Refused, match="folder"):
        read_submission(tmp_path)
    dangling = tmp_path / ("d" * 240 + ".py")
    dangling.symlink_to(tmp_path / ("missing" * 30))
    with pytest.raises(Refused, match="symbolic link"):
        read_submission(dangling)


def test_a_folder_on_the_path_that_is_a_link_is_refused_when_the_root_is_known(tmp_path, secret):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice").symlink_to(secret.parent)
    with pytest.raises(Refused, match="link"):
        read_submission(tmp_path / "class" / "alice" / secret.name, root=tmp_path / "class")


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "ok.py"
    path.write_bytes(b"def f():\n    return 1\n")
    assert read_submission(path) == b"def f():\n    return 1\n"


@pytest.fixture
def hostile_class(tmp_path, secret):
    """A class folder with one honest student and one of each kind of hand-in that is refused."""
    subs = tmp_path / "subs"
    subs.mkdir()
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "conv2d.py").write_text("def conv2d_forward(): pass\n")
    (subs / "alice.py").write_text("def f():\n    return 1\n")
    (subs / "bob_links_to_a_secret.py").symlink_to(secret)
    (subs / "carol_links_to_solutions").symlink_to(solutions)
    (subs / ("dave_dangling" + "x" * 230 + ".py")).symlink_to(tmp_path / ("gone" * 60))
    os.mkfifo(subs / "erin_fifo.py")
    (subs / "frank").mkdir()
    (subs / "frank" / "conv2d.py").symlink_to(solutions / "conv2d.py")
    (subs / "gina").mkdir()
    (subs / "gina" / "code").symlink_to(solutions)
    (subs / "notes.txt").write_text("not a submission")
    (subs / ".DS_Store").write_text("hidden")
    return subs


def test_every_hand_in_is_listed_and_only_the_honest_one_is_graded(hostile_class):
    found = {s.student: s for s in find_submissions(hostile_class, "conv2d")}
    dave = next(name for name in found if name.startswith("dave"))
    assert set(found) == {
        "alice",
        "bob_links_to_a_secret",
        "carol_links_to_solutions",
        dave,
        "erin_fifo",
        "frank",
        "gina",
    }
    assert found["alice"].refused == ""
    for name in ("bob_links_to_a_secret", "carol_links_to_solutions", dave, "frank", "gina"):
        assert "symbolic link" in found[name].refused, name
    assert "FIFO" in found["erin_fifo"].refused


def test_a_folder_with_too_many_entries_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(untrusted, "MAX_ENTRIES", 20)  # the same rule as the real cap, faster
    (tmp_path / "many").mkdir()
    for k in range(21):
        (tmp_path / "many" / f"f{k}").touch()
    chosen, why = pick_file(tmp_path / "many", "conv2d")
    assert chosen is None and "more than 20" in why
    assert MAX_ENTRIES >= 1000


def test_a_folder_with_two_files_picks_the_one_named_for_the_assignment(tmp_path):
    (tmp_path / "helper.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "conv2d.py").write_text("")
    assert pick_file(tmp_path, "conv2d") == (tmp_path / "sub" / "conv2d.py", "")
    chosen, why = pick_file(tmp_path, "maxpool")
    assert chosen is None and "no single Python file" in why


def test_an_undecodable_file_name_becomes_a_printable_student_id(tmp_path):
    name = os.fsdecode(b"st\xffudent.py")
    Path(tmp_path / name).write_text("x = 1\n")
    (student,) = find_submissions(tmp_path, "conv2d")
    student.student.encode("utf-8")
    assert student.student == "st\ufffdudent" and student.refused == ""
