"""The kinds of job a worker can run: kind → handler, and the schedules that start it.

One registry for both ends: the worker registers one task per entry (`worker.tasks`), and
`JobService.start` refuses a kind that is not here, so no job is ever queued that no worker could
run (the sweeper would re-send it for ever). Registering a kind is all a new kind needs; the
production kinds are registered by `service.job_handlers`, which the registry loads itself on first
use, so that no process (API, worker, scheduler, CLI, benchmark) can forget to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings
from service.job_runner import JobHandler
from service.scheduling import ScheduleScope

Schedules = Callable[[Settings], list[dict[str, Any]]]


def _no_schedules(settings: Settings) -> list[dict[str, Any]]:
    return []


@dataclass(frozen=True, slots=True)
class JobKindSpec:
    """How a kind runs: its handler; its schedules (from the settings) and how they fan out."""

    kind: str
    handler: JobHandler
    schedules: Schedules = field(default=_no_schedules)
    scope: ScheduleScope = ScheduleScope.SYSTEM
    dedupe_key: str | None = None


class JobKindRegistry:
    """The kinds this process knows how to run."""

    def __init__(self, loads: str | None = None) -> None:
        self._specs: dict[str, JobKindSpec] = {}
        self._loads = loads

    def register(self, spec: JobKindSpec) -> None:
        known = self._specs.get(spec.kind)
        if known is not None and known != spec:
            raise ValueError(f"job kind {spec.kind!r} is registered twice, with different handlers")
        self._specs[spec.kind] = spec

    def __contains__(self, kind: object) -> bool:
        return kind in self._loaded()

    def __iter__(self) -> Iterator[JobKindSpec]:
        return iter(list(self._loaded().values()))

    def kinds(self) -> frozenset[str]:
        return frozenset(self._loaded())

    def _loaded(self) -> dict[str, JobKindSpec]:
        # Imported on first use, not at the top: the handlers' modules start jobs through
        # `service.jobs`, which reads this registry (a cycle at import time).
        if self._loads is not None:
            module, self._loads = self._loads, None
            importlib.import_module(module)
        return self._specs


KINDS = JobKindRegistry(loads="service.job_handlers")
