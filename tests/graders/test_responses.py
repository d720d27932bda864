import json

import pytest
from grading_fixtures import WIDE_CSV, manifest_dict, write_manifest

from quizgen.errors import SpecError
from quizgen.graders.responses import read_responses
from quizgen.manifest import Manifest, load_manifest


@pytest.fixture
def manifest():
    return Manifest.from_dict(manifest_dict())


def test_manifest_papers_know_printed_numbers_slots_and_template_ids(manifest, tmp_path):
    s2 = manifest.paper("s2")
    assert [(q.number, q.slot, q.instance.template_id) for q in s2.questions] == [
        (1, 2, "conv.shape"),
        (2, 1, "chain"),
    ]
    assert s2.question_by_key("q2").instance.template_id == "chain"
    assert s2.question_by_key("chain").number == 2
    assert s2.points == 6.0
    path = tmp_path / "manifest.json"
    write_manifest(path)
    assert load_manifest(path).paper("s3").name == "Grace <Hopper>"


def test_manifest_without_printed_numbers_uses_slots():
    d = manifest_dict()
    for s in d["students"]:
        for q in s["questions"]:
            del q["number"]
    assert Manifest.from_dict(d).paper("s2").question(1).instance.template_id == "chain"


def test_bad_manifest_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text('{"format": "quizgen-manifest/1", "exam": {}, "students": [{"id": "s1"}]}')
    with pytest.raises(SpecError, match=r"manifest.json: not a quizgen manifest \(KeyError: 'questions'\)"):
        load_manifest(path)
    path.write_text('{"exam": {}, "students": []}')  # some other JSON file
    with pytest.raises(SpecError, match=r"manifest.json: not a quizgen manifest \(expected format"):
        load_manifest(path)
    path.write_text("{oops")
    with pytest.raises(SpecError, match=r"manifest.json:1: not valid JSON"):
        load_manifest(path)


def test_wide_csv_maps_columns_to_each_students_printed_questions(manifest, tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text(WIDE_CSV)
    rs = read_responses(path, manifest)
    assert rs.warnings == ()
    assert rs.for_question("s1", 1) == {"a": "6", "b": "7"}
    assert rs.for_question("s2", 1) == {"a": "(4, 4, 10)", "b": "a"}
    assert rs.for_question("s2", 2) == {"a": "4", "b": "5"}
    assert rs.students == ("s1", "s2", "s3")


def test_long_csv_with_numbers_or_template_ids_and_multiline_cells(manifest, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "student_id,question,part,answer\n"
        "s1,1,a,6\n"
        "s1,q2,(b),B\n"
        's1,conv.shape,a,"[4,\n 4, 8]"\n'
        "s2,chain,a,4\n"
        "s3,1,a,\n"
    )
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1) == {"a": "6"}
    assert rs.for_question("s1", 2) == {"b": "B", "a": "[4,\n 4, 8]"}
    assert rs.for_question("s2", 2) == {"a": "4"}
    assert rs.for_question("s3", 1) == {"a": None}
    assert rs.warnings == (f"{path}: no answers from student 's3' (Grace <Hopper>); graded as blank",)


def test_unknown_students_questions_parts_and_columns_are_reported_not_dropped(manifest, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "student_id,name,q1.a,q1.b,q2.a,q2.b,q3.a,total\n"
        "s1,Ada,6,7,4x4x8,B,,\n"
        "s9,Mallory,1,2,3,4,,\n"
        "s2,Alan,,,,,5,\n"
    )
    rs = read_responses(path, manifest)
    text = "\n".join(rs.warnings)
    assert "r.csv:1: column 'total' is not of the form q<number>.<part>" in text
    assert "r.csv:3: student 's9' is not in the manifest; their answers are not graded" in text
    assert "r.csv:4: s2: question 3 on their paper; the answer '5' is not graded" in text
    assert "no answers from student 's2'" in text and "no answers from student 's3'" in text
    assert {a.student_id for a in rs.answers} == {"s1", "s2"}


def test_long_form_part_not_on_the_question_and_duplicates_are_reported(manifest, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("student_id,question,part,answer\ns1,1,a,5\ns1,1,c,1\ns1,1,a,6\n")
    rs = read_responses(path, manifest)
    text = "\n".join(rs.warnings)
    assert "r.csv:3: s1: question 1 has no part 'c' on their paper; the answer '1' is not graded" in text
    assert "r.csv:4: s1 q1.a is answered again (first at " in text and "the later answer is used" in text
    assert rs.for_question("s1", 1) == {"a": "6"}


def test_semicolon_separated_csv_with_a_byte_order_mark(manifest, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffstudent_id;name;q1.a;q1.b\ns1;Ada;6;[1 2; 3 4]\n".encode())
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1)["a"] == "6"
    assert any("extra cells are not read" in w for w in rs.warnings)


def test_json_flat_and_nested_with_numbers_and_lists(manifest, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            {
                "s1": {"name": "Ada", "q1.a": 6, "q1.b": "7"},
                "s2": {"q1": {"a": [4, 4, 10], "b": "A"}},
                "s3": {"bad": 1},
            }
        )
    )
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1) == {"a": "6", "b": "7"}
    assert rs.for_question("s2", 1) == {"a": "[4, 4, 10]", "b": "A"}
    assert any("key 'bad' of 's3' is not of the form q<number>.<part>" in w for w in rs.warnings)


def test_yaml_answers_report_their_line(manifest, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("s1:\n  q1.a: 6\n  q1.b: '7'\ns4:\n  q1.a: 1\n")
    rs = read_responses(path, manifest)
    assert rs.for_question("s1", 1) == {"a": "6", "b": "7"}
    assert any(w.startswith(f"{path}:5: student 's4' is not in the manifest") for w in rs.warnings)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("r.xlsx", "", r"unknown responses format '.xlsx'; use a .csv, .json or .yaml file"),
        ("r.csv", "", r"r.csv:1: the file is empty; expected a header such as student_id"),
        ("r.csv", "name,q1.a\nAda,1\n", r"r.csv:1: no student_id column .*; start it with student_id"),
        ("r.json", "[1, 2]", r"r.json:1: expected a mapping of student ids to answers"),
        ("r.json", "{", r"r.json:1: not valid JSON"),
        ("r.yaml", "s1: [\n", r"r.yaml:\d+: invalid YAML"),
    ],
)
def test_unreadable_response_files_fail_in_one_line(tmp_path, manifest, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SpecError, match=message) as info:
        read_responses(path, manifest)
    assert "\n" not in str(info.value)


def test_missing_file_and_non_utf8_fail_in_one_line(tmp_path, manifest):
    with pytest.raises(SpecError, match="cannot read the responses"):
        read_responses(tmp_path / "nope.csv", manifest)
    path = tmp_path / "latin.csv"
    path.write_bytes("student_id,q1.a\ns1,\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"not UTF-8 text: byte 0xe9.*save the sheet as CSV UTF-8"):
        read_responses(path, manifest)


def test_without_a_manifest_numbers_are_read_unchecked(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(WIDE_CSV)
    rs = read_responses(path)
    assert rs.for_question("s3", 2) == {"a": "[2, 2, 12]", "b": "C"}
