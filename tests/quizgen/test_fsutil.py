"""read_text: UTF-8 (BOM or not) and UTF-16 with a BOM are read; anything else is refused with
the file, line, byte offset and the fix."""

import pytest

from quizgen.errors import QuizgenError, SpecError
from quizgen.fsutil import read_text

NAMES = "id,name\ns1,José Müller\n"


@pytest.mark.parametrize(
    "encoded",
    [
        NAMES.encode("utf-8"),
        NAMES.encode("utf-8-sig"),
        NAMES.encode("utf-16"),  # with a BOM, the machine's byte order
        b"\xfe\xff" + NAMES.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8_bom", "utf16", "utf16_be_bom"],
)
def test_reads_utf8_and_utf16_with_bom(tmp_path, encoded):
    path = tmp_path / "roster.csv"
    path.write_bytes(encoded)
    assert read_text(path) == NAMES


def test_refuses_cp1252_naming_line_and_byte_offset(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(NAMES.encode("cp1252"))
    with pytest.raises(SpecError) as err:
        read_text(path, error=SpecError, fix="save it as UTF-8 CSV")
    assert str(err.value).startswith(f"{path}:2: not UTF-8 text: byte 0xe9 at byte offset 14")
    assert "save it as UTF-8 CSV" in str(err.value)


def test_refuses_binary_large_and_folder(tmp_path):
    binary = tmp_path / "x.json"
    binary.write_bytes(b"{}\n\x00\x01")
    with pytest.raises(QuizgenError, match=r"x.json:2: a binary file"):
        read_text(binary)
    with pytest.raises(QuizgenError, match="more than the 4 quizgen reads"):
        read_text(binary, max_bytes=4)
    with pytest.raises(QuizgenError, match="got a folder"):
        read_text(tmp_path)
    with pytest.raises(QuizgenError, match="cannot read"):
        read_text(tmp_path / "missing")


# ------------------------------------------------------------------ file names from student ids


def test_student_file_stems_stay_distinct_whatever_order_the_ids_come_in():
    """ "a_b-2" first, then "a_b" and "a/b" (which sanitizes to "a_b"): the third must not be
    given "a_b-2", which is taken (generate wrote a/b's paper over a_b-2's)."""
    from quizgen.fsutil import student_file_stem

    taken: set[str] = set()
    stems = [student_file_stem(s, taken) for s in ("a_b-2", "a_b", "a/b", "A_B", "../../etc/x", "")]
    assert len({s.casefold() for s in stems}) == len(stems)
    assert stems[:2] == ["a_b-2", "a_b"]
    assert all("/" not in s and not s.startswith(".") and s for s in stems)


def test_windows_device_names_are_not_used_as_file_stems():
    from quizgen.fsutil import student_file_stem

    taken: set[str] = set()
    stems = [student_file_stem(s, taken) for s in ("CON", "nul", "com1", "LPT9.x", "CONSOLE")]
    assert stems == ["_CON", "_nul", "_com1", "_LPT9.x", "CONSOLE"]


def test_student_file_stems_fit_a_file_name_with_room_for_a_temporary_suffix():
    from quizgen.fsutil import student_file_stem

    taken: set[str] = set()
    stems = [student_file_stem(s, taken) for s in ("字" * 300, "字" * 301, "é" * 200, "e" * 1000)]
    assert all(len(s.encode("utf-8")) <= 120 for s in stems)
    assert len(set(stems)) == 4


def test_utf32_with_a_bom_is_read_and_utf16_without_one_is_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes("id,name\ns1,José\n".encode("utf-32"))
    assert read_text(path) == "id,name\ns1,José\n"
    path.write_bytes("id,name\ns1,A\n".encode("utf-16-le"))
    with pytest.raises(SpecError, match="UTF-16 text without a byte-order mark"):
        read_text(path, error=SpecError)
    path.write_bytes(b"\x00\x01\x02")  # too short to be anything but binary
    with pytest.raises(SpecError, match="a binary file"):
        read_text(path, error=SpecError)
