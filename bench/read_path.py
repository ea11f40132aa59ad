"""The read path as a frontend meets it (issue 11), against a bare FastAPI hello in the same run.

Per round, one after the other and each for BENCH_SECONDS: hello; the estate list (50 a page) with a
query string of its own for every request; the estate detail of another estate every request; the
job poll (200, then 304 with If-None-Match) as the API answers it (`api.routes.jobs.poll_route`);
the same two polls through the plain FastAPI route `read_job` and through the poll middleware that
`api/hot_paths.py` had until issue 11 (`bench/poll_variants.py`), for the comparison (each way on a
fresh process of its own, taking turns at going first); hello again.
Then the SSE fan-out (`bench/sse.py`) against the same data.

How it is served, as in production (Procfile, Dockerfile): one uvicorn process with uvloop,
httptools, `--no-access-log --proxy-headers`, `LOG_LEVEL=INFO` with JSON lines on stdout (into a
file here), so the API's own `api.access` line is written for every request. Every server is
pinned to core 0 (`taskset -c 0`), wrk runs with one thread and 64 connections on core 1, so a
server never shares its core with the load generator and every server gets the same core.

The estates are what a real full sync from the Vitec simulator wrote (BENCH_READ_ESTATES of them),
their images marked mirrored, so that thumbnails and images are read SAS URLs as in production.
The list requests vary as a frontend's do: another `updated_since` on every request, a third of
them filtered by one or more statuses, a quarter of them on a later page (a real `cursor` taken
from the API's own pages); only parameters the API knows (it answers unknown ones with 422).
Every answer must be a 200 (a 304 for the conditional poll): a run with any error fails.

Reported per round: req/s, p50 and p99 of every run; each run's req/s against the mean of the
round's two hellos, its p99 against the mean of their p99s; medians over BENCH_READ_ROUNDS rounds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import String, cast, func, select, update

from bench.sse import report_lines as sse_lines
from bench.sse import sse_benchmark
from bench.vitec import start_simulator, synced_organization
from core.resources import Resources
from core.security import TokenType
from core.settings import Settings
from domain.users import UserRole
from repository.models import AuthSession, Estate, EstateImage, Job, User
from service.unit_of_work import transaction

ROUNDS = int(os.environ.get("BENCH_READ_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ESTATES = int(os.environ.get("BENCH_READ_ESTATES", "3000"))
SYNC_BUDGET = int(os.environ.get("BENCH_READ_SYNC_BUDGET", "1000"))  # Vitec requests/s for the set-up sync
INSTALLATION = "BENCHREAD"
CONNECTIONS = 64
SERVER_CORE, LOAD_CORE = "0", "1"
# List query strings prepared per second of a run: more than any run can send, so none repeats.
LIST_PATHS_PER_SECOND = 8000
STATUS_FILTERS = [
    "&status=for_sale&status=reserved&status=preparation",
    "&status=for_sale",
    "&status=for_sale&status=reserved",
    "&status=sold&status=archived",
]
TARGETS = {"estate_list": 0.25, "estate_detail": 0.3, "poll_200": 0.5, "poll_304": 0.5}
P99_OVER_HELLO = 3.0
SSE_TARGET_MS = 250.0
RUNS = (
    "hello",
    "estate_list",
    "estate_detail",
    "poll_200",
    "poll_304",
    "fastapi_poll_200",
    "fastapi_poll_304",
    "middleware_poll_200",
    "middleware_poll_304",
    "hello_again",
)


@dataclass(frozen=True)
class ReadHarness:
    """What the benchmark borrows from bench/__main__.py: the root, the child environment, ports."""

    root: Path
    env: dict[str, str]
    free_port: Callable[[], int]
    wait_port: Callable[[int], None]


@dataclass
class Load:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    timeouts: int
    socket_errors: int
    distinct_paths: int

    @property
    def errors(self) -> int:
        return self.status_errors + self.timeouts + self.socket_errors


@dataclass(frozen=True)
class Fixture:
    organization_id: uuid.UUID
    token: str
    job_id: uuid.UUID
    estates: int
    updated_from: datetime


class Servers:
    """hello, the API for the estates, the API for the polls and its two poll variants: each one
    uvicorn process on SERVER_CORE."""

    def __init__(self, harness: ReadHarness, log_dir: Path) -> None:
        self.harness = harness
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.hello = self.start("bench.hello:app", "hello")
        self.api = self.start("api.main:app", "api")
        # Polls get processes of their own: after thousands of list pages the estates' process has
        # a heap (and a page cache) that the poll variants' fresh processes would not have.
        self.polls = self.start("api.main:app", "polls")
        self.fastapi = self.start("bench.poll_variants:fastapi_route_app", "fastapi", factory=True)
        self.middleware = self.start("bench.poll_variants:middleware_app", "middleware", factory=True)

    def start(self, app: str, name: str, *, factory: bool = False) -> str:
        port = self.harness.free_port()
        env = {**self.harness.env, "LOG_LEVEL": "INFO", "LOG_JSON": "true"}
        with (self.log_dir / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                 "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--proxy-headers",
                 *(["--factory"] if factory else [])],
                cwd=self.harness.root, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes.append(process)
        self.harness.wait_port(port)
        return f"http://127.0.0.1:{port}"

    def access_lines(self, name: str) -> int:
        with (self.log_dir / f"{name}.log").open("rb") as log:
            return sum(1 for line in log if _is_access_line(line))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(10)


def wrk(url: str, headers: dict[str, str], paths: Path | None = None, seconds: int = SECONDS) -> Load:
    env = {
        **os.environ,
        "BENCH_AUTH": headers.get("Authorization", ""),
        "BENCH_IF_NONE_MATCH": headers.get("If-None-Match", ""),
        "BENCH_PATHS": str(paths or ""),
    }
    # --timeout: an answer slower than wrk's default 2 s is a latency to count in the p99, not a
    # request to drop from the figures.
    out = subprocess.run(
        ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s",
         "-s", str(Path(__file__).with_name("read_path.lua")), url],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    requests, duration_us, p50, p99, _mean, status_errors, timeouts, socket_errors, distinct = line.split()[1:]
    return Load(
        requests=int(requests),
        requests_per_second=int(requests) / (int(duration_us) / 1e6),
        p50_ms=float(p50) / 1000,
        p99_ms=float(p99) / 1000,
        status_errors=int(status_errors),
        timeouts=int(timeouts),
        socket_errors=int(socket_errors),
        distinct_paths=int(distinct),
    )


async def prepare(harness: ReadHarness, resources: Resources, settings: Settings) -> Fixture:
    """Estates from a full sync against the simulator, a broker signed in, a queued job."""
    port = harness.free_port()
    simulator = await asyncio.to_thread(
        start_simulator, port, str(harness.root), installation=INSTALLATION, estates=ESTATES
    )
    try:
        organization_id = await synced_organization(settings, f"http://127.0.0.1:{port}", INSTALLATION, SYNC_BUDGET)
    finally:
        simulator.terminate()
        await asyncio.to_thread(simulator.wait, 10)
    async with transaction(resources) as session:
        user = User(organization_id=organization_id, email=f"read-{uuid.uuid4().hex[:8]}@example.com",
                    full_name="Bench Broker", password_hash="x", role=UserRole.BROKER.value)  # fmt: skip
        job = Job(organization_id=organization_id, kind="maintenance.cleanup")
        session.add_all([user, job])
        await session.flush()
        sign_in = AuthSession(user_id=user.id)
        session.add(sign_in)
        await session.flush()
        # As in production once the mirror ran: every image in Blob Storage, so every thumbnail and
        # image URL a page shows is a read SAS (signed by the API). The blobs themselves are not
        # needed: no request here fetches an image.
        await session.execute(
            update(EstateImage)
            .where(EstateImage.estate_id.in_(select(Estate.id).where(Estate.organization_id == organization_id)))
            .values(blob_name="images/bench/" + cast(EstateImage.id, String) + ".jpg", mirrored_at=func.now())
        )
        listed = Estate.organization_id == organization_id, Estate.deleted_at.is_(None)
        estates = await session.scalar(select(func.count()).select_from(Estate).where(*listed))
        updated_from = await session.scalar(select(func.min(Estate.updated_at)).where(*listed))
    assert estates, "the sync wrote no estates"
    assert updated_from is not None
    token, _ = resources.token_codec.encode(
        subject=user.id, organization_id=organization_id, role=user.role, token_type=TokenType.ACCESS,
        ttl=timedelta(hours=2), session_id=sign_in.id,
    )  # fmt: skip
    return Fixture(organization_id, token, job.id, estates, updated_from)


def walk_pages(api: str, auth: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every listed estate's id and every page's `next_cursor`, as the API hands them out."""
    ids: list[str] = []
    cursors: list[str] = []
    with httpx.Client(base_url=api, headers=auth, timeout=30) as client:
        params: dict[str, str | int] = {"limit": 50}
        while True:
            page = client.get("/api/v1/estates", params=params)
            page.raise_for_status()
            body = page.json()
            ids += [item["id"] for item in body["items"]]
            if body["next_cursor"] is None:
                return ids, cursors
            cursors.append(body["next_cursor"])
            params["cursor"] = body["next_cursor"]


