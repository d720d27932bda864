"""Load test of ``quizgen serve``: simulated students practising and handing in homework at once.

    python bench/serve_load.py --quick          # 40 students for 6 s
    python bench/serve_load.py                  # 200 students for 60 s (the issue's test)
    python bench/serve_load.py --workers 2      # the server as 2 processes (quizgen serve --workers 2)
    python bench/serve_load.py --database postgresql://...   # an EMPTY PostgreSQL database
    python bench/run.py --only serve [--quick]  # the same, as a scenario of the bench

The server runs as its own process (``quizgen serve`` on 127.0.0.1, a free port, SQLite or the
``--database`` given), as a
class would run it; this process drives it with one httpx client per student on one asyncio
loop. Everything stays on the loopback address and stops by itself: the run is bounded in time
(``seconds``) and in count (``max_requests``), and the server is ended at the end.

Each student signs in with their own link, then until the time is up repeats what a student
does: open a fresh practice variant, answer it (a wrong answer first, so the grader looks for
the named mistake), read the feedback, sometimes ask for a new variant of the same question,
autosave their homework; once, at a random moment, they hand in their paper with the final
submit (graded into the gradebook). Between requests a student thinks for ``think`` seconds
(uniform in [0.5, 1.5] x think): the server's rate limits (20 gradings a minute each) are
for people, and a student who never pauses is not one; a student also keeps their gradings
under that limit (waiting as one told "too many" would), since with a fast server the pauses
alone allow about 25 a minute.

Reported: requests per second, latency percentiles (p50, p95, p99, max, and p95 per kind of
request), every error (any status but the expected one, or a failed connection: the target
is none), the server's CPU seconds per request (with ``--workers N``, its worker processes'
summed), and the machine's load while it ran (the cores are shared: read the latency with it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "examples" / "midterm.yaml"

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_TEMPLATE = re.compile(r'name="template_id" value="([^"]+)"')
_PRACTICE_FIELD = re.compile(r'<textarea id="p-[^"]+" name="([^"]+)"')
_EXAM_FIELD = re.compile(r'<textarea id="(q\d+\.[^"]+)"')

#: The server's limit on a student's gradings (practice answers and the final submit) in any 60 s
#: (``quizgen serve``'s default): a student keeps under it, as one told "too many" would wait.
GRADINGS_PER_MINUTE = 20

#: Wrong answers a student might type (a plain number, a vector, a shape).
_ANSWERS = ("3", "0.5", "[1, 2]", "(2, 3)", "12", "-1")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quizgen(*args: str, **kw) -> subprocess.CompletedProcess:
    code = "import sys; from quizgen.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], **kw)


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (``quizgen serve --workers N``: the worker processes), from
    the parent pid in each /proc/PID/stat."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return [pid, *children]


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children (Linux /proc)."""
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _waited(pid: int) -> float:
    """Seconds the threads of process ``pid`` and its children were ready to run but waited
    for a core (/proc/PID/task/*/schedstat: on-CPU ns, run-queue wait ns, slices)."""
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every core since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Tally:
    """Latencies by kind of request, and the errors."""

    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.examples: list[str] = []
        self.count = 0

    def error(self, what: str) -> None:
        self.errors[what.split(":", 1)[0]] += 1
        if len(self.examples) < 5:
            self.examples.append(what)


