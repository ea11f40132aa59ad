"""What the estate list can be filtered by."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EstateFilters:
    """`statuses` any of; `broker_id` in any broker role; every word of `words` must occur (case-insensitively)
    in street, zip code, city or heading; `updated_since` against `updated_at`."""

    statuses: Sequence[str] = ()
    department_id: uuid.UUID | None = None
    broker_id: uuid.UUID | None = None
    words: Sequence[str] = ()
    updated_since: datetime | None = None
