"""The jobs API: starting a job, polling it cheaply, listing, cancelling, retrying, the queue view."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.change_events import JOB_CHANNEL, publish_change
from core.resources import Resources
from core.settings import JobSettings
from domain.jobs import JobCreateRateLimitedError, JobStatus
from domain.users import Principal, UserRole
from repository.models import Job, Organization
from service.jobs import JobService
from tests.factories.jobs import create_job
from tests.factories.users import SignedIn, create_organization, create_user, signed_in

CLEANUP = "/api/v1/admin/maintenance/cleanup"


async def stream_entries(resources: Resources) -> list[dict[str, str]]:
    entries = await resources.redis.xrange(resources.settings.jobs.stream)
    return [fields for _, fields in entries]


async def test_starting_a_job_answers_202_and_sends_only_its_id(
    admin: SignedIn, client: AsyncClient, resources: Resources, session: AsyncSession
) -> None:
    before = len(await stream_entries(resources))

    response = await client.post(CLEANUP, headers={**admin.headers, "X-Request-ID": "req-start-1"})

    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert job["kind"] == "maintenance.cleanup"
    assert job["status"] == "queued"
    assert job["progress"] == {"percent": 0, "message": None}
    assert job["error"] is None
    entries = await stream_entries(resources)
    assert len(entries) == before + 1
    message = entries[-1]["data"]
    assert job["id"] in message
    assert "req-start-1" in message
    row = (await session.execute(select(Job).where(Job.id == uuid.UUID(job["id"])))).scalar_one()
    assert row.dispatched_at is not None
    assert row.request_id == "req-start-1"


async def test_an_active_job_is_answered_instead_of_a_second(admin: SignedIn, client: AsyncClient) -> None:
    first = await client.post(CLEANUP, headers=admin.headers)
    second = await client.post(CLEANUP, headers=admin.headers)

    assert second.status_code == 202
    assert second.json()["id"] == first.json()["id"]


async def test_idempotency_key_replays_the_first_job(
    admin: SignedIn, client: AsyncClient, session: AsyncSession
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "cleanup-2026-11-22"}
    first = await client.post(CLEANUP, headers=headers)
    await client.post(f"/api/v1/jobs/{first.json()['id']}/cancel", headers=admin.headers)

    replay = await client.post(CLEANUP, headers=headers)

    assert replay.status_code == 202
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert "idempotent-replayed" not in first.headers
    count = await session.execute(select(func.count()).select_from(Job).where(Job.created_by == admin.user.id))
    assert count.scalar_one() == 1


async def test_idempotency_key_with_another_body_is_a_422(admin: SignedIn, client: AsyncClient) -> None:
    headers = {**admin.headers, "Idempotency-Key": "key-1", "Content-Type": "application/json"}
    await client.post(CLEANUP, headers=headers, content=b"{}")

    response = await client.post(CLEANUP, headers=headers, content=b'{"other": true}')

    assert response.status_code == 422
    assert response.json()["internal_code"] == "idempotency_key_mismatch"


async def test_invalid_idempotency_key_is_a_400(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.post(CLEANUP, headers={**admin.headers, "Idempotency-Key": "x" * 256})

    assert response.status_code == 400
    assert response.json()["internal_code"] == "idempotency_key_invalid"


async def test_brokers_cannot_start_maintenance(broker_user: SignedIn, client: AsyncClient) -> None:
    response = await client.post(CLEANUP, headers=broker_user.headers)

    assert response.status_code == 403


async def test_job_creation_is_rate_limited_per_user(
    session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    strict = resources.settings.model_copy(update={"jobs": JobSettings(create_rate_limit="2/minute")})
    service = JobService(session, dataclasses.replace(resources, settings=strict))
    user = await create_user(session, resources, organization, role=UserRole.ADMIN)
    principal = Principal(user_id=user.id, organization_id=organization.id, role=UserRole.ADMIN)

    await service.start(principal, "maintenance.cleanup", dedupe_key="x")
    await service.start(principal, "maintenance.cleanup", dedupe_key="x")
    with pytest.raises(JobCreateRateLimitedError) as refused:
        await service.start(principal, "maintenance.cleanup", dedupe_key="x")

    assert 1 <= refused.value.retry_after_seconds <= 60


async def test_poll_sends_etag_and_answers_304_when_unchanged(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()

    first = await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)
    again = await client.get(
        f"/api/v1/jobs/{job.id}", headers={**admin.headers, "If-None-Match": first.headers["etag"]}
    )

    assert first.status_code == 200
    assert first.json()["status"] == "queued"
    assert 1 <= int(first.headers["retry-after"]) <= 10
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert 1 <= int(again.headers["retry-after"]) <= 10


async def test_poll_etag_changes_with_the_job_and_retry_after_stops_when_finished(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    first = await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)

    await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=admin.headers)
    after = await client.get(
        f"/api/v1/jobs/{job.id}", headers={**admin.headers, "If-None-Match": first.headers["etag"]}
    )

    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert after.json()["status"] == "cancelled"
    assert "retry-after" not in after.headers


async def test_succeeded_job_shows_result_and_full_progress(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(
        session,
        organization,
        status=JobStatus.SUCCEEDED,
        progress_percent=100,
        result={"document_id": "d1"},
        attempts=1,
    )
    await session.commit()

    body = (await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)).json()

    assert body["progress"]["percent"] == 100
    assert body["result"] == {"document_id": "d1"}
    assert body["error"] is None


async def test_failed_job_shows_its_stable_code(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(
        session, organization, status=JobStatus.FAILED, error_code="vitec_unauthorized", error_message="Bad key"
    )
    await session.commit()

    body = (await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)).json()

    assert body["error"] == {"internal_code": "vitec_unauthorized", "message": "Bad key"}


async def test_long_poll_wakes_within_200_ms_of_a_change(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization, resources: Resources
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    etag = (await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)).headers["etag"]
    await resources.job_changes.wait_until_subscribed()

    async def change_soon() -> float:
        await asyncio.sleep(0.3)
        await session.execute(update(Job).where(Job.id == job.id).values(progress_percent=40, version=Job.version + 1))
        await session.commit()
        await publish_change(resources.redis, JOB_CHANNEL, job.id)
        return time.monotonic()

    changer = asyncio.create_task(change_soon())
    response = await client.get(
        f"/api/v1/jobs/{job.id}", params={"wait": 10}, headers={**admin.headers, "If-None-Match": etag}
    )
    answered = time.monotonic()
    changed_at = await changer

    assert response.status_code == 200
    assert response.json()["progress"]["percent"] == 40
    assert answered - changed_at < 0.2


async def test_long_poll_answers_unchanged_after_its_wait(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    etag = (await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)).headers["etag"]

    started = time.monotonic()
    response = await client.get(
        f"/api/v1/jobs/{job.id}", params={"wait": 1}, headers={**admin.headers, "If-None-Match": etag}
    )

    assert response.status_code == 304
    assert 0.9 <= time.monotonic() - started < 3


async def test_long_poll_on_a_finished_job_answers_at_once(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization, status=JobStatus.CANCELLED)
    await session.commit()

    started = time.monotonic()
    response = await client.get(f"/api/v1/jobs/{job.id}", params={"wait": 20}, headers=admin.headers)

    assert response.status_code == 200
    assert time.monotonic() - started < 1


async def test_wait_over_30_is_a_422(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.get(f"/api/v1/jobs/{uuid.uuid4()}", params={"wait": 31}, headers=admin.headers)

    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/jobs/{id}", "/api/v1/jobs/{hex}", "/api/v1/jobs/{upper}?wait=0"])
async def test_every_spelling_of_the_id_polls_the_same_job(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization, path: str
) -> None:
    """The canonical id is answered by the explicit poll route, the other spellings by `read_job`:
    one answer all the same, down to the metrics label."""
    job = await create_job(session, organization)
    await session.commit()
    canonical = await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)

    response = await client.get(
        path.format(id=job.id, hex=job.id.hex, upper=str(job.id).upper()), headers=admin.headers
    )

    assert response.status_code == 200
    assert response.content == canonical.content
    assert response.headers["etag"] == canonical.headers["etag"]
    assert response.headers["retry-after"] == canonical.headers["retry-after"]
    revalidated = await client.get(
        path.format(id=job.id, hex=job.id.hex, upper=str(job.id).upper()),
        headers={**admin.headers, "If-None-Match": canonical.headers["etag"]},
    )
    assert revalidated.status_code == 304
    metrics = (await client.get("/metrics")).text
    assert 'route="/jobs/{job_id}",status="304"' in metrics


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/jobs/not-a-uuid", 422, "validation_error"),
        ("/api/v1/jobs/1-2345678123456781234567812345678", 422, "validation_error"),
        ("/api/v1/jobs/{id}?wait=soon", 422, "validation_error"),
        ("/api/v1/jobs/{id}?wait=-1", 422, "validation_error"),
        ("/api/v1/jobs/{id}?wait=31", 422, "validation_error"),
        ("/api/v1/jobs/{id}?unknown=1", 422, "validation_error"),
        ("/api/v1/jobs/{hex}?unknown=1", 422, "validation_error"),
        ("/api/v1/jobs/{id}?wait=0&wait=1", 200, None),
    ],
)
async def test_polls_in_every_other_form_are_judged_like_the_route_declares(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization,
    path: str, status: int, code: str | None,
) -> None:  # fmt: skip
    job = await create_job(session, organization)
    await session.commit()

    response = await client.get(path.format(id=job.id, hex=job.id.hex), headers=admin.headers)

    assert response.status_code == status
    if code is None:
        assert response.json()["id"] == str(job.id)
        assert response.headers["etag"]
    else:
        assert response.json()["internal_code"] == code
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_poll_route_422_names_the_parameter_as_the_fastapi_route_does(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()

    canonical = await client.get(f"/api/v1/jobs/{job.id}?wait=soon&extra=1", headers=admin.headers)
    other_spelling = await client.get(f"/api/v1/jobs/{job.id.hex}?wait=soon", headers=admin.headers)
    unknown = await client.get(f"/api/v1/jobs/{job.id.hex}?extra=1", headers=admin.headers)
    canonical_wait = await client.get(f"/api/v1/jobs/{job.id}?wait=soon", headers=admin.headers)

    assert (
        canonical.status_code == other_spelling.status_code == unknown.status_code == canonical_wait.status_code == 422
    )
    # Unknown parameters first, like the app-wide dependency that runs before the route's own.
    assert canonical.json()["errors"] == unknown.json()["errors"]
    wait_errors = other_spelling.json()["errors"]
    assert [error["loc"] for error in wait_errors] == [["query", "wait"]]
    assert canonical_wait.json()["errors"] == wait_errors


@pytest.mark.parametrize(("query", "status"), [("?extra=1", 422), ("?wait=soon", 401)])
async def test_without_a_token_both_poll_routes_check_in_the_same_order(
    client: AsyncClient, session: AsyncSession, organization: Organization, query: str, status: int
) -> None:
    """Unknown parameters before the caller (an app-wide dependency), the caller before `wait`."""
    job = await create_job(session, organization)
    await session.commit()

    canonical = await client.get(f"/api/v1/jobs/{job.id}{query}")
    other_spelling = await client.get(f"/api/v1/jobs/{job.id.hex}{query}")

    assert canonical.status_code == other_spelling.status_code == status
    assert canonical.json()["internal_code"] == other_spelling.json()["internal_code"]


async def test_an_if_none_match_beyond_ascii_is_just_another_etag(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()

    response = await client.get(f"/api/v1/jobs/{job.id}", headers={**admin.headers, "If-None-Match": b'"\xff"'})

    assert response.status_code == 200
    assert response.json()["id"] == str(job.id)


async def test_poll_errors_are_problems_with_the_usual_headers(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()

    anonymous = await client.get(f"/api/v1/jobs/{job.id}")
    bad_token = await client.get(f"/api/v1/jobs/{job.id}", headers={"Authorization": "Bearer nonsense"})
    unknown = await client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers={**admin.headers, "X-Request-ID": "poll-404"})
    answered = await client.get(f"/api/v1/jobs/{job.id}", headers={**admin.headers, "X-Request-ID": "poll-200"})

    assert (anonymous.status_code, bad_token.status_code, unknown.status_code) == (401, 401, 404)
    assert anonymous.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["request_id"] == "poll-404"
    assert unknown.json()["instance"] == f"/api/v1/jobs/{unknown.url.path.rsplit('/', 1)[1]}"
    for response in (unknown, answered):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert answered.headers["x-request-id"] == "poll-200"
    assert answered.headers["content-type"] == "application/json"
    assert int(answered.headers["content-length"]) == len(answered.content)
    metrics = (await client.get("/metrics")).text
    assert 'route="/jobs/{job_id}",status="200"' in metrics


async def test_another_organizations_job_is_not_found(
    admin: SignedIn, client: AsyncClient, session: AsyncSession
) -> None:
    stranger = await create_job(session, await create_organization(session, "Other AS"))
    await session.commit()

    for response in (
        await client.get(f"/api/v1/jobs/{stranger.id}", headers=admin.headers),
        await client.post(f"/api/v1/jobs/{stranger.id}/cancel", headers=admin.headers),
        await client.post(f"/api/v1/jobs/{stranger.id}/retry", headers=admin.headers),
    ):
        assert response.status_code == 404
        assert response.json()["internal_code"] == "job_not_found"
    listed = (await client.get("/api/v1/jobs", headers=admin.headers)).json()
    assert str(stranger.id) not in {item["id"] for item in listed["items"]}


async def test_cancel_a_queued_job_then_409(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization)
    await session.commit()

    cancelled = await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=admin.headers)
    again = await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=admin.headers)

    assert cancelled.status_code == 202
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["internal_code"] == "job_not_cancellable"


async def test_cancel_a_running_job_requests_a_stop(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    job = await create_job(session, organization, status=JobStatus.RUNNING, claimed_by="w1")
    await session.commit()

    response = await client.post(f"/api/v1/jobs/{job.id}/cancel", headers=admin.headers)

    assert response.status_code == 202
    assert response.json()["status"] == "running"
    await session.refresh(job)
    assert job.cancel_requested_at is not None


async def test_retry_requeues_a_failed_job_for_admins_only(
    admin: SignedIn,
    broker_user: SignedIn,
    client: AsyncClient,
    session: AsyncSession,
    organization: Organization,
    resources: Resources,
) -> None:
    failed = await create_job(session, organization, status=JobStatus.FAILED, error_code="boom", attempts=5)
    queued = await create_job(session, organization)
    await session.commit()
    before = len(await stream_entries(resources))

    refused = await client.post(f"/api/v1/jobs/{failed.id}/retry", headers=broker_user.headers)
    retried = await client.post(f"/api/v1/jobs/{failed.id}/retry", headers=admin.headers)
    not_failed = await client.post(f"/api/v1/jobs/{queued.id}/retry", headers=admin.headers)

    assert refused.status_code == 403
    assert retried.status_code == 202
    assert retried.json()["id"] == str(failed.id)
    assert retried.json()["status"] == "queued"
    assert retried.json()["error"] is None
    assert len(await stream_entries(resources)) == before + 1
    assert not_failed.status_code == 409
    assert not_failed.json()["internal_code"] == "job_not_retryable"


async def test_cursor_walk_lists_every_job_once_newest_first(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    created = [await create_job(session, organization) for _ in range(7)]
    await create_job(session, organization, kind="reports.render", status=JobStatus.FAILED)
    await session.commit()

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3, "kind": "maintenance.cleanup"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/jobs", params=params, headers=admin.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(str(job.id) for job in created)
    assert len(seen) == len(set(seen))
    failed = (await client.get("/api/v1/jobs", params={"status": "failed"}, headers=admin.headers)).json()
    assert [item["kind"] for item in failed["items"]] == ["reports.render"]


async def test_bad_filters_are_422(admin: SignedIn, client: AsyncClient) -> None:
    assert (await client.get("/api/v1/jobs", params={"status": "exploded"}, headers=admin.headers)).status_code == 422
    assert (await client.get("/api/v1/jobs", params={"limit": 101}, headers=admin.headers)).status_code == 422
    assert (await client.get("/api/v1/jobs/not-a-uuid", headers=admin.headers)).status_code == 422


async def test_queue_overview_for_admins(
    admin: SignedIn, broker_user: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    await create_job(session, organization)
    await create_job(session, organization, status=JobStatus.FAILED)
    await create_job(session, organization, kind="reports.render", status=JobStatus.RUNNING)
    await session.commit()

    response = await client.get("/api/v1/admin/queue", headers=admin.headers)
    refused = await client.get("/api/v1/admin/queue", headers=broker_user.headers)

    assert refused.status_code == 403
    body = response.json()
    assert body["kinds"]["maintenance.cleanup"] == {
        "queued": 1,
        "running": 0,
        "failed": 1,
        "succeeded": 0,
        "cancelled": 0,
    }
    assert body["kinds"]["reports.render"]["running"] == 1
    assert body["oldest_queued_age_seconds"] >= 0
    assert set(body["stream"]) == {"length", "pending", "lag"}
    assert isinstance(body["workers"], list)


async def test_polls_are_served_from_cache_until_the_job_changes(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization, resources: Resources
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    url = f"/api/v1/jobs/{job.id}"
    first = await client.get(url, headers=admin.headers)
    await resources.job_changes.wait_until_subscribed()

    # A change that nobody announced is not seen: this answer came from the cache.
    await session.execute(update(Job).where(Job.id == job.id).values(progress_percent=70, version=Job.version + 1))
    await session.commit()
    cached = await client.get(url, headers=admin.headers)
    assert cached.headers["etag"] == first.headers["etag"]

    # Another process announces it (as a worker does): the next poll reads the new state.
    await publish_change(resources.redis, JOB_CHANNEL, job.id)

    async def fresh() -> bool:
        return (await client.get(url, headers=admin.headers)).json()["progress"]["percent"] == 70

    deadline = time.monotonic() + 2
    while not await fresh():
        assert time.monotonic() < deadline, "the change notification never reached the cache"
        await asyncio.sleep(0.01)


async def test_a_cached_job_is_still_not_found_for_another_organization(
    admin: SignedIn, client: AsyncClient, session: AsyncSession, organization: Organization, resources: Resources
) -> None:
    job = await create_job(session, organization)
    await session.commit()
    assert (await client.get(f"/api/v1/jobs/{job.id}", headers=admin.headers)).status_code == 200
    stranger = await signed_in(client, session, resources, await create_organization(session, "Other AS"))

    response = await client.get(f"/api/v1/jobs/{job.id}", headers=stranger.headers)

    assert response.status_code == 404
