"""The estate page cache: per organization, dropped by a sync's change, bounded, raced safely."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from api.page_cache import SAS_MARGIN, PageCache, forget_pages_after_syncs
from repository.jobs import JobSnapshot
from service.job_polling import JobSnapshotCache
from tests.service.test_job_polling import snapshot
from tests.worker.processes import eventually

PATH = "/api/v1/estates"


def test_pages_are_per_organization_and_query() -> None:
    cache = PageCache(ttl_seconds=30)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    cache.put(mine, PATH, b"limit=5", b"mine", cache.epoch)

    assert cache.get(mine, PATH, b"limit=5") == b"mine"
    assert cache.get(mine, PATH, b"limit=6") is None
    assert cache.get(theirs, PATH, b"limit=5") is None


def test_a_page_of_sas_urls_ends_a_margin_before_the_first_of_them_expires() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    now = datetime.now(UTC)
    cache.put(organization, PATH, b"lasting", b"a", cache.epoch, urls_expire_at=now + SAS_MARGIN + timedelta(minutes=5))
    cache.put(organization, PATH, b"too-short", b"b", cache.epoch, urls_expire_at=now + SAS_MARGIN / 2)

    assert cache.get(organization, PATH, b"lasting") == b"a"
    assert cache.get(organization, PATH, b"too-short") is None


async def test_a_page_of_sas_urls_is_dropped_when_its_margin_is_reached() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    cache.put(
        organization,
        PATH,
        b"",
        b"page",
        cache.epoch,
        urls_expire_at=datetime.now(UTC) + SAS_MARGIN + timedelta(seconds=0.3),
    )
    assert cache.get(organization, PATH, b"") == b"page"

    async def dropped() -> bool:
        return cache.get(organization, PATH, b"") is None

    await eventually(dropped, 5, "the page outlived its SAS URLs' margin")


def test_an_organizations_change_drops_only_its_pages() -> None:
    cache = PageCache(ttl_seconds=30)
    changed, untouched = uuid.uuid4(), uuid.uuid4()
    cache.put(changed, PATH, b"", b"old", cache.epoch)
    cache.put(untouched, PATH, b"", b"kept", cache.epoch)

    cache.invalidate(changed)

    assert cache.get(changed, PATH, b"") is None
    assert cache.get(untouched, PATH, b"") == b"kept"


def test_a_page_read_before_a_change_is_not_stored_after_it() -> None:
    cache = PageCache(ttl_seconds=30)
    organization = uuid.uuid4()
    epoch = cache.epoch  # the route notes the epoch, then reads
    cache.invalidate(organization)  # a sync committed meanwhile
    cache.put(organization, PATH, b"", b"stale", epoch)

    assert cache.get(organization, PATH, b"") is None


def test_the_cache_is_bounded_in_bytes_and_off_at_zero_seconds() -> None:
    bounded = PageCache(ttl_seconds=30, max_bytes=10)
    organization = uuid.uuid4()
    for page in range(5):
        bounded.put(organization, PATH, str(page).encode(), b"12345", bounded.epoch)
    off = PageCache(ttl_seconds=0)
    off.put(organization, PATH, b"", b"x", off.epoch)

    assert sum(bounded.get(organization, PATH, str(page).encode()) is not None for page in range(5)) == 2
    assert off.get(organization, PATH, b"") is None


async def test_a_poll_that_reads_a_finished_sync_drops_its_organizations_pages() -> None:
    # The sync's success can reach a poll before the read-model announcement reaches this process.
    pages = PageCache(ttl_seconds=30)
    jobs = JobSnapshotCache(on_read=forget_pages_after_syncs(pages))
    organization = uuid.uuid4()
    pages.put(organization, PATH, b"", b"before the sync", pages.epoch)
    running = snapshot(organization_id=organization, kind="vitec.sync", status="running")
    succeeded = snapshot(id=running.id, organization_id=organization, kind="vitec.sync", status="succeeded")

    async def read(job: JobSnapshot) -> JobSnapshot:
        await asyncio.sleep(0)
        return job

    await jobs.load(organization, running.id, lambda: read(running))
    kept_while_running = pages.get(organization, PATH, b"")
    jobs.invalidate(running.id)
    await jobs.load(organization, running.id, lambda: read(succeeded))

    assert kept_while_running == b"before the sync"
    assert pages.get(organization, PATH, b"") is None
