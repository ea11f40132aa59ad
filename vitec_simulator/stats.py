"""Request counters: per route template, per exact path, per status, and the faults served."""

from __future__ import annotations

from collections import Counter
from typing import Any


class Stats:
    """Counts the requests to the Hub API (never those to `/_control/`)."""

    def __init__(self) -> None:
        self.routes: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def record_request(self, method: str, template: str, path: str) -> None:
        """Count one request, before any fault or handler runs."""
        self.routes[f"{method} {template}"] += 1
        self.paths[f"{method} {path}"] += 1

    def record_status(self, status: int) -> None:
        """Count the status a response started with."""
        self.statuses[str(status)] += 1

    def record_fault(self, kind: str) -> None:
        """Count a fault that was served."""
        self.faults[kind] += 1

    def clear(self) -> None:
        """Back to zero."""
        for counter in (self.routes, self.paths, self.statuses, self.faults):
            counter.clear()

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON: `total`, `routes`, `paths`, `statuses` and `faults`."""
        return {
            "total": sum(self.routes.values()),
            "routes": dict(sorted(self.routes.items())),
            "paths": dict(sorted(self.paths.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "faults": dict(sorted(self.faults.items())),
        }