def list_paths(fixture: Fixture, cursors: list[str], count: int) -> list[str]:
    """`count` estate-list query strings, no two alike: `updated_since` moves by a few milliseconds
    on every one (all before the oldest estate's update, so pages stay full), every third carries a
    status filter and every fourth a cursor from the first half of the list (still full pages)."""
    early = cursors[: max(1, len(cursors) // 2)]
    start = fixture.updated_from - timedelta(days=30)
    paths = []
    for n, cursor in zip(range(count), itertools.cycle(early), strict=False):
        since = (start + timedelta(milliseconds=7 * n)).isoformat().replace("+00:00", "Z")
        query = f"limit=50&updated_since={since}"
        if n % 3 == 0:
            query += STATUS_FILTERS[n // 3 % len(STATUS_FILTERS)]
        if n % 4 == 1:
            query += f"&cursor={cursor}"
        paths.append("/api/v1/estates?" + query)
    return paths


def check_paths(api: str, auth: dict[str, str], paths: list[str]) -> None:
    """A sample of the prepared requests, answered 200 with a full page each (a filtered one may
    run short near the end of the list; the list's own tests cover correctness)."""
    with httpx.Client(base_url=api, headers=auth, timeout=30) as client:
        for path in paths[:12]:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])


def run_round(
    servers: Servers, auth: dict[str, str], etag: str, files: dict[str, Path], job_id: uuid.UUID, number: int
) -> dict[str, Load]:
    poll = f"/api/v1/jobs/{job_id}"
    conditional = {**auth, "If-None-Match": etag}
    runs = {
        "hello": wrk(servers.hello + "/hello", {}),
        "estate_list": wrk(servers.api + "/api/v1/estates", auth, files["list"]),
        "estate_detail": wrk(servers.api + "/api/v1/estates", auth, files["detail"]),
    }
    # The three ways of answering a poll take turns at going first: the machine's speed drifts
    # within a round, and no variant should always meet the same part of the drift.
    variants = [("poll", servers.polls), ("fastapi_poll", servers.fastapi), ("middleware_poll", servers.middleware)]
    for name, server in variants[number % 3 :] + variants[: number % 3]:
        runs[f"{name}_200"] = wrk(server + poll, auth)
        runs[f"{name}_304"] = wrk(server + poll, conditional)
    runs["hello_again"] = wrk(servers.hello + "/hello", {})
    failed = {
        name: f"{load.status_errors} answers >= 400, {load.timeouts} timeouts, {load.socket_errors} socket errors"
        for name, load in runs.items()
        if load.errors
    }
    if failed:
        raise RuntimeError(f"requests answered with an error or not at all: {failed}")
    if runs["estate_list"].requests > runs["estate_list"].distinct_paths:
        raise RuntimeError(
            "the list run sent more requests than it had distinct query strings: raise LIST_PATHS_PER_SECOND"
        )
    return runs


def summarize(rounds: list[dict[str, Load]]) -> dict[str, Any]:
    per_round: list[dict[str, Any]] = []
    for runs in rounds:
        hello_rps = statistics.mean([runs["hello"].requests_per_second, runs["hello_again"].requests_per_second])
        hello_p99 = statistics.mean([runs["hello"].p99_ms, runs["hello_again"].p99_ms])
        per_round.append(
            {
                "hello_rps": hello_rps,
                "hello_p99_ms": hello_p99,
                "vs_hello": {name: load.requests_per_second / hello_rps for name, load in runs.items()},
                "p99_vs_hello": {name: load.p99_ms / hello_p99 for name, load in runs.items()},
            }
        )
    medians = {
        name: {
            "requests_per_second": statistics.median(r[name].requests_per_second for r in rounds),
            "p50_ms": statistics.median(r[name].p50_ms for r in rounds),
            "p99_ms": statistics.median(r[name].p99_ms for r in rounds),
            "vs_hello": statistics.median(r["vs_hello"][name] for r in per_round),
            "p99_vs_hello": statistics.median(r["p99_vs_hello"][name] for r in per_round),
        }
        for name in RUNS
    }
    return {"per_round": per_round, "medians": medians}


async def read_path_benchmark(harness: ReadHarness, resources: Resources, settings: Settings) -> dict[str, Any]:
    fixture = await prepare(harness, resources, settings)
    auth = {"Authorization": f"Bearer {fixture.token}"}
    with tempfile.TemporaryDirectory(prefix="bench-read-") as scratch:
        directory = Path(scratch)
        servers = await asyncio.to_thread(Servers, harness, directory)
        try:
            rounds, access = await asyncio.to_thread(_load, servers, directory, fixture, auth)
        finally:
            await asyncio.to_thread(servers.stop)
    sse = await sse_benchmark(resources, fixture.organization_id, fixture.token, lambda: _pinned_api(harness))
    return {
        "estates": fixture.estates,
        "rounds": [{name: asdict(load) for name, load in runs.items()} for runs in rounds],
        **summarize(rounds),
        "access_log_lines_per_request": access,
        "sse": sse,
        "loadavg": os.getloadavg(),
    }


def _load(
    servers: Servers, directory: Path, fixture: Fixture, auth: dict[str, str]
) -> tuple[list[dict[str, Load]], float]:
    ids, cursors = walk_pages(servers.api, auth)
    paths = list_paths(fixture, cursors, SECONDS * LIST_PATHS_PER_SECOND)
    check_paths(servers.api, auth, paths)
    files = {"list": directory / "list.txt", "detail": directory / "detail.txt"}
    files["list"].write_text("\n".join(paths) + "\n")
    files["detail"].write_text("".join(f"/api/v1/estates/{estate_id}\n" for estate_id in ids))
    probe = httpx.get(f"{servers.api}/api/v1/jobs/{fixture.job_id}", headers=auth)
    assert probe.status_code == 200, probe.text
    etag = probe.headers["etag"]
    poll = f"/api/v1/jobs/{fixture.job_id}"
    for url in (servers.hello + "/hello", servers.polls + poll, servers.fastapi + poll, servers.middleware + poll):
        wrk(url, auth, seconds=2)  # warm-up
    wrk(servers.api + "/api/v1/estates", auth, files["detail"], seconds=2)
    before = sum(servers.access_lines(name) for name in ("api", "polls", "fastapi", "middleware"))
    rounds = [run_round(servers, auth, etag, files, fixture.job_id, number) for number in range(ROUNDS)]
    api_requests = sum(load.requests for runs in rounds for name, load in runs.items() if not name.startswith("hello"))
    logged = sum(servers.access_lines(name) for name in ("api", "polls", "fastapi", "middleware")) - before
    # The figures count only with the access log on, as in production.
    assert logged >= 0.99 * api_requests, f"{logged} access lines for {api_requests} API requests"
    return rounds, logged / api_requests


def _is_access_line(line: bytes) -> bool:
    try:
        return bool(json.loads(line).get("logger") == "api.access")
    except ValueError:
        return False


def _pinned_api(harness: ReadHarness) -> tuple[int, subprocess.Popen[bytes]]:
    port = harness.free_port()
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--proxy-headers"],
        cwd=harness.root, env={**harness.env, "LOG_LEVEL": "INFO"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    harness.wait_port(port)
    return port, process


def report_lines(read: dict[str, Any]) -> list[str]:
    lines = [
        f"read path: {read['estates']} synced estates, {len(read['rounds'])} rounds of {SECONDS} s, "
        f"load average {' '.join(f'{load:.1f}' for load in read['loadavg'])}; access log lines per API request: "
        f"{read['access_log_lines_per_request']:.2f}",
    ]
    for number, (runs, summary) in enumerate(zip(read["rounds"], read["per_round"], strict=True), start=1):
        lines.append(f"round {number}:")
        lines += [  # in the order they ran
            f"  {name:19} {load['requests_per_second']:7.0f} req/s  {summary['vs_hello'][name]:5.2f}x  "
            f"p50 {load['p50_ms']:6.2f} ms  p99 {load['p99_ms']:7.2f} ms = "
            f"{summary['p99_vs_hello'][name]:5.2f}x hello's"
            for name, load in runs.items()
        ]
    lines.append("medians over the rounds:")
    for name in RUNS:
        median = read["medians"][name]
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            worst_p99 = max(summary["p99_vs_hello"][name] for summary in read["per_round"])
            met = median["vs_hello"] >= target and worst_p99 <= P99_OVER_HELLO
            verdict = (
                f"  target >= {target}x, every p99 <= {P99_OVER_HELLO:.0f}x hello's (worst {worst_p99:.2f}x): "
                + ("met" if met else "NOT MET")
            )
        lines.append(
            f"  {name:19} {median['requests_per_second']:7.0f} req/s  {median['vs_hello']:5.2f}x  "
            f"p50 {median['p50_ms']:6.2f} ms  p99 {median['p99_ms']:7.2f} ms{verdict}"
        )
    sse = read["sse"]
    lines += sse_lines(sse)
    lines.append(
        f"SSE fan-out target < {SSE_TARGET_MS:.0f} ms: "
        + ("met" if sse["last_ms_median"] < SSE_TARGET_MS else "NOT MET")
    )
    return lines
