"""Code assignments online: an upload (.py or a notebook's code cells) gets the feedback
``quizgen check`` prints, from the same sandbox; bad uploads get a clear message and grade
nothing."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from quizgen.cli_autograde import check_solution
from quizgen.graders import results, sandbox
from quizgen.graders.assignment import load_assignment
from quizgen.serve import app as serve_app
from quizgen.serve import code, service

SPEC = Path("examples/assignments/softmax_cross_entropy.yaml")
SOLUTION = Path("examples/assignments/solutions/softmax_cross_entropy.py")

try:
    sandbox.preflight(sandbox.Options())
    NO_SANDBOX = None
except sandbox.SandboxError as exc:
    NO_SANDBOX = str(exc)


@pytest.fixture
def coded(ctx):
    spec = load_assignment(SPEC)
    return dataclasses.replace(ctx, assignments={spec.id: spec}, sandbox=sandbox.Options())


def _client(ctx, sid="s001"):
    c = TestClient(serve_app.create_app(ctx), base_url="http://testserver")
    r = c.post("/signin", data={"token": service.issue_token(ctx, sid)}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get("/code").text
    return c, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _upload(c, csrf, name, data, aid="softmax_cross_entropy"):
    return c.post(f"/code/{aid}", data={"csrf": csrf}, files={"file": (name, data)}, follow_redirects=False)


def _notebook(*cells: str) -> bytes:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# My solution"]}]
            + [
                {"cell_type": "code", "metadata": {}, "source": c.splitlines(True), "outputs": []}
                for c in cells
            ],
        }
    ).encode()


def test_a_notebooks_code_cells_become_one_module_without_ipython_lines():
    source = code.notebook_code(_notebook("%matplotlib inline\nimport numpy as np", "!pip install x\nx = 1"))
    text = source.decode()
    assert "# %matplotlib inline" in text and "# !pip install x" in text and "import numpy as np" in text
    assert text.index("import numpy") < text.index("x = 1") and "My solution" not in text
    with pytest.raises(service.Refused, match="not a Jupyter notebook"):
        code.notebook_code(b"{not json")
    with pytest.raises(service.Refused, match="no code cell"):
        code.notebook_code(_notebook())


@pytest.mark.skipif(NO_SANDBOX is not None, reason=f"no sandbox here: {NO_SANDBOX}")
def test_an_upload_gets_quizgen_checks_feedback_and_bad_uploads_grade_nothing(coded):
    c, csrf = _client(coded)
    solution = SOLUTION.read_bytes()
    # a notebook holding the reference solution, split over cells with an IPython line
    head, _, body = solution.decode().partition("def ")
    r = _upload(c, csrf, "work.ipynb", _notebook("%load_ext autoreload\n" + head, "def " + body))
    assert r.status_code == 303, r.text
    page = c.get("/code").text
    stored = code.last_results(coded, "s001")["softmax_cross_entropy"]
    assert stored.filename == "work.ipynb" and stored.score == stored.max_score > 0
    # the same feedback as 'quizgen check' on the file (all but the first line, which names the file)
    expected = results.summary(check_solution(SPEC, SOLUTION, options=sandbox.Options()))

    def body(summary):  # the time it took differs from run to run
        return [re.sub(r", [\d.]+ s$", "", line) for line in summary.splitlines()[1:]]

    assert body(stored.summary) == body(expected) and len(body(expected)) > 2
    assert f"{stored.score:g} of {stored.max_score:g} points" in page
    # a wrong .py: graded, the failing cases say so
    wrong = solution.replace(b"return float(loss), dlogits / n", b"return float(loss), dlogits")
    assert _upload(c, csrf, "wrong.py", wrong).status_code == 303
    stored = code.last_results(coded, "s001")["softmax_cross_entropy"]
    assert stored.filename == "wrong.py" and stored.score < stored.max_score and "FAIL" in stored.summary

    # bad uploads: a clear message, nothing graded or stored
    def refused(response, status, words):
        assert response.status_code == status and words in response.text, response.text[:300]

    refused(_upload(c, csrf, "notes.txt", b"x = 1"), 400, "upload a .py file or a Jupyter notebook")
    refused(_upload(c, csrf, "broken.ipynb", b"{"), 400, "not a Jupyter notebook")
    refused(_upload(c, csrf, "big.py", b"#" * (code.MAX_UPLOAD + 100_000)), 413, "larger than")
    refused(_upload(c, csrf, "x.py", solution, aid="nope"), 404, "no code assignment")
    refused(_upload(c, "wrong-token", "x.py", solution), 403, "CSRF")
    refused(
        c.post(
            "/code/softmax_cross_entropy",
            data={"csrf": csrf, "more": "1"},
            files={"file": ("x.py", solution)},
        ),
        400,
        "nothing else",
    )
    assert code.last_results(coded, "s001")["softmax_cross_entropy"].filename == "wrong.py"
    # another student sees none of it
    other, _ = _client(coded, "s002")
    assert "wrong.py" not in other.get("/code").text
