"""Switchable faults: latency, error statuses, hanging requests and dropped connections."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

UNTIL_CLEARED = -1


class FaultSpec(BaseModel):
    """The body of `PUT /_control/faults`; every field is optional. Counts of -1 last until cleared."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(default=0, ge=0, le=600_000)
    status: int | None = Field(default=None, ge=400, le=599)
    status_count: int = Field(default=UNTIL_CLEARED, ge=UNTIL_CLEARED)
    retry_after: int | None = Field(default=None, ge=0)
    timeout_count: int = Field(default=0, ge=UNTIL_CLEARED)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3_600)
    drop_count: int = Field(default=0, ge=UNTIL_CLEARED)
    paths: list[str] | None = None


class FaultKind(StrEnum):
    """What a request suffers besides latency."""

    NONE = "none"
    TIMEOUT = "timeout"
    DROP = "drop"
    STATUS = "status"


@dataclass(frozen=True)
class FaultDecision:
    """The faults chosen for one request."""

    latency_seconds: float = 0.0
    kind: FaultKind = FaultKind.NONE
    status: int = 0
    retry_after: int | None = None
    timeout_seconds: float = 0.0


NO_FAULT = FaultDecision()


def _take(remaining: int) -> tuple[bool, int]:
    """Whether a counted fault fires, and the count left afterwards."""
    if remaining == UNTIL_CLEARED:
        return True, remaining
    if remaining > 0:
        return True, remaining - 1
    return False, 0


class FaultState:
    """The active faults; each request consumes at most one of timeout, drop or status, in that order."""

    def __init__(self) -> None:
        self.spec = FaultSpec()

    def set(self, spec: FaultSpec) -> None:
        """Replace the active faults."""
        self.spec = spec.model_copy(deep=True)

    def clear(self) -> None:
        """No faults any more."""
        self.spec = FaultSpec()

    def applies_to(self, path: str) -> bool:
        """Whether the faults cover this path (no `paths` means every non-control path)."""
        prefixes = self.spec.paths
        if prefixes is None:
            return True
        lowered = path.lower()
        return any(lowered.startswith(prefix.lower()) for prefix in prefixes)

    def decide(self, path: str) -> FaultDecision:
        """Choose and consume the faults for one request to `path`."""
        spec = self.spec
        if not self.applies_to(path):
            return NO_FAULT
        latency = spec.latency_ms / 1000
        fired, spec.timeout_count = _take(spec.timeout_count)
        if fired:
            return FaultDecision(latency, FaultKind.TIMEOUT, timeout_seconds=spec.timeout_seconds)
        fired, spec.drop_count = _take(spec.drop_count)
        if fired:
            return FaultDecision(latency, FaultKind.DROP)
        if spec.status is not None:
            fired, spec.status_count = _take(spec.status_count)
            if fired:
                return FaultDecision(latency, FaultKind.STATUS, status=spec.status, retry_after=spec.retry_after)
        return FaultDecision(latency) if latency else NO_FAULT
