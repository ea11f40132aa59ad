"""`make bench`: speed targets as ratios against baselines measured in the same run.

1. Job polling: the authenticated job GET (200, and 304 with If-None-Match) against a bare FastAPI
   hello route, both served by uvicorn (uvloop, httptools, one process), loaded by wrk (one thread) with 64
   connections. Targets: poll >= 0.5x hello's requests/s, p99 <= 3x p50, the 304 path faster still.
2. Jobs/s through the whole job wrapper (claim, trivial body, finish, ack) against plain taskiq
   no-op tasks on the same broker and worker. Target >= 0.5x.
3. Enqueue-to-claim latency on an idle queue: p50 and p99 (target p99 < 100 ms).
4. (vitec) Syncs against the simulator at the Vitec request budget (the estate list is measured in `read`).
5. (uploads) 1 GiB streamed through the API into Azurite: the API's peak RSS growth (target
   <= 50 MB) and throughput against the SDK's own upload_blob in the same run (target >= 0.7x).
6. (sse) SSE fan-out: one job change to 1 000 open event streams (`bench/sse.py`; target < 250 ms).
7. (reports) Report rendering (bench/reports.py): typst against reportlab on the prospectus with
   photos, one core; PDF sizes; RSS over consecutive renders. Then (also alone as `report_jobs`) reports
   through the whole job in one real worker process (bench/report_jobs.py): reports/s, the worker's
   CPU time a report (target >= 30 a CPU second) and its RSS over BENCH_REPORT_RENDERS reports.
8. (mirror) Mirror (bench/mirror.py): 1 000 images of 10 KiB into Blob Storage, share of the Vitec
   budget used (target >= 0.8).
9. (read) The read path as a frontend meets it (bench/read_path.py, issue 11): hello, the estate list
   with a fresh query string per request, the estate detail, the job poll 200/304 through the route
   and through the former poll fast path, hello again; servers pinned to one core, wrk on the other,
   the access log on; BENCH_READ_ROUNDS rounds, medians; then the SSE fan-out. Targets: list >= 0.25x,
   detail >= 0.3x, poll >= 0.5x hello, every p99 <= 3x hello's, SSE < 250 ms.

Everything runs on this machine against its PostgreSQL and Redis, in a database and Redis index of
the benchmark's own. Results: printed, and written to bench/out/latest.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import func, insert, select

from bench.mirror import mirror_benchmark, mirror_lines
from bench.read_path import ReadHarness, read_path_benchmark
from bench.read_path import report_lines as read_lines
from bench.report_jobs import report_job_benchmark, report_job_lines
from bench.reports import report_lines, reports_benchmark
from bench.sse import report_lines as sse_lines
from bench.sse import sse_benchmark
from bench.uploads import Harness, upload_benchmark, upload_lines
from bench.vitec import start_simulator, sync_benchmarks
from core.resources import Resources
from core.security import TokenType
from core.settings import (
    AppSettings,
    AuthSettings,
    DatabaseSettings,
    Environment,
    JobSettings,
    RedisSettings,
    Settings,
)
from domain.users import UserRole
from repository.databases import create_database_if_missing, drop_database
from repository.job_queue import JobQueue, stream_stats
from repository.jobs import DispatchItem
from repository.models import AuthSession, Job, Organization, User
from service.unit_of_work import transaction

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/estate_bff_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# Rounds of plain tasks and wrapped jobs in the throughput benchmark.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Which parts to run (comma-separated): poll, jobs, vitec, uploads, sse, reports, report_jobs, mirror, read;
# all by default (`reports` includes `report_jobs`).
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "poll,jobs,vitec,uploads,sse,reports,mirror,read").split(",")))
# Consecutive prospectus renders over which the renderer's RSS is watched.
REPORT_RENDERS = int(os.environ.get("BENCH_REPORT_RENDERS", "1000"))
CONNECTIONS = 64
JWT_SECRET = "bench-jwt-secret-" + "b" * 32
ENV = {
    "ENVIRONMENT": "test",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "JWT_SECRET": JWT_SECRET,
    "LOG_LEVEL": "WARNING",
    "JOB_STREAM": "estate-bff:bench:jobs",
    "JOB_CONSUMER_GROUP": "estate-bff:bench:workers",
    "JOB_WORKER_METRICS_PORT": "0",
    "JOB_WORKER_NAME": "bench-worker",
}


def bench_settings() -> Settings:
    return Settings(
        app=AppSettings(environment=Environment.TEST, log_level="WARNING"),
        database=DatabaseSettings(url=DATABASE_URL),
        redis=RedisSettings(url=REDIS_URL),
        auth=AuthSettings(jwt_secret=JWT_SECRET, password_hash_memory_kib=1024),  # type: ignore[arg-type]
        jobs=JobSettings(stream=ENV["JOB_STREAM"], consumer_group=ENV["JOB_CONSUMER_GROUP"], worker_metrics_port=0),
    )


def child_env() -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("JOB_", "DATABASE_", "REDIS_"))}
    return {**inherited, **ENV}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def serve(app: str, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
         "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**child_env(), **(extra_env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port)
    return process


def start_api() -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    return port, serve("api.main:app", port)


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(url: str, seconds: int, headers: dict[str, str]) -> Load:
    env = {
        **os.environ,
        "BENCH_AUTH": headers.get("Authorization", ""),
        "BENCH_IF_NONE_MATCH": headers.get("If-None-Match", ""),
    }
    out = subprocess.run(
        # One wrk thread: on two cores a second one competes with the server it measures.
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(ROOT / "bench" / "headers.lua"), url],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    requests, duration_us, p50, p99, _mean, status_errors, timeouts = line.split()[1:]
    return Load(
        requests_per_second=int(requests) / (int(duration_us) / 1e6),
        p50_ms=float(p50) / 1000,
        p99_ms=float(p99) / 1000,
        errors=int(status_errors) + int(timeouts),
    )


async def prepare(resources: Resources) -> tuple[str, uuid.UUID]:
    """An organization, an admin and a queued job; a token for the admin."""
    async with transaction(resources) as session:
        organization = Organization(name="Bench AS", vitec_installation_id="BENCH" + uuid.uuid4().hex[:8].upper())
        session.add(organization)
        await session.flush()
        user = User(organization_id=organization.id, email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                    full_name="Bench", password_hash="x", role=UserRole.ADMIN.value)  # fmt: skip
        job = Job(organization_id=organization.id, kind="maintenance.cleanup")
        session.add_all([user, job])
        await session.flush()
        sign_in = AuthSession(user_id=user.id)
        session.add(sign_in)
        await session.flush()
    token, _ = resources.token_codec.encode(
        subject=user.id, organization_id=organization.id, role=user.role, token_type=TokenType.ACCESS,
        ttl=timedelta(hours=1), session_id=sign_in.id,
    )  # fmt: skip
    return token, job.id


def poll_benchmark(token: str, job_id: uuid.UUID) -> dict[str, Any]:
    hello_port, api_port = free_port(), free_port()
    hello, api = serve("bench.hello:app", hello_port), serve("api.main:app", api_port)
    try:
        hello_url = f"http://127.0.0.1:{hello_port}/hello"
        job_url = f"http://127.0.0.1:{api_port}/api/v1/jobs/{job_id}"
        auth = {"Authorization": f"Bearer {token}"}
        probe = subprocess.run(["curl", "-s", "-i", job_url, "-H", f"Authorization: Bearer {token}"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert probe.startswith("HTTP/1.1 200"), probe[:200]
        etag = next(line.split(": ", 1)[1].strip() for line in probe.splitlines() if line.lower().startswith("etag"))
        for url, headers in ((hello_url, {}), (job_url, auth)):  # warm both up
            wrk(url, 2, headers)
        runs = {
            "hello": wrk(hello_url, SECONDS, {}),
            "poll_200": wrk(job_url, SECONDS, auth),
            "poll_304": wrk(job_url, SECONDS, {**auth, "If-None-Match": etag}),
            "hello_again": wrk(hello_url, SECONDS, {}),
        }
    finally:
        for process in (hello, api):
            process.terminate()
            process.wait(10)
    baseline = statistics.mean([runs["hello"].requests_per_second, runs["hello_again"].requests_per_second])
    return {
        "runs": {name: asdict(load) for name, load in runs.items()},
        "poll_200_vs_hello": runs["poll_200"].requests_per_second / baseline,
        "poll_304_vs_hello": runs["poll_304"].requests_per_second / baseline,
        "poll_200_p99_over_p50": runs["poll_200"].p99_ms / runs["poll_200"].p50_ms,
        "poll_304_p99_over_p50": runs["poll_304"].p99_ms / runs["poll_304"].p50_ms,
    }


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "taskiq", "worker", "bench.tasks:broker",
         "--workers", "1", "--no-configure-logging", "--log-level", "WARNING"],
        cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def drained(resources: Resources) -> bool:
    stats = await stream_stats(resources.redis, resources.settings.jobs)
    return stats.pending == 0 and (stats.lag or 0) == 0


async def wait_until(check: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark step did not finish in time")
        await asyncio.sleep(0.01)


async def throughput_benchmark(resources: Resources, organization_id: uuid.UUID, count: int) -> dict[str, Any]:
    """Plain taskiq tasks and wrapped jobs in alternating rounds (the machine's speed drifts within
    a run); the ratio is of the medians."""
    worker = start_worker()
    plain_rates: list[float] = []
    job_rates: list[float] = []
    try:
        await wait_until(lambda: _worker_alive(resources), 30)
        for _ in range(ROUNDS):
            plain_rates.append(await _plain_rate(resources, count))
            job_rates.append(await _wrapped_rate(resources, organization_id, count))
        latencies = await claim_latency(resources, organization_id, samples=200)
    finally:
        worker.terminate()
        worker.wait(30)
    plain, wrapped = statistics.median(plain_rates), statistics.median(job_rates)
    return {
        "plain_taskiq_tasks_per_second": plain,
        "wrapped_jobs_per_second": wrapped,
        "rounds": {"plain": plain_rates, "wrapped": job_rates},
        "jobs_vs_plain": wrapped / plain,
        "enqueue_to_claim_ms": latencies,
    }


async def _plain_rate(resources: Resources, count: int) -> float:
    """Plain taskiq no-op tasks on the same broker and worker: the baseline."""
    from taskiq.kicker import AsyncKicker

    kicker: AsyncKicker[[int], None] = AsyncKicker("bench.plain", resources.broker, labels={})
    started = time.monotonic()
    for seq in range(count):
        await kicker.kiq(seq)
    await wait_until(lambda: drained(resources), 300)
    return count / (time.monotonic() - started)


async def _wrapped_rate(resources: Resources, organization_id: uuid.UUID, count: int) -> float:
    """The same number of jobs through the whole wrapper: claim, trivial body, finish, ack."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with transaction(resources) as session:
        await session.execute(
            insert(Job), [{"id": job_id, "organization_id": organization_id, "kind": "bench.noop"} for job_id in ids]
        )
    queue = JobQueue(resources.broker)
    started = time.monotonic()
    for job_id in ids:
        await queue.send(DispatchItem(job_id, "bench.noop", None))
    # Timed like the baseline: until the group has nothing left to read or to ack (a job's message
    # is acked once its row reached `succeeded`); then every row is checked once.
    await wait_until(lambda: drained(resources), 600)
    elapsed = time.monotonic() - started
    async with resources.session_factory() as session:
        done = await session.scalar(
            select(func.count()).select_from(Job).where(Job.id.in_(ids), Job.status == "succeeded")
        )
    assert done == count, f"only {done} of {count} jobs succeeded"
    return count / elapsed