class Budget:
    """Stop when the time is up or ``max_requests`` were sent, whichever comes first."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.end, self.left = time.monotonic() + seconds, max_requests

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.end:
            return False
        self.left -= 1
        return True


async def _student(client, token: str, submit_at: float, think: float, seed: int, tally, budget):
    import httpx

    rng = random.Random(seed)

    async def call(kind: str, method: str, url: str, expect: int, **kw):
        if not budget.take():
            raise TimeoutError
        t0 = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            tally.error(f"{kind}: {type(exc).__name__} {exc}")
            raise
        tally.latency[kind].append(time.perf_counter() - t0)
        tally.count += 1
        if r.status_code != expect:
            tally.error(f"{kind}: HTTP {r.status_code} {r.text[:160]!r}")
            raise httpx.HTTPError(f"HTTP {r.status_code}")
        return r

    async def pause():
        await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    graded: deque[float] = deque()  # when this student's last gradings were sent

    async def paced():
        """Wait, if need be, until this grading is within GRADINGS_PER_MINUTE in any 61 s
        (a second's margin for the server's clock): a person's pace, not a refused request."""
        while len(graded) >= GRADINGS_PER_MINUTE:
            wait = graded[0] + 61 - time.monotonic()
            if wait <= 0:
                graded.popleft()
            elif time.monotonic() + wait >= budget.end:
                raise TimeoutError
            else:
                await asyncio.sleep(wait)
        graded.append(time.monotonic())

    started, handed_in = time.monotonic(), False
    try:
        await asyncio.sleep(rng.uniform(0, think))  # students do not arrive on the same tick
        await call("sign in", "POST", "/signin", 303, data={"token": token})
        await call("home", "GET", "/", 200)
        page = (await call("practice list", "GET", "/practice", 200)).text
        csrf, templates = _CSRF.search(page).group(1), _TEMPLATE.findall(page)
        exam_fields = _EXAM_FIELD.findall((await call("exam page", "GET", "/exam", 200)).text)
        while True:
            await pause()
            r = await call(
                "new variant",
                "POST",
                "/practice/new",
                303,
                data={"csrf": csrf, "template_id": rng.choice(templates)},
            )
            url = r.headers["location"]
            for _ in range(rng.choice((1, 2))):
                fields = _PRACTICE_FIELD.findall((await call("variant page", "GET", url, 200)).text)
                await pause()
                answers = {f: rng.choice(_ANSWERS) for f in fields}
                await paced()
                await call("practice answer", "POST", url + "/answer", 303, data={"csrf": csrf, **answers})
                await call("variant page", "GET", url, 200)
            await pause()
            answers = {f: rng.choice(_ANSWERS) for f in rng.sample(exam_fields, min(3, len(exam_fields)))}
            if not handed_in and time.monotonic() - started >= submit_at:
                await paced()
                await call("final submit", "POST", "/exam/submit", 303, data={"csrf": csrf, **answers})
                await call("exam page", "GET", "/exam", 200)
                handed_in = True
            elif not handed_in:
                await call(
                    "autosave",
                    "POST",
                    "/exam/save",
                    200,
                    data={"csrf": csrf, **answers},
                    headers={"accept": "application/json"},
                )
    except (TimeoutError, httpx.HTTPError):
        return handed_in
    except Exception as exc:  # a page the student could not read is an error too
        tally.error(f"client: {type(exc).__name__} {exc}")
        return handed_in


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_load(
    students: int = 200,
    seconds: float = 60.0,
    think: float = 1.0,
    max_requests: int = 100_000,
    workers: int = 1,
    database: str | None = None,
) -> dict:
    """Start ``quizgen serve`` (``--workers workers``) on a class of ``students`` (the example
    midterm), drive it for ``seconds`` and return the figures (see the module's docstring).
    ``database``: the URL of an empty database to serve from (e.g. ``postgresql://...``)
    [default: a new SQLite file]."""
    import httpx

    with tempfile.TemporaryDirectory(prefix="quizgen-serve-bench-") as tmp:
        tmp = Path(tmp)
        roster = tmp / "roster.csv"
        roster.write_text(
            "id,name,email\n" + "".join(f"s{i:05d},Student {i},\n" for i in range(students)),
            encoding="utf-8",
        )
        database = database or f"sqlite:///{tmp / 'serve.sqlite'}"
        course = [str(SPEC), "--roster", str(roster), "--database", database]
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        links = _quizgen(
            "serve", "tokens", *course, "--base-url", base, capture_output=True, text=True, check=True
        ).stdout
        tokens = [line.rsplit("token=", 1)[1] for line in links.splitlines()[1:]]
        setup_s = time.perf_counter() - t0
        log = open(tmp / "server.log", "w")  # noqa: SIM115 (closed below, after the server)
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from quizgen.cli import main; sys.exit(main())",
                "serve",
                *course,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(f"the server did not start: {(tmp / 'server.log').read_text()[-500:]}")
                # several workers: each says when it has compiled the bank and serves
                ready = workers == 1 or (tmp / "server.log").read_text().count(" ready") >= workers
                try:
                    if ready and httpx.get(base + "/", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            tally, marks = Tally(), {}

            async def everyone():
                # the clients first (each makes an SSL context: not part of the load), one
                # connection each, as a browser tab keeps one
                limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
                clients = [
                    httpx.AsyncClient(base_url=base, timeout=30, limits=limits, verify=False) for _ in tokens
                ]
                budget = Budget(seconds, max_requests)
                marks["load"], marks["busy"] = os.getloadavg()[0], _machine_busy()
                marks["waited"] = _waited(server.pid)
                marks["cpu"], marks["client"], marks["t"] = (
                    _cpu_of(server.pid),
                    time.process_time(),
                    time.monotonic(),
                )
                try:
                    return await asyncio.gather(
                        *(
                            _student(
                                c, tok, random.Random(i).uniform(0.2, 0.9) * seconds, think, i, tally, budget
                            )
                            for i, (c, tok) in enumerate(zip(clients, tokens, strict=True))
                        )
                    )
                finally:
                    for c in clients:
                        await c.aclose()

            handed_in = asyncio.run(everyone())
            wall = time.monotonic() - marks["t"]
            busy1, cpu1, load1 = _machine_busy(), _cpu_of(server.pid), os.getloadavg()[0]
            client_cpu = time.process_time() - marks["client"]
            waited = _waited(server.pid) - marks["waited"]
            load0, busy0, cpu0 = marks["load"], marks["busy"], marks["cpu"]
            if server.poll() is not None:
                tally.error("server: it died during the run")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        every = [x for xs in tally.latency.values() for x in xs]
        ms = lambda x: round(1000 * x, 1)  # noqa: E731
        machine_busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
        return {
            "students": students,
            "workers": workers,
            "database": database.partition(":")[0],
            "seconds": round(wall, 1),
            "think_s": think,
            "requests": tally.count,
            "requests_per_s": round(tally.count / wall, 1),
            "errors": sum(tally.errors.values()),
            "errors_by_kind": dict(tally.errors),
            "error_examples": tally.examples,
            "p50_ms": ms(_percentile(every, 0.50)),
            "p95_ms": ms(_percentile(every, 0.95)),
            "p99_ms": ms(_percentile(every, 0.99)),
            "max_ms": ms(max(every, default=float("nan"))),
            "p95_ms_by_kind": {k: ms(_percentile(v, 0.95)) for k, v in sorted(tally.latency.items())},
            "requests_by_kind": {k: len(v) for k, v in sorted(tally.latency.items())},
            "handed_in": sum(bool(h) for h in handed_in),
            "server_cpu_ms_per_request": round(1000 * (cpu1 - cpu0) / max(1, tally.count), 2),
            "server_cpu_share": round((cpu1 - cpu0) / wall, 2),
            # time the server was ready to run but every core was taken (by anything on the
            # machine), per request: what a loaded machine adds to each latency
            "server_waited_for_a_core_ms_per_request": round(1000 * waited / max(1, tally.count), 2),
            # the simulated students' own CPU share: near 1 means the client, not the server, is
            # what the latencies measure
            "client_cpu_share": round(client_cpu / wall, 2),
            "machine": {
                "cpus": os.cpu_count(),
                "loadavg_1min_before": round(load0, 2),
                "loadavg_1min_after": round(load1, 2),
                "all_cores_busy_during": round(machine_busy, 2),
            },
            "setup_s": round(setup_s, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 students for 6 s")
    parser.add_argument("--students", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (quizgen serve --workers N) [1]"
    )
    parser.add_argument(
        "--database", help="URL of an EMPTY database to serve from, e.g. postgresql://... [a new SQLite file]"
    )
    args = parser.parse_args()
    students = args.students or (40 if args.quick else 200)
    seconds = args.seconds or (6.0 if args.quick else 60.0)
    result = run_load(students, seconds, args.think, workers=args.workers, database=args.database)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
