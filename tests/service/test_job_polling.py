"""ETags and Retry-After of a polled job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from repository.jobs import JobSnapshot
from service.job_polling import JobPoller, PollAnswer, etag_of, retry_after_seconds


def snapshot(**changes: object) -> JobSnapshot:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "id": uuid.uuid4(), "organization_id": uuid.uuid4(), "kind": "maintenance.cleanup", "status": "queued",
        "progress_percent": 0, "progress_message": None, "result": None, "error_code": None, "error_message": None,
        "attempts": 0, "run_after": now, "version": 1, "created_at": now, "started_at": None, "finished_at": None,
    }  # fmt: skip
    values.update(changes)
    return JobSnapshot(**values)  # type: ignore[arg-type]


def test_etag_changes_with_the_version() -> None:
    job = snapshot()
    moved = snapshot(id=job.id, version=2)

    assert etag_of(job) != etag_of(moved)
    assert etag_of(job) == etag_of(snapshot(id=job.id, status="running"))  # the version is the truth


def test_if_none_match_lists_and_weak_tags_match() -> None:
    job = snapshot()
    etag = etag_of(job)

    answer: PollAnswer = JobPoller._answer(job, f'"other", W/{etag}')
    assert answer.not_modified
    assert not JobPoller._answer(job, '"other"').not_modified
    assert not JobPoller._answer(job, None).not_modified


def test_retry_after_is_between_1_and_10_seconds_until_finished() -> None:
    now = datetime.now(UTC)

    assert retry_after_seconds(snapshot(status="running"), now) == 1
    assert retry_after_seconds(snapshot(run_after=now + timedelta(seconds=4.2)), now) == 5
    assert retry_after_seconds(snapshot(run_after=now + timedelta(minutes=5)), now) == 10
    assert retry_after_seconds(snapshot(run_after=now - timedelta(minutes=5)), now) == 1
    assert retry_after_seconds(snapshot(status="succeeded"), now) is None
