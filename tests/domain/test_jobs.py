"""The job state machine and the retry policy."""

from __future__ import annotations

import random
import statistics

import pytest

from domain.jobs import FINISHED_STATUSES, JobKind, JobStatus, RetryPolicy, can_transition


def test_job_kinds_are_the_dotted_task_names() -> None:
    assert {kind.value for kind in JobKind} == {
        "vitec.sync", "reports.render", "documents.finalize", "blobs.mirror", "documents.purge", "maintenance.cleanup",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (JobStatus.QUEUED, JobStatus.RUNNING, True),
        (JobStatus.RUNNING, JobStatus.QUEUED, True),  # a retry
        (JobStatus.RUNNING, JobStatus.SUCCEEDED, True),
        (JobStatus.QUEUED, JobStatus.CANCELLED, True),
        (JobStatus.FAILED, JobStatus.QUEUED, True),  # an admin's retry
        (JobStatus.SUCCEEDED, JobStatus.QUEUED, False),
        (JobStatus.CANCELLED, JobStatus.RUNNING, False),
        (JobStatus.QUEUED, JobStatus.SUCCEEDED, False),
    ],
)
def test_transitions(current: JobStatus, target: JobStatus, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_finished_states() -> None:
    assert FINISHED_STATUSES == {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
    assert not JobStatus.RUNNING.is_finished


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=60)

    assert [policy.ceiling(attempt) for attempt in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_delays_have_full_jitter_and_grow_on_average() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=300)
    rng = random.Random(7)

    samples = {attempt: [policy.delay(attempt, rng) for _ in range(400)] for attempt in (1, 3, 5)}

    for attempt, delays in samples.items():
        assert all(0 <= delay <= policy.ceiling(attempt) for delay in delays)
        assert len({round(delay, 6) for delay in delays}) > 350  # jitter: spread, not a fixed value
        assert min(delays) < policy.ceiling(attempt) * 0.1 < policy.ceiling(attempt) * 0.9 < max(delays)
    means = [statistics.mean(samples[attempt]) for attempt in (1, 3, 5)]
    assert means[0] < means[1] < means[2]
