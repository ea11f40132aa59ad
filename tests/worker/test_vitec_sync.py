"""`vitec.sync` against the simulator over HTTP, run by the real job runner on committed rows."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, func, select, text, update

from api.main import create_app
from core.resources import Resources
from core.settings import Settings, VitecSettings
from domain.vitec import VitecEstate, VitecUnavailableError
from repository.models import Estate, Job, Organization
from repository.organizations import OrganizationRepository
from repository.vitec_read_model import VitecReadModelRepository
from service.job_runner import JobRunner
from service.jobs import JobService
from service.unit_of_work import transaction
from service.vitec import vitec_client
from service.vitec_sync import DETAIL_BATCH, sync
from tests.factories.users import committed_broker_headers
from tests.worker.conftest import Spawn, wait_registered
from tests.worker.processes import eventually, start_simulator

ESTATES = 60
DETAIL_ROUTE = "GET /{inst}/Estates/{estateId}"


@dataclass
class Simulator:
    url: str
    installation: str
    control: httpx.AsyncClient

    async def detail_requests(self) -> int:
        stats: dict[str, Any] = (await self.control.get("/_control/stats")).json()
        return int(stats["routes"].get(DETAIL_ROUTE, 0))


@pytest.fixture(scope="module")
def simulator_process() -> Iterator[tuple[str, list[str]]]:
    """One simulator for the module, with an installation for each test (organizations are unique
    per installation, and every test gets an organization of its own)."""
    installations = ["SYNC" + uuid.uuid4().hex[:8].upper() for _ in range(24)]
    process, url = start_simulator(SIMULATOR_INSTALLATIONS=",".join(installations), SIMULATOR_ESTATES=str(ESTATES))
    yield url, installations
    process.terminate()
    process.wait(10)


@pytest.fixture
async def simulator(simulator_process: tuple[str, list[str]]) -> AsyncIterator[Simulator]:
    url, installations = simulator_process
    async with httpx.AsyncClient(base_url=url) as control:
        await control.delete("/_control/faults")
        yield Simulator(url, installations.pop(), control)


def vitec_settings(url: str, **changes: object) -> VitecSettings:
    values: dict[str, object] = {
        "base_url": url, "rate_limit": "1000/second", "retry_base_seconds": 0.01, "retry_cap_seconds": 0.1,
        "cache_ttl_seconds": 0, "max_concurrency": 8, "mirror_images": False, **changes,
    }  # fmt: skip
    return VitecSettings(**values)  # type: ignore[arg-type]


async def hub_resources(settings: Settings, url: str, **changes: object) -> Resources:
    resources = Resources.build(settings.model_copy(update={"vitec": vitec_settings(url, **changes)}))
    await resources.start_producer()
    await resources.start_raw_pool()
    return resources


@pytest.fixture
async def hub(settings: Settings, simulator: Simulator, migrated_database: str) -> AsyncIterator[Resources]:
    resources = await hub_resources(settings, simulator.url)
    yield resources
    await resources.close()


@pytest.fixture
async def organization_id(hub: Resources, simulator: Simulator) -> uuid.UUID:
    async with transaction(hub) as session:
        organization = await OrganizationRepository(session).add(
            Organization(name="Sync AS", vitec_installation_id=simulator.installation)
        )
    return organization.id


async def run_sync(resources: Resources, organization_id: uuid.UUID, mode: str) -> Job:
    async with transaction(resources) as session:
        started = await JobService(session, resources).start(
            None, "vitec.sync", organization_id=organization_id, payload={"mode": mode}
        )
    await JobRunner(resources).run(started.job.id, "vitec.sync", sync)
    async with resources.session_factory() as session:
        job = await session.get(Job, started.job.id)
    assert job is not None
    return job


async def stored(resources: Resources, organization_id: uuid.UUID) -> dict[str, Estate]:
    async with resources.session_factory() as session:
        rows = (await session.execute(select(Estate).where(Estate.organization_id == organization_id))).scalars()
        return {estate.vitec_id: estate for estate in rows}


async def test_full_sync_then_a_rerun_changes_nothing(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    first = await run_sync(hub, organization_id, "full")
    after_first = await stored(hub, organization_id)
    details = await simulator.detail_requests()

    second = await run_sync(hub, organization_id, "full")
    after_second = await stored(hub, organization_id)

    assert first.status == "succeeded", first.error_message
    assert first.result is not None
    assert first.result["estates"]["inserted"] == ESTATES
    assert first.result["departments"]["inserted"] == 4
    assert first.result["employees"]["inserted"] == 20
    assert len(after_first) == ESTATES
    assert all(estate.street and estate.status for estate in after_first.values())
    assert second.status == "succeeded"
    assert second.result is not None
    assert second.result["estates"] == {"inserted": 0, "updated": 0, "listed": ESTATES, "fetched": 0, "deleted": 0}
    assert second.result["departments"] == second.result["employees"] == {"inserted": 0, "updated": 0}
    assert await simulator.detail_requests() == details  # nothing refetched
    assert {k: v.updated_at for k, v in after_second.items()} == {k: v.updated_at for k, v in after_first.items()}


async def analyze_count(resources: Resources) -> int:
    async with resources.engine.connect() as connection:
        count = await connection.scalar(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'estates'"))
    return int(count or 0)


async def test_a_sync_that_reshapes_the_estates_refreshes_the_planner_statistics(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    before = await analyze_count(hub)
    await run_sync(hub, organization_id, "full")  # every estate is new

    async def analyzed() -> bool:
        return await analyze_count(hub) > before

    await eventually(analyzed, 10, "the estates were not analyzed after the first sync")


async def test_incremental_fetches_only_what_changed(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    await run_sync(hub, organization_id, "full")
    before = await stored(hub, organization_id)
    mutated = (
        await simulator.control.post(f"/_control/estates/{simulator.installation}/mutate-random", params={"count": 5})
    ).json()["estateIds"]
    details = await simulator.detail_requests()

    job = await run_sync(hub, organization_id, "incremental")

    after = await stored(hub, organization_id)
    assert job.status == "succeeded", job.error_message
    assert await simulator.detail_requests() - details == 5
    changed = {vitec_id for vitec_id in after if after[vitec_id].updated_at != before[vitec_id].updated_at}
    assert changed == {vitec_id.upper() for vitec_id in mutated}


async def test_full_sync_marks_vanished_estates_deleted(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    await run_sync(hub, organization_id, "full")
    gone = sorted(await stored(hub, organization_id))[:2]
    for vitec_id in gone:
        await simulator.control.delete(f"/_control/estates/{simulator.installation}/{vitec_id}")

    job = await run_sync(hub, organization_id, "full")

    after = await stored(hub, organization_id)
    assert job.result is not None
    assert job.result["estates"]["deleted"] == 2
    assert {vitec_id for vitec_id, estate in after.items() if estate.deleted_at is not None} == set(gone)


async def test_faults_are_ridden_out_and_the_result_is_exact(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    # Dropped connections mid-answer, then 503s: four failures, one fewer than the client's attempts
    # (429 with Retry-After is covered by the client's own tests).
    await simulator.control.put("/_control/faults", json={"status": 503, "status_count": 2, "drop_count": 2})

    job = await run_sync(hub, organization_id, "full")

    assert job.status == "succeeded", job.error_message
    assert len(await stored(hub, organization_id)) == ESTATES
    stats = (await simulator.control.get("/_control/stats")).json()
    assert stats["statuses"].get("503") == 2
    assert sum(stats["faults"].values()) == 4  # every fault was served to this sync, and ridden out


async def test_a_sync_that_fails_late_keeps_its_batches_and_the_retry_fetches_only_the_rest(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Vitec goes away after the first batch of details: that batch stays, the watermark does not move.
    client = vitec_client(hub)
    real_get_estate = client.get_estate
    fetched = 0

    async def failing_after_one_batch(installation: str, estate_id: str) -> VitecEstate:
        nonlocal fetched
        fetched += 1
        if fetched > DETAIL_BATCH:
            raise VitecUnavailableError("the Hub went away")
        return await real_get_estate(installation, estate_id)

    monkeypatch.setattr(client, "get_estate", failing_after_one_batch)
    failed = await run_sync(hub, organization_id, "full")
    kept = await stored(hub, organization_id)
    async with hub.session_factory() as session:
        state = await VitecReadModelRepository(session).sync_state(organization_id)
    monkeypatch.setattr(client, "get_estate", real_get_estate)
    details = await simulator.detail_requests()
    await make_due(hub, failed.id)
    await JobRunner(hub).run(failed.id, "vitec.sync", sync)

    assert (failed.status, failed.error_code) == ("queued", "vitec_unavailable")
    assert len(kept) == DETAIL_BATCH
    assert state is None or state.watermark is None
    async with hub.session_factory() as session:
        retried = await session.get(Job, failed.id)
    assert retried is not None
    assert retried.status == "succeeded", retried.error_message
    assert await simulator.detail_requests() - details == ESTATES - DETAIL_BATCH
    assert retried.result is not None
    assert retried.result["estates"]["inserted"] == ESTATES - DETAIL_BATCH
    assert len(await stored(hub, organization_id)) == ESTATES


async def make_due(resources: Resources, job_id: uuid.UUID) -> None:
    async with resources.session_factory() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(run_after=func.now()))
        await session.commit()


async def test_wrong_credentials_fail_at_once_with_a_stable_code(
    settings: Settings, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    resources = await hub_resources(settings, simulator.url, password="not-the-key")
    try:
        job = await run_sync(resources, organization_id, "full")
    finally:
        await resources.close()

    assert (job.status, job.error_code, job.attempts) == ("failed", "vitec_unauthorized", 1)


@pytest.fixture
async def synced(hub: Resources, simulator: Simulator, organization_id: uuid.UUID) -> uuid.UUID:
    job = await run_sync(hub, organization_id, "full")
    assert job.status == "succeeded", job.error_message
    return organization_id


@pytest.fixture
async def api(settings: Settings, simulator: Simulator, synced: uuid.UUID) -> AsyncIterator[httpx.AsyncClient]:
    """The API, reading the synced organization's data, signed in as one of its brokers."""
    app = create_app(settings.model_copy(update={"vitec": vitec_settings(simulator.url)}))
    async with LifespanManager(app):
        headers = await committed_broker_headers(app.state.resources, synced)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            yield client


