"""The running job's lease: its heartbeat outlives a failed beat."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from core.resources import Resources
from repository.job_states import JobStateRepository
from service.job_runner import _Lease


async def test_heartbeat_keeps_beating_after_a_failed_beat(
    resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resources.raw_pool is not None
    lease = _Lease(uuid.uuid4(), "worker-1", resources, JobStateRepository(resources.raw_pool))
    beats = 0

    async def flaky_beat() -> None:
        nonlocal beats
        beats += 1
        if beats == 1:
            raise ConnectionError("database restarting")
        if beats == 3:
            lease.lost = True  # ends the loop

    monkeypatch.setattr(lease, "beat", flaky_beat)

    await asyncio.wait_for(lease.beat_forever(), timeout=10)

    assert beats == 3
