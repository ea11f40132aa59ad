"""The estate page cache: per organization and normalized query, filled once however many ask, dropped
by a sync's change, bounded, raced safely."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from domain.estates import EstateFilters
from repository.jobs import JobSnapshot
from service.job_polling import JobSnapshotCache
from service.page_cache import SAS_MARGIN, PageCache, RenderedPage, forget_pages_after_syncs
from tests.service.test_job_polling import snapshot
from tests.worker.processes import eventually


def test_pages_are_per_organization_and_query() -> None:
    cache = PageCache(ttl_seconds=30)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    cache.put(mine, b"limit=5", b"mine", cache.epoch)

    assert cache.get(mine, b"limit=5") == b"mine"
    assert cache.get(mine, b"limit=6") is None
    assert cache.get(theirs, b"limit=5") is None


def test_a_page_of_sas_urls_ends_a_margin_before_the_first_of_them_expires() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    now = datetime.now(UTC)
    cache.put(organization, b"lasting", b"a", cache.epoch, urls_expire_at=now + SAS_MARGIN + timedelta(minutes=5))
    cache.put(organization, b"too-short", b"b", cache.epoch, urls_expire_at=now + SAS_MARGIN / 2)

    assert cache.get(organization, b"lasting") == b"a"
    assert cache.get(organization, b"too-short") is None


async def test_a_page_of_sas_urls_is_dropped_when_its_margin_is_reached() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    cache.put(
        organization,
        b"",
        b"page",
        cache.epoch,
        urls_expire_at=datetime.now(UTC) + SAS_MARGIN + timedelta(seconds=0.3),
    )
    assert cache.get(organization, b"") == b"page"

    async def dropped() -> bool:
        return cache.get(organization, b"") is None

    await eventually(dropped, 5, "the page outlived its SAS URLs' margin")


def test_an_organizations_change_drops_only_its_pages() -> None:
    cache = PageCache(ttl_seconds=30)
    changed, untouched = uuid.uuid4(), uuid.uuid4()
    cache.put(changed, b"", b"old", cache.epoch)
    cache.put(untouched, b"", b"kept", cache.epoch)

    cache.invalidate(changed)

    assert cache.get(changed, b"") is None
    assert cache.get(untouched, b"") == b"kept"


def test_a_page_read_before_a_change_is_not_stored_after_it() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    epoch = cache.epoch  # the route notes the epoch, then reads
    cache.invalidate(organization)  # a sync committed meanwhile
    cache.put(organization, b"", b"stale", epoch)

    assert cache.get(organization, b"") is None


def test_the_cache_is_bounded_in_bytes_and_off_at_zero_seconds() -> None:
    bounded = PageCache(ttl_seconds=30, max_bytes=10)
    organization = uuid.uuid4()
    for page in range(5):
        bounded.put(organization, str(page).encode(), b"12345", bounded.epoch)
    off = PageCache(ttl_seconds=0)
    off.put(organization, b"", b"x", off.epoch)

    assert sum(bounded.get(organization, str(page).encode()) is not None for page in range(5)) == 2
    assert off.get(organization, b"") is None


async def test_a_poll_that_reads_a_finished_sync_drops_its_organizations_pages() -> None:
    # The sync's success can reach a poll before the read-model announcement reaches this process.
    pages = PageCache(ttl_seconds=30)
    jobs = JobSnapshotCache(on_read=forget_pages_after_syncs(pages))
    organization = uuid.uuid4()
    pages.put(organization, b"", b"before the sync", pages.epoch)
    running = snapshot(organization_id=organization, kind="vitec.sync", status="running")
    succeeded = snapshot(id=running.id, organization_id=organization, kind="vitec.sync", status="succeeded")

    async def read(job: JobSnapshot) -> JobSnapshot:
        await asyncio.sleep(0)
        return job

    await jobs.load(organization, running.id, lambda: read(running))
    kept_while_running = pages.get(organization, b"")
    jobs.invalidate(running.id)
    await jobs.load(organization, running.id, lambda: read(succeeded))

    assert kept_while_running == b"before the sync"
    assert pages.get(organization, b"") is None


async def test_a_missing_page_is_filled_once_for_everyone_asking_meanwhile() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    fills = 0
    release = asyncio.Event()

    async def fill() -> RenderedPage:
        nonlocal fills
        fills += 1
        await release.wait()
        return RenderedPage(b"page")

    askers = [asyncio.create_task(cache.page(organization, "key", fill)) for _ in range(50)]
    await asyncio.sleep(0.01)
    release.set()

    assert await asyncio.gather(*askers) == [b"page"] * 50
    assert fills == 1
    assert await cache.page(organization, "key", fill) == b"page"
    assert fills == 1


async def test_a_failed_fill_fails_its_waiters_and_the_next_ask_reads_again() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    release = asyncio.Event()

    async def failing() -> RenderedPage:
        await release.wait()
        raise ConnectionError("database gone")

    askers = [asyncio.create_task(cache.page(organization, "key", failing)) for _ in range(5)]
    await asyncio.sleep(0.01)
    release.set()
    outcomes = await asyncio.gather(*askers, return_exceptions=True)

    async def working() -> RenderedPage:
        return RenderedPage(b"page")

    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert await cache.page(organization, "key", working) == b"page"


async def test_an_asker_that_goes_away_does_not_cancel_the_fill_the_others_wait_for() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    release = asyncio.Event()

    async def fill() -> RenderedPage:
        await release.wait()
        return RenderedPage(b"page")

    first = asyncio.create_task(cache.page(organization, "key", fill))
    second = asyncio.create_task(cache.page(organization, "key", fill))
    await asyncio.sleep(0.01)
    first.cancel()
    release.set()

    assert await second == b"page"
    assert cache.get(organization, "key") == b"page"


async def test_a_request_after_a_change_does_not_join_a_fill_that_started_before_it() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    release = asyncio.Event()

    async def before() -> RenderedPage:
        await release.wait()
        return RenderedPage(b"before the sync")

    async def after() -> RenderedPage:
        return RenderedPage(b"after the sync")

    early = asyncio.create_task(cache.page(organization, "key", before))
    await asyncio.sleep(0.01)
    cache.invalidate(organization)  # a sync committed while the early read was in flight
    late = await cache.page(organization, "key", after)
    release.set()

    assert late == b"after the sync"
    assert await early == b"before the sync"
    assert cache.get(organization, "key") == b"after the sync"


def test_filters_spelled_differently_are_one_key() -> None:
    from datetime import timezone

    oslo = timezone(timedelta(hours=1))
    one = EstateFilters(statuses=["sold", "for_sale", "sold"], words=["Tromsø", "sjø"],
                        updated_since=datetime(2026, 1, 1, 13, tzinfo=oslo))  # fmt: skip
    other = EstateFilters(statuses=["for_sale", "sold"], words=["SJØ", "tromsø"],
                          updated_since=datetime(2026, 1, 1, 12, tzinfo=UTC))  # fmt: skip

    assert one.normalized() == other.normalized()
    assert hash(one.normalized()) == hash(other.normalized())
    assert EstateFilters(statuses=["sold"]).normalized() != EstateFilters(statuses=["for_sale"]).normalized()
