"""Jobs: the one mechanism for slow work. Kinds, states, the allowed transitions, retry policy."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import AppError, ConflictError, NotFoundError, RateLimitedError


class JobKind(StrEnum):
    """Every production job kind; the value is the Taskiq task name and the metrics' `kind` label."""

    VITEC_SYNC = "vitec.sync"
    REPORTS_RENDER = "reports.render"
    DOCUMENTS_FINALIZE = "documents.finalize"
    BLOBS_MIRROR = "blobs.mirror"
    DOCUMENTS_PURGE = "documents.purge"
    MAINTENANCE_CLEANUP = "maintenance.cleanup"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})

# The one state machine: every statement that changes a job's status is built from it
# (`repository.job_states.transition`), and tests/repository/test_job_transitions.py holds them to it.
# queued → running → succeeded | failed | cancelled; running → queued for a retry or a release at
# shutdown; queued → cancelled (never ran) or failed (no worker can run its kind);
# failed → queued (an admin's retry).
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]


class JobKindNotRunnableError(Exception):
    """A job of a kind no worker has a handler for: a programming error, refused at creation so the
    job is never queued for ever."""


class IllegalTransitionError(Exception):
    """A statement was written for a change of status the state machine does not allow."""


_JITTER = random.Random()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: the n-th retry waits uniformly in [0, min(cap, base·2ⁿ⁻¹)]."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0

    def ceiling(self, attempt: int) -> float:
        return min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        generator: random.Random = rng or _JITTER
        return float(generator.uniform(0.0, self.ceiling(attempt)))


class JobNotFoundError(NotFoundError):
    code = "job_not_found"
    title = "Job not found"


class JobNotCancellableError(ConflictError):
    code = "job_not_cancellable"
    title = "The job has already finished"


class JobNotRetryableError(ConflictError):
    code = "job_not_retryable"
    title = "Only a failed job can be retried"


class IdempotencyKeyMismatchError(AppError):
    code = "idempotency_key_mismatch"
    status_code = 422
    title = "This Idempotency-Key was used with a different request"


class IdempotencyKeyInUseError(ConflictError):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still being processed; retry it shortly"


class JobCreateRateLimitedError(RateLimitedError):
    code = "job_create_rate_limited"
    title = "Too many jobs started; try again later"


# Errors a task raises to end its job. They never reach HTTP; `code` lands on the job row.
class JobError(Exception):
    """Base of the errors a task body raises on purpose."""

    code: str = "job_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class PermanentJobError(JobError):
    """Retrying cannot help (bad credentials, missing rights, invalid input): fail at once."""

    code = "job_permanent_error"


class TransientJobError(JobError):
    """Worth retrying later (network, 429, 5xx, deadlocks)."""

    code = "job_transient_error"


class JobCancelled(Exception):
    """Raised at a checkpoint once cancellation was requested."""