async def walk(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_estate_list_pages_through_every_estate_once(api: httpx.AsyncClient) -> None:
    estates = await walk(api, "/api/v1/estates", limit=25)

    assert len(estates) == len({e["id"] for e in estates}) == ESTATES
    assert all(e["status"] and e["address"]["street"] for e in estates)
    assert [e["updated_at"] for e in estates] == sorted((e["updated_at"] for e in estates), reverse=True)


async def test_filters(api: httpx.AsyncClient) -> None:
    estates = await walk(api, "/api/v1/estates", limit=100)
    sample = next(e for e in estates if e["broker_ids"] and e["department_id"])
    status = sample["status"]
    words = f"{sample['address']['city']} {sample['address']['street'].split()[0]}".upper()

    by_status = await walk(api, "/api/v1/estates", status=status)
    by_department = await walk(api, "/api/v1/estates", department_id=sample["department_id"])
    by_broker = await walk(api, "/api/v1/estates", broker_id=sample["broker_ids"][0])
    by_words = await walk(api, "/api/v1/estates", q=words)
    since_future = await walk(api, "/api/v1/estates", updated_since="2999-01-01T00:00:00Z")

    assert {e["id"] for e in by_status} == {e["id"] for e in estates if e["status"] == status}
    assert {e["id"] for e in by_department} == {
        e["id"] for e in estates if e["department_id"] == sample["department_id"]
    }
    assert {e["id"] for e in by_broker} == {e["id"] for e in estates if sample["broker_ids"][0] in e["broker_ids"]}
    assert sample["id"] in {e["id"] for e in by_words}
    assert all(sample["address"]["city"].lower() in f"{e['address']['city']}".lower() for e in by_words)
    assert since_future == []


def app_of(api: httpx.AsyncClient) -> FastAPI:
    app: FastAPI = api._transport.app  # type: ignore[attr-defined]
    return app


def _reads_the_read_model(statement: str) -> bool:
    return any(table in statement for table in ("estates", "estate_images", "estate_brokers", "departments"))


class CountingPool:
    """The raw pool, with every statement run through it noted."""

    def __init__(self, pool: Any, statements: list[str]) -> None:
        self._pool, self._statements = pool, statements

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pool, name)
        if name not in {"fetch", "fetchrow", "fetchval", "execute"}:
            return attribute

        async def counted(query: str, *args: Any, **kwargs: Any) -> Any:
            if _reads_the_read_model(query):
                self._statements.append(query)
            return await attribute(query, *args, **kwargs)

        return counted