async def _worker_alive(resources: Resources) -> bool:
    return bool(await resources.redis.exists("estate-bff:workers:bench-worker"))


async def claim_latency(resources: Resources, organization_id: uuid.UUID, samples: int) -> dict[str, float]:
    """Idle queue: one job at a time, from the send to its `started_at` (the claim)."""
    queue = JobQueue(resources.broker)
    latencies: list[float] = []
    for _ in range(samples):
        job_id = uuid.uuid4()
        async with transaction(resources) as session:
            await session.execute(insert(Job).values(id=job_id, organization_id=organization_id, kind="bench.noop"))
        sent = datetime.now(UTC)
        await queue.send(DispatchItem(job_id, "bench.noop", None))

        async def claimed(job_id: uuid.UUID = job_id) -> bool:
            async with resources.session_factory() as session:
                return await session.scalar(select(Job.started_at).where(Job.id == job_id)) is not None

        await wait_until(claimed, 10)
        async with resources.session_factory() as session:
            started_at = await session.scalar(select(Job.started_at).where(Job.id == job_id))
        assert started_at is not None
        latencies.append((started_at - sent).total_seconds() * 1000)
        await asyncio.sleep(0.02)  # let the queue go idle again
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "max": latencies[-1],
    }


async def main() -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    await drop_database(DATABASE_URL)
    await create_database_if_missing(DATABASE_URL)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", DATABASE_URL)
    config.attributes["configure_logger"] = False
    await asyncio.to_thread(command.upgrade, config, "head")
    resources = Resources.build(bench_settings())
    await resources.start_producer()
    await resources.redis.delete(ENV["JOB_STREAM"])
    await resources.broker.startup()
    results: dict[str, Any] = {}
    try:
        token, job_id = await prepare(resources)
        if "reports" in ONLY:
            results["reports"] = reports_benchmark(REPORT_RENDERS)
        if ONLY & {"reports", "report_jobs"}:
            results["report_jobs"] = await report_job_benchmark(
                bench_settings(), str(ROOT), child_env(), REPORT_RENDERS
            )
        if "mirror" in ONLY:
            results["mirror"] = await mirror_benchmark(bench_settings(), str(ROOT), free_port())
        if "poll" in ONLY:
            results["poll"] = await asyncio.to_thread(poll_benchmark, token, job_id)
        async with resources.session_factory() as session:
            organization_id = await session.scalar(select(Job.organization_id).where(Job.id == job_id))
        assert organization_id is not None
        if "jobs" in ONLY:
            count = int(os.environ.get("BENCH_JOBS", "2000"))
            results["jobs"] = await throughput_benchmark(resources, organization_id, count=count)
        if "sse" in ONLY:
            results["sse"] = await sse_benchmark(resources, organization_id, token, start_api)
        if "vitec" in ONLY:
            simulator_port = free_port()
            simulator = start_simulator(simulator_port, str(ROOT))
            try:
                vitec = await sync_benchmarks(bench_settings(), f"http://127.0.0.1:{simulator_port}")
            finally:
                simulator.terminate()
                simulator.wait(10)
            results["vitec"] = vitec
        if "read" in ONLY:
            read_harness = ReadHarness(ROOT, child_env(), free_port, wait_port)
            results["read"] = await read_path_benchmark(read_harness, resources, bench_settings())
        if "uploads" in ONLY:
            harness = Harness(ROOT, free_port, wait_port, serve)
            results["uploads"] = await upload_benchmark(harness, resources, organization_id, token)
    finally:
        await resources.redis.delete(ENV["JOB_STREAM"])
        await resources.close()
        await drop_database(DATABASE_URL)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        **results,
    }


