"""When a sync refreshes the planner's statistics."""

from __future__ import annotations

from service.vitec_sync import reshapes_estates


def test_the_first_sync_of_an_organization_refreshes_the_statistics() -> None:
    assert reshapes_estates(300, stored=0)


def test_a_routine_incremental_sync_does_not() -> None:
    assert not reshapes_estates(1, stored=10_000)
    assert not reshapes_estates(0, stored=0)


def test_a_tenth_of_the_estates_changed_does() -> None:
    assert reshapes_estates(1_000, stored=10_000)
    assert not reshapes_estates(999, stored=10_000)