@contextlib.contextmanager
def statements_of(api: httpx.AsyncClient) -> Iterator[list[str]]:
    """The SQL statements on the read model that the API under test runs inside the block, through
    the engine and the raw pool (a re-read of the caller's access, after another test's sign-out
    reached this process, is not counted)."""
    resources = app_of(api).state.resources
    engine = resources.engine.sync_engine
    statements: list[str] = []

    def count(*args: Any) -> None:
        if _reads_the_read_model(str(args[2])):
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    pool, resources.raw_pool = resources.raw_pool, CountingPool(resources.raw_pool, statements)
    try:
        yield statements
    finally:
        resources.raw_pool = pool
        event.remove(engine, "before_cursor_execute", count)


async def sync_seen_by_api(api: httpx.AsyncClient, hub: Resources, organization_id: uuid.UUID, mode: str) -> Job:
    """Run a sync elsewhere (the hub), and wait until the API's process has heard that it changed
    the organization's read model (its cached pages are gone)."""
    cache = app_of(api).state.page_cache
    assert cache.holds(organization_id), "nothing cached: the wait below would prove nothing"
    job = await run_sync(hub, organization_id, mode)

    async def forgotten() -> bool:
        return not cache.holds(organization_id)

    await eventually(forgotten, 5, "the API never heard of the sync's changes")
    return job


