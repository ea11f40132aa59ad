"""Ticks: every firing of a schedule maps to one tick key, whichever scheduler fired it."""

from __future__ import annotations

from datetime import UTC, datetime

from service.scheduling import tick_of


def test_cron_firings_within_a_minute_share_a_tick() -> None:
    early = datetime(2026, 11, 22, 2, 0, 0, 100_000, tzinfo=UTC)
    late = datetime(2026, 11, 22, 2, 0, 59, 900_000, tzinfo=UTC)

    assert tick_of(early, interval_seconds=None) == tick_of(late, interval_seconds=None)
    assert tick_of(late, interval_seconds=None) != tick_of(
        datetime(2026, 11, 22, 2, 1, tzinfo=UTC), interval_seconds=None
    )


def test_interval_firings_map_to_their_slot() -> None:
    first = datetime(2026, 11, 22, 2, 14, 59, tzinfo=UTC)
    same_slot = datetime(2026, 11, 22, 2, 0, 1, tzinfo=UTC)
    next_slot = datetime(2026, 11, 22, 2, 15, 0, tzinfo=UTC)

    assert tick_of(first, interval_seconds=900) == tick_of(same_slot, interval_seconds=900)
    assert tick_of(next_slot, interval_seconds=900) == next_slot
