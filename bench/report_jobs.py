"""Reports through the whole job (`BENCH_ONLY=reports`, run from bench/__main__.py): `reports.render`
of prospectuses with 6 photos each, claim → data → images → render → upload → `succeeded`, run by one
real worker process (the production worker module, `taskiq worker worker.broker:broker worker.tasks
--workers 1`, with the benchmark's settings) against PostgreSQL, Redis and Azurite.

- Estates: BENCH_REPORT_JOBS (default 200), each with 6 camera-size photos (2 400 x 1 600 px JPEGs)
  of its own: a base photo with a mark of the image's own, so no two photos share bytes or pixels and
  no cache of decoded or prepared pictures (typst keeps one) can answer for another estate. They are
  stored the way `blobs.mirror` stores them (`store_image`: the original under its hash, and the
  print-size copies beside it) and recorded as mirrored, with a department and a responsible broker.
- Throughput: every estate's report once, jobs created as the API creates them (`JobService.start`,
  sent to the stream after commit), from before the first enqueue to the last `succeeded`. CPU: the
  worker's process tree's utime + stime (/proc/<pid>/stat) over the same span, per document: what
  "per core" means here, since typst renders in threads and may use the second core.
- Memory: further rounds until BENCH_REPORT_RENDERS reports (default 1 000) were rendered by the same
  worker; before each round every estate's content hash changes (else an unchanged estate's report is
  reused, not rendered). The worker's VmRSS is sampled throughout; the target is no growth past the
  first hundred reports.
- A few warm-up reports of estates of their own go first (the worker loads typst and its fonts).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import String, cast, func, select, update

from core.resources import Resources
from core.settings import AzureSettings, Settings
from domain.reports import ReportTemplate
from domain.vitec import BrokerRole
from repository.documents import DocumentRepository
from repository.models import Department, Employee, Estate, EstateBroker, EstateImage, Job, Organization
from service.blobs import blob_store, prepare_blob_storage
from service.image_mirror import image_blob_name, store_image
from service.jobs import JobService
from service.report_rendering import render_report
from service.reports import MirroredImages, ReportDataService, VitecImages
from service.unit_of_work import transaction
from service.vitec import vitec_client
from tests.azurite import start_blob_endpoint
from tests.factories.reports import CAPTIONS, DESCRIPTION, photo

ESTATES = int(os.environ.get("BENCH_REPORT_JOBS", "200"))
# A file to write py-spy's samples of the worker's first round to (collapsed stacks), when set.
PROFILE = os.environ.get("BENCH_REPORT_PROFILE", "")
WARM_UP = 5
PART_ESTATES = 20  # estates whose report is taken apart
PHOTOS = 6
BASE_PHOTOS = 12
STORING = 8  # estates stored at once while setting up
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    reports: int
    seconds: float
    cpu_seconds: float
    load_average: tuple[float, float, float]

    @property
    def per_second(self) -> float:
        return self.reports / self.seconds

    @property
    def cpu_ms_per_report(self) -> float:
        return 1000 * self.cpu_seconds / self.reports


@dataclass
class Memory:
    samples: list[tuple[int, float]] = field(default_factory=list)  # (reports rendered so far, RSS in MiB)

    def at(self, reports: int) -> float:
        """The first sample taken once `reports` were rendered (the last one if there were fewer)."""
        return next((rss for done, rss in self.samples if done >= reports), self.samples[-1][1])


async def report_job_benchmark(settings: Settings, root: str, env: dict[str, str], renders: int) -> dict[str, Any]:
    endpoint = await asyncio.to_thread(start_blob_endpoint, root)
    azure = AzureSettings(connection_string=endpoint.connection_string, container=f"bench-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    resources = Resources.build(settings.model_copy(update={"azure": azure}))
    await resources.start_producer()
    await prepare_blob_storage(resources)
    worker: subprocess.Popen[bytes] | None = None
    try:
        setup_started = time.monotonic()
        organization_id = await _organization(resources)
        warm_up = await _estates(resources, organization_id, WARM_UP, first=0)
        estates = await _estates(resources, organization_id, ESTATES, first=WARM_UP)
        setup_seconds = time.monotonic() - setup_started
        worker = _start_worker(root, env, azure)
        await _until(lambda: _alive(resources, env["JOB_WORKER_NAME"]), 60)
        await _round(resources, worker.pid, organization_id, warm_up, Memory(), done_before=0)
        memory = Memory([(0, _rss_mib(_busiest_child(worker.pid)))])
        rounds: list[Round] = []
        while sum(r.reports for r in rounds) < renders:
            if rounds:
                await _change(resources, estates)
            done = sum(r.reports for r in rounds)
            profiler = _profile(_busiest_child(worker.pid)) if PROFILE and not rounds else None
            rounds.append(await _round(resources, worker.pid, organization_id, estates, memory, done_before=done))
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its samples when interrupted
                profiler.wait(60)
        _stop(worker)
        apart = await _estates(resources, organization_id, PART_ESTATES, first=WARM_UP + ESTATES)
        parts = await _parts(resources, organization_id, apart)
    finally:
        if worker is not None:
            _stop(worker)
        await blob_store(resources).delete_container()
        await resources.close()
        endpoint.stop()
    return {**_results(rounds, memory, setup_seconds), "parts_cpu_ms": parts}


async def _parts(resources: Resources, organization_id: uuid.UUID, estates: list[uuid.UUID]) -> dict[str, float]:
    """The CPU time (this process, its threads included) of each part of a report, one at a time, on
    estates of their own: photos no typst in this process has seen."""
    loader = ReportDataService
    sources = []
    started = time.process_time()
    for estate_id in estates:
        async with transaction(resources) as session:
            source = await loader(session, resources).source(organization_id, estate_id, ReportTemplate.PROSPECTUS)
            await DocumentRepository(session).live_report(estate_id, "0" * 64)
        sources.append(source)
    data_ms = _ms_each(started, len(estates))
    images = MirroredImages(blob_store(resources), VitecImages(vitec_client(resources)))
    async with resources.session_factory() as unused:  # the images need no database
        service = loader(unused, resources, images=images)
        started = time.process_time()
        fetched = [await service.images(source) for source in sources]
        images_ms = _ms_each(started, len(estates))
    now = datetime.now(UTC)
    render_report(ReportTemplate.PROSPECTUS, sources[0].data((), now=now))  # this thread's compiler and fonts
    started = time.process_time()
    pdfs = [render_report(ReportTemplate.PROSPECTUS, s.data(i, now=now)) for s, i in zip(sources, fetched, strict=True)]
    render_ms = _ms_each(started, len(estates))
    started = time.process_time()
    for pdf in pdfs:
        await blob_store(resources).upload_bytes(f"bench-parts/{uuid.uuid4()}", pdf, "application/pdf")
    upload_ms = _ms_each(started, len(estates))
    started = time.process_time()
    for source in sources:
        render_report(ReportTemplate.PROSPECTUS, source.data((), now=now))
    return {
        "data_unit_of_work": data_ms, "six_image_reads": images_ms, "render": render_ms,
        "render_without_images": _ms_each(started, len(estates)), "pdf_upload": upload_ms,
        "pdf_kib": sum(len(pdf) for pdf in pdfs) / len(pdfs) / 1024,
    }  # fmt: skip


def _ms_each(started: float, count: int) -> float:
    return 1000 * (time.process_time() - started) / count


def _results(rounds: list[Round], memory: Memory, setup_seconds: float) -> dict[str, Any]:
    first, later = rounds[0], rounds[1:]
    total = sum(r.reports for r in rounds)
    return {
        "estates": ESTATES,
        "photos_per_estate": PHOTOS,
        "setup_seconds": setup_seconds,
        "first_round": {
            "reports_per_second": first.per_second,
            "worker_cpu_ms_per_report": first.cpu_ms_per_report,
            "reports_per_cpu_second": 1000 / first.cpu_ms_per_report,
            "load_average": first.load_average,
        },
        "rounds": [
            {"reports": r.reports, "per_second": r.per_second, "cpu_ms": r.cpu_ms_per_report, "load": r.load_average}
            for r in rounds
        ],
        "later_rounds_per_second": sum(r.reports for r in later) / sum(r.seconds for r in later) if later else None,
        "memory": {
            "reports": total,
            "after_warm_up_mib": memory.samples[0][1],
            "after_100_mib": memory.at(100),
            "end_mib": memory.samples[-1][1],
            "peak_mib": max(rss for _, rss in memory.samples),
            "growth_after_100_mib": memory.samples[-1][1] - memory.at(100),
            "by_hundred": {str(n): memory.at(n) for n in range(100, total + 1, 100)},
            # Once a round is done nothing is in flight: these are comparable with each other.
            "round_ends": [memory.at(sum(r.reports for r in rounds[: n + 1])) for n in range(len(rounds))],
        },
    }


def report_job_lines(results: dict[str, Any]) -> list[str]:
    first, memory = results["first_round"], results["memory"]
    later = results["later_rounds_per_second"]
    load = " ".join(f"{value:.2f}" for value in first["load_average"])
    lines = [
        f"reports through the whole job, prospectus with {results['photos_per_estate']} photos, one worker process, "
        f"{results['estates']} estates: {first['reports_per_second']:.1f} reports/s from first enqueue to last "
        f"succeeded; worker CPU {first['worker_cpu_ms_per_report']:.1f} ms a report = "
        f"{first['reports_per_cpu_second']:.1f} reports per CPU second (load average {load})",
    ]
    if later is not None:
        cpu = ", ".join(f"{r['cpu_ms']:.1f}" for r in results["rounds"][1:])
        lines.append(
            f"  later rounds (the same photos again, estates changed): {later:.1f} reports/s, CPU ms a report: {cpu}"
        )
    hundreds = ", ".join(f"{n}: {rss:.0f}" for n, rss in memory["by_hundred"].items())
    lines += [
        f"worker RSS over {memory['reports']} reports: {memory['after_warm_up_mib']:.0f} MiB after warm-up, "
        f"{memory['after_100_mib']:.0f} after 100, {memory['end_mib']:.0f} at the end (peak {memory['peak_mib']:.0f}): "
        f"{memory['growth_after_100_mib']:+.1f} MiB past the first hundred",
        f"  RSS by hundreds of reports (MiB): {hundreds}",
        "  RSS at the end of each round, nothing in flight (MiB): "
        + ", ".join(f"{rss:.0f}" for rss in memory["round_ends"]),
        "CPU ms of each part of a report, one at a time in the benchmark's process: "
        + ", ".join(f"{name} {value:.1f}" for name, value in results["parts_cpu_ms"].items()),
    ]
    return lines


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not ended within 30 s (its work is done: nothing to drain)."""
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def _profile(pid: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--output", PROFILE, "--threads"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _start_worker(root: str, env: dict[str, str], azure: AzureSettings) -> subprocess.Popen[bytes]:
    blob_env = {
        "AZURE_STORAGE_CONNECTION_STRING": azure.connection_string.get_secret_value(),
        "AZURE_STORAGE_CONTAINER": azure.container,
        # As the Procfile and docker-compose.yml start the worker (BENCH_MALLOC_ARENA_MAX="" leaves glibc's default).
        "MALLOC_ARENA_MAX": os.environ.get("BENCH_MALLOC_ARENA_MAX", "2"),
    }
    if not blob_env["MALLOC_ARENA_MAX"]:
        del blob_env["MALLOC_ARENA_MAX"]
    return subprocess.Popen(
        [sys.executable, "-m", "taskiq", "worker", "worker.broker:broker", "worker.tasks",
         "--workers", "1", "--no-configure-logging", "--log-level", "WARNING"],
        cwd=root, env={**env, **blob_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def _round(
    resources: Resources, pid: int, organization_id: uuid.UUID, estates: list[uuid.UUID], memory: Memory,
    done_before: int,
) -> Round:  # fmt: skip
    """Every estate's prospectus once; timed from before the first enqueue to the last `succeeded`."""
    cpu_before, started = _tree_cpu_seconds(pid), time.monotonic()
    async with transaction(resources) as session:
        jobs = JobService(session, resources)
        ids = [
            (await jobs.start(None, "reports.render", organization_id=organization_id,
                              payload={"estate_id": str(estate_id), "template": "prospectus"})).job.id
            for estate_id in estates
        ]  # fmt: skip
    while True:
        async with resources.session_factory() as session:
            counts = dict(
                (
                    await session.execute(select(Job.status, func.count()).where(Job.id.in_(ids)).group_by(Job.status))
                ).all()
            )
        if counts.get("failed") or counts.get("cancelled"):
            raise RuntimeError(f"report jobs did not succeed: {counts}")
        succeeded = counts.get("succeeded", 0)
        memory.samples.append((done_before + succeeded, _rss_mib(_busiest_child(pid))))
        if succeeded == len(ids):
            break
        await asyncio.sleep(0.05)
    seconds, cpu = time.monotonic() - started, _tree_cpu_seconds(pid) - cpu_before
    return Round(len(ids), seconds, cpu, os.getloadavg())


async def _change(resources: Resources, estates: list[uuid.UUID]) -> None:
    """A new content hash for every estate: its next report is rendered again, not reused."""
    async with transaction(resources) as session:
        await session.execute(
            update(Estate).where(Estate.id.in_(estates)).values(content_hash=func.md5(cast(func.random(), String)))
        )


async def _organization(resources: Resources) -> uuid.UUID:
    async with transaction(resources) as session:
        organization = Organization(name="Bench Rapport AS", vitec_installation_id="BENCHREPORTS")
        session.add(organization)
        await session.flush()
        session.add(
            Department(
                organization_id=organization.id, vitec_id=1, name="Løkka Eiendom AS", market_name="Løkka Eiendom",
                email="post@lokka.example.no", phone="+47 22 00 11 22", street="Thorvald Meyers gate 45",
                zip_code="0555", city="Oslo", raw={}, content_hash="0" * 64,
            )
        )  # fmt: skip
        session.add(
            Employee(
                organization_id=organization.id, vitec_id="BROKER1", name="Åse Kjærstad Bråten",
                title="Eiendomsmegler MNEF", email="ase.braten@example.no", mobile_phone="+47 912 34 567",
                department_vitec_ids=[1], active=True, raw={}, content_hash="0" * 64,
            )
        )  # fmt: skip
    return organization.id


async def _estates(resources: Resources, organization_id: uuid.UUID, count: int, first: int) -> list[uuid.UUID]:
    """`count` estates with PHOTOS mirrored photos each, numbered from `first` (the photos' marks)."""
    async with resources.session_factory() as session:
        department_id = await session.scalar(select(Department.id).where(Department.organization_id == organization_id))
        employee_id = await session.scalar(select(Employee.id).where(Employee.organization_id == organization_id))
    limit = asyncio.Semaphore(STORING)

    async def one(number: int) -> uuid.UUID:
        async with limit:
            return await _estate(resources, organization_id, number, department_id, employee_id)

    return list(await asyncio.gather(*(one(first + n) for n in range(count))))


async def _estate(
    resources: Resources, organization_id: uuid.UUID, number: int, department_id: uuid.UUID | None,
    employee_id: uuid.UUID | None,
) -> uuid.UUID:  # fmt: skip
    store = blob_store(resources)
    stored: list[tuple[str, str, int]] = []
    for position in range(PHOTOS):
        content = await asyncio.to_thread(_camera_photo, number * PHOTOS + position)
        sha256 = hashlib.sha256(content).hexdigest()
        name = image_blob_name(organization_id, sha256)
        await store_image(store, name, content, "image/jpeg")
        stored.append((name, sha256, len(content)))
    now = datetime.now(UTC)
    async with transaction(resources) as session:
        estate = Estate(
            organization_id=organization_id, vitec_id=f"BENCH{number}", department_id=department_id,
            assignment_number=f"1-{number:04d}/26", status="for_sale", estate_type="residential",
            street=f"Øvre Størgårdsgate {number + 1}", zip_code="0553", city="Oslo",
            heading="Solrik og påkostet treroms med balkong", description=DESCRIPTION,
            asking_price=Decimal(4_250_000 + 10_000 * number), primary_area=Decimal(87), usable_area=Decimal("92.5"),
            rooms=3, bedrooms=2, construction_year=1898, energy_letter="C", vitec_changed_at=now, raw={},
            content_hash=uuid.uuid4().hex * 2,
        )  # fmt: skip
        session.add(estate)
        await session.flush()
        session.add(
            EstateBroker(estate_id=estate.id, employee_id=employee_id, employee_vitec_id="BROKER1",
                         role=BrokerRole.RESPONSIBLE_BROKER.value)
        )  # fmt: skip
        session.add_all(
            EstateImage(
                estate_id=estate.id, vitec_id=f"IMG{number}-{position}", sequence=position,
                description=CAPTIONS[position % len(CAPTIONS)], category="Stue", vitec_changed_at=now,
                blob_name=name, content_type="image/jpeg", size_bytes=size, sha256=sha256, mirrored_at=now,
            )
            for position, (name, sha256, size) in enumerate(stored)
        )  # fmt: skip
    return estate.id


@cache
def _base_photo(seed: int) -> Image.Image:
    with Image.open(io.BytesIO(photo(seed))) as opened:
        return opened.convert("RGB")


def _camera_photo(number: int) -> bytes:
    """A 2 400 x 1 600 px JPEG of its own: a base photo with shapes placed and coloured by `number`."""
    rng = random.Random(number)
    image = _base_photo(number % BASE_PHOTOS).copy()
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(2000), rng.randrange(1300)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randint(80, 400), y + rng.randint(80, 300)), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def _alive(resources: Resources, name: str) -> bool:
    return bool(await resources.redis.exists(f"estate-bff:workers:{name}"))


async def _until(check: Callable[[], Any], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError("the report worker did not start")
        await asyncio.sleep(0.1)


def _stat(pid: int) -> list[str]:
    # After the command name (in parentheses, may hold spaces): state, ppid, ...; utime, stime at 11, 12.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue  # ended meanwhile
    return found


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in _children(pid):
        pids += _tree(child)
    return pids


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the worker's main process and its children, so far."""
    total = 0
    for member in _tree(pid):
        fields = _stat(member)
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def _busiest_child(pid: int) -> int:
    """The process that runs the tasks (taskiq's main process only supervises it)."""
    members = _tree(pid)
    return max(members, key=lambda member: int(_stat(member)[11]) + int(_stat(member)[12]))


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")