async def test_a_page_costs_one_statement_whatever_its_size(api: httpx.AsyncClient) -> None:
    await api.get("/api/v1/estates", params={"limit": 1})  # the caller's access is read (and kept) once
    with statements_of(api) as statements:
        await api.get("/api/v1/estates", params={"limit": 5})
        small = len(statements)
        statements.clear()
        await api.get("/api/v1/estates", params={"limit": 60})
        large = len(statements)
        statements.clear()
        detail = await api.get(f"/api/v1/estates/{(await api.get('/api/v1/estates')).json()['items'][0]['id']}")
        statements.clear()
        await api.get(f"/api/v1/estates/{detail.json()['id']}")
        detail_statements = len(statements)

    assert small == large == detail_statements == 1


async def test_a_repeated_page_is_served_from_the_cache_until_a_sync_changes_the_data(
    api: httpx.AsyncClient, hub: Resources, simulator: Simulator, synced: uuid.UUID
) -> None:
    params = {"limit": 5, "updated_since": "2000-01-01T00:00:00Z"}
    with statements_of(api) as statements:
        first = await api.get("/api/v1/estates", params=params)
        queries_first = len(statements)
        statements.clear()
        again = await api.get("/api/v1/estates", params=params)
        queries_again = len(statements)
    other_query = await api.get("/api/v1/estates", params={"limit": 4})
    last = first.json()["items"][-1]
    await simulator.control.post(f"/_control/estates/{simulator.installation}/{last['vitec_estate_id']}/mutate")
    await sync_seen_by_api(api, hub, synced, "incremental")
    after = await api.get("/api/v1/estates", params=params)

    assert (first.status_code, again.status_code) == (200, 200)
    assert queries_first > 0
    assert queries_again == 0
    assert again.content == first.content
    assert len(other_query.json()["items"]) == 4
    # The changed estate moved to the top of the list at once, not after the cache's TTL.
    assert after.json()["items"][0]["vitec_estate_id"] == last["vitec_estate_id"]


async def test_estate_detail_with_images_brokers_department_and_image_bytes(api: httpx.AsyncClient) -> None:
    estates = await walk(api, "/api/v1/estates", limit=100)
    listed = next(e for e in estates if e["thumbnail_url"] and e["broker_ids"] and e["department_id"])

    detail = (await api.get(f"/api/v1/estates/{listed['id']}")).json()
    image = await api.get(detail["images"][0]["url"])

    assert detail["id"] == listed["id"]
    assert detail["department"]["id"] == listed["department_id"]
    assert {b["employee_id"] for b in detail["brokers"]} >= set(listed["broker_ids"])
    assert all(b["name"] for b in detail["brokers"] if b["employee_id"])
    assert detail["images"][0]["url"] == listed["thumbnail_url"]
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png"  # as Vitec declared it


async def test_missing_deleted_and_foreign_estates_are_404(
    api: httpx.AsyncClient, hub: Resources, simulator: Simulator, synced: uuid.UUID
) -> None:
    estates = await walk(api, "/api/v1/estates", limit=100)
    gone = estates[0]
    await simulator.control.delete(f"/_control/estates/{simulator.installation}/{gone['vitec_estate_id']}")
    await sync_seen_by_api(api, hub, synced, "full")

    deleted = await api.get(f"/api/v1/estates/{gone['id']}")
    unknown = await api.get(f"/api/v1/estates/{uuid.uuid4()}")
    listed_after = {e["id"] for e in await walk(api, "/api/v1/estates", limit=100)}

    assert deleted.status_code == unknown.status_code == 404
    assert deleted.json()["internal_code"] == "estate_not_found"
    assert gone["id"] not in listed_after
    assert len(listed_after) == ESTATES - 1


async def test_departments_and_employees(api: httpx.AsyncClient) -> None:
    departments = await walk(api, "/api/v1/departments", limit=3)
    employees = await walk(api, "/api/v1/employees", limit=7)

    assert len(departments) == 4
    assert len(employees) == 20
    assert all(d["name"] for d in departments)
    assert all(e["vitec_employee_id"] for e in employees)


