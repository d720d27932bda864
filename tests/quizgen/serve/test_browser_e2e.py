"""``quizgen serve`` end to end in a real headless Chromium (Debian's chromium and its
chromedriver, driven by Selenium), the server on 127.0.0.1 with the network otherwise closed:
a student signs in with their link, answers a practice question with a known mistake and sees
it named, asks for a new variant, orders the items of a text-option question with a position
select each, answers their homework and submits it; the instructor sees
the grade. No page logs an error in the console (a script or a style the Content-Security-Policy
refused would). Skipped, saying why, where Chromium, its driver or Selenium is missing.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("selenium", reason="Selenium is in the test extra: pip install -e '.[test]'")

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from quizgen.formatting import plain
from quizgen.output import answer_text
from quizgen.selection import split_letters
from quizgen.serve import app as serve_app
from quizgen.serve import service

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)), None)
DRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="needs headless Chromium and its driver (Debian: apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture
def server(ctx):
    """The application served by uvicorn on a free port of 127.0.0.1, in a thread; its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(serve_app.create_app(ctx), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=420,900",  # a phone's width
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def _click(driver, xpath: str) -> None:
    """Click the button at ``xpath`` and wait for the page it leads to (each form posts, then
    the server redirects to a page)."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, xpath).click()
    wait = WebDriverWait(driver, 15)
    wait.until(lambda d: _gone(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _gone(element) -> bool:
    """Whether ``element``'s page has been replaced. Chromium reports an element of a page
    being torn down either as stale or, mid-navigation, as a node that "does not belong to the
    document"; both mean the old page is gone (selenium's staleness_of knows only the first)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def _sign_in(driver, base: str, token: str) -> None:
    driver.get(f"{base}/signin?token={token}")
    _click(driver, "//button[text()='Sign in']")


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _open_variant_with_a_mistake(ctx, driver, base):
    """Click practice questions in the list until a variant has a part with a known mistake
    that can be told apart; (variant, part, mistake)."""
    for template_id in sorted(ctx.course.bank.templates):
        driver.get(f"{base}/practice")
        _click(driver, f"//form[input[@name='template_id' and @value='{template_id}']]/button")
        vid = int(driver.current_url.rsplit("/", 1)[1])
        v = service.variant(ctx, "s001", vid)
        for part in v.instance.parts:
            found = [m for m in part.mistakes if m.distinguishable and not part.options]
            if found:
                return v, part, found[0]
    raise AssertionError("no practice question with a distinguishable mistake")


def test_a_student_practises_hands_in_and_the_instructor_sees_the_grade(ctx, server, browser):
    _sign_in(browser, server, service.issue_token(ctx, "s001"))
    assert "Signed in as s001" in browser.find_element(By.TAG_NAME, "body").text

    # practice: a wrong answer with a known mistake, named at once
    v, part, mistake = _open_variant_with_a_mistake(ctx, browser, server)
    assert browser.find_elements(By.TAG_NAME, "math")  # MathML made on the server, laid out here
    box = browser.find_element(By.ID, f"p-{part.id}")
    box.send_keys(plain(mistake.value))
    _click(browser, "//button[text()='Check my answers']")
    feedback = browser.find_element(
        By.XPATH, f"//div[@class='part'][textarea[@id='p-{part.id}']]/div[@class='feedback']"
    ).text
    assert "incorrect" in feedback and f"mistake: {mistake.id}" in feedback
    assert " ".join(mistake.feedback.split()) in " ".join(feedback.split())
    assert "Worked solution" not in browser.page_source

    # a new variant of the same question: another page, no feedback yet
    _click(browser, "//button[text()='New variant']")
    w = service.variant(ctx, "s001", int(browser.current_url.rsplit("/", 1)[1]))
    assert w.id != v.id and w.template_id == v.template_id
    assert not browser.find_elements(By.CSS_SELECTOR, ".feedback")

    # a text-option question: a position select per item (native, no script), read as letters
    browser.get(f"{server}/practice")
    _click(browser, "//form[input[@name='template_id' and @value='concepts.training_loop_order']]/button")
    o = service.variant(ctx, "s001", int(browser.current_url.rsplit("/", 1)[1]))
    (op,) = o.instance.parts
    for position, letter in enumerate(split_letters(op.expected), 1):
        Select(browser.find_element(By.NAME, f"{op.id}:{letter}")).select_by_value(str(position))
    _click(browser, "//button[text()='Check my answers']")
    assert service.last_attempt(ctx, "s001", o.id)[0]["response"] == op.expected
    assert "Correct." in browser.find_element(By.CSS_SELECTOR, ".feedback").text

    # homework: the first part answered right, then the one final submit
    browser.get(f"{server}/exam")
    paper = ctx.course.paper("s001")
    q = paper.questions[0]
    p = q.instance.parts[0]
    browser.find_element(By.ID, f"q{q.number}.{p.id}").send_keys(p.expected if p.options else answer_text(p))
    _click(browser, "//button[text()='Submit final answers']")
    handed_in = browser.find_element(By.TAG_NAME, "strong").text
    assert handed_in.startswith("Handed in") and f"of {paper.points:g} points" in handed_in
    got = float(handed_in.split(": ", 1)[1].split(" of ")[0])
    assert got >= p.points  # the right answer scored
    assert browser.find_element(By.ID, f"q{q.number}.{p.id}").get_attribute("disabled") is not None
    assert _console_errors(browser) == []

    # the instructor, in a fresh session, sees that grade in the class list
    browser.delete_all_cookies()
    _sign_in(browser, server, service.issue_token(ctx, "instructor", service.INSTRUCTOR))
    browser.get(f"{server}/instructor")
    row = browser.find_element(By.XPATH, "//tr[td[text()='s001']]").text
    assert f"{got:g} / {paper.points:g}" in row
    assert _console_errors(browser) == []