def report(results: dict[str, Any]) -> str:
    lines = [f"{results['date']} on {results['machine']}"]
    if "poll" in results:
        lines += _poll_lines(results["poll"])
    if "jobs" in results:
        lines += _jobs_lines(results["jobs"])
    if "vitec" in results:
        lines += _vitec_lines(results["vitec"])
    if "sse" in results:
        lines += sse_lines(results["sse"])
    if "uploads" in results:
        lines += upload_lines(results["uploads"])
    if "reports" in results:
        lines += report_lines(results["reports"])
    if "report_jobs" in results:
        lines += report_job_lines(results["report_jobs"])
    if "mirror" in results:
        lines += mirror_lines(results["mirror"])
    if "read" in results:
        lines += read_lines(results["read"])
    return "\n".join(lines)


def _poll_lines(poll: dict[str, Any]) -> list[str]:
    runs = poll["runs"]
    return [
        *(
            f"{name:17} {runs[name]['requests_per_second']:9.0f} req/s  p50 {runs[name]['p50_ms']:6.2f} ms  "
            f"p99 {runs[name]['p99_ms']:6.2f} ms  errors {runs[name]['errors']}"
            for name in ("hello", "poll_200", "poll_304", "hello_again")
        ),
        f"poll 200 / hello: {poll['poll_200_vs_hello']:.2f}x (target >= 0.5), "
        f"p99/p50 {poll['poll_200_p99_over_p50']:.2f} (target <= 3)",
        f"poll 304 / hello: {poll['poll_304_vs_hello']:.2f}x, p99/p50 {poll['poll_304_p99_over_p50']:.2f}",
    ]