async def test_an_open_circuit_sends_the_sync_back_to_the_queue_until_it_closes(
    hub: Resources, simulator: Simulator, organization_id: uuid.UUID
) -> None:
    circuit = f"estate-bff:vitec:circuit:{simulator.installation}:open-until"
    await hub.redis.set(circuit, time.time() + 30, ex=30)
    requests_before = (await simulator.control.get("/_control/stats")).json()["total"]

    job = await run_sync(hub, organization_id, "full")
    assert (job.status, job.error_code, job.attempts) == ("queued", "vitec_unavailable", 1)
    assert (await simulator.control.get("/_control/stats")).json()["total"] == requests_before  # failed fast

    await hub.redis.delete(circuit)
    async with hub.session_factory() as session:
        await session.execute(update(Job).where(Job.id == job.id).values(run_after=func.now()))
        await session.commit()
    await JobRunner(hub).run(job.id, "vitec.sync", sync)
    async with hub.session_factory() as session:
        retried = await session.get(Job, job.id)
    assert retried is not None
    assert (retried.status, retried.attempts) == ("succeeded", 2)


async def test_a_worker_killed_mid_sync_still_completes_it_exactly(
    settings: Settings,
    hub: Resources,
    simulator: Simulator,
    organization_id: uuid.UUID,
    processes: dict[str, Spawn],
    live: Resources,
    sweeper: None,
) -> None:
    # Slow Vitec down so the kill lands mid-sync: 60 details at 150 ms, 8 at a time.
    await simulator.control.put("/_control/faults", json={"latency_ms": 150})
    # The killed worker's in-flight slots stay taken until their leases (request timeout + 5 s) run out:
    # a short timeout keeps that wait short here.
    vitec = {
        "VITEC_BASE_URL": simulator.url, "VITEC_RATE_LIMIT": "1000/second", "VITEC_CACHE_TTL_SECONDS": "0",
        "VITEC_TIMEOUT_SECONDS": "5", "VITEC_MIRROR_IMAGES": "false",
    }  # fmt: skip
    doomed = processes["worker"](**vitec)
    await wait_registered(live, doomed.name)
    async with transaction(hub) as session:
        job_id = (
            await JobService(session, hub).start(None, "vitec.sync", organization_id=organization_id,
                                                 payload={"mode": "full"})
        ).job.id  # fmt: skip

    async def syncing_details() -> bool:
        async with hub.session_factory() as session:
            job = await session.get(Job, job_id)
        return job is not None and job.status == "running" and job.progress_percent >= 15

    await eventually(syncing_details, 30, "the sync reached the estate details")
    doomed.kill_all()
    await simulator.control.delete("/_control/faults")
    successor = processes["worker"](**vitec)

    async def finished() -> bool:
        async with hub.session_factory() as session:
            job = await session.get(Job, job_id)
        return job is not None and job.status in {"succeeded", "failed"}

    await eventually(finished, 60, "the sync finished after the kill")
    async with hub.session_factory() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert len(await stored(hub, organization_id)) == ESTATES
    successor.kill_all()  # the check below runs in-process; no worker may claim it first
    again = await run_sync(hub, organization_id, "full")
    assert again.result is not None
    assert again.result["estates"] == {"inserted": 0, "updated": 0, "listed": ESTATES, "fetched": 0, "deleted": 0}


async def test_list_and_detail_are_spelled_exactly_as_their_response_models(api: httpx.AsyncClient) -> None:
    """The two pages are written from rows, not through their models: what a model validates and
    writes back must be the same bytes (field order, decimals, datetimes, nulls)."""
    from api.schemas.estates import EstateCollection, EstateRead

    listed = await api.get("/api/v1/estates", params={"limit": 100})
    assert listed.status_code == 200
    assert EstateCollection.model_validate_json(listed.content).model_dump_json().encode() == listed.content
    for item in listed.json()["items"][:20]:
        detail = await api.get(f"/api/v1/estates/{item['id']}")
        assert detail.status_code == 200
        assert EstateRead.model_validate_json(detail.content).model_dump_json().encode() == detail.content
        assert {key: value for key, value in detail.json().items() if key in item} == item


async def test_concurrent_askers_of_a_missing_page_cost_one_read(api: httpx.AsyncClient) -> None:
    """No stampede: the first asker reads the page, the others wait for its answer."""
    await api.get("/api/v1/estates", params={"limit": 1})  # the caller's access is read (and kept) once
    params = {"limit": 7, "q": uuid.uuid4().hex[:4]}  # a page no test asked for before
    with statements_of(api) as statements:
        answers = await asyncio.gather(*(api.get("/api/v1/estates", params=params) for _ in range(20)))

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert len(statements) == 1