def _jobs_lines(jobs: dict[str, Any]) -> list[str]:
    latency = jobs["enqueue_to_claim_ms"]
    rounds = jobs["rounds"]
    return [
        f"rounds: plain {', '.join(f'{rate:.0f}' for rate in rounds['plain'])} tasks/s; "
        f"wrapped {', '.join(f'{rate:.0f}' for rate in rounds['wrapped'])} jobs/s",
        f"plain taskiq no-op (median): {jobs['plain_taskiq_tasks_per_second']:.0f} tasks/s; through the job wrapper: "
        f"{jobs['wrapped_jobs_per_second']:.0f} jobs/s = {jobs['jobs_vs_plain']:.2f}x (target >= 0.5)",
        f"enqueue-to-claim on an idle queue: p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, "
        f"max {latency['max']:.1f} ms (target p99 < 100 ms)",
    ]


def _vitec_lines(vitec: dict[str, Any]) -> list[str]:
    return [
        f"full sync of {vitec['estates']} estates at a budget of {vitec['budget_requests_per_second']} requests/s: "
        f"{vitec['full_seconds']:.1f} s, {vitec['full_estates_per_second']:.0f} estates/s, "
        f"{vitec['full_budget_used']:.2f} of the budget used (target >= 0.8)",
        f"incremental sync with {vitec['incremental_changed']} changed: {vitec['incremental_requests']} requests, "
        f"{vitec['incremental_requests_per_changed_estate']:.2f} per changed estate (target <= 1.05), "
        f"{vitec['incremental_seconds']:.2f} s",
    ]


if __name__ == "__main__":
    outcome = asyncio.run(main())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(outcome, indent=2))
    print(report(outcome))  # noqa: T201
