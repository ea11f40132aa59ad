"""The simulator's configuration, read from `SIMULATOR_*` environment variables (and only here).

`SIMULATOR_INSTALLATIONS` (comma-separated, default `DEMOINSTALL,VITECPARTNER`), `SIMULATOR_USERNAME`
(`estate-bff`), `SIMULATOR_PASSWORD` (`simulator-access-key`), `SIMULATOR_SEED` (42),
`SIMULATOR_ESTATES` per installation (300), `SIMULATOR_DEPARTMENTS` (4), `SIMULATOR_EMPLOYEES` (20),
`SIMULATOR_FORBIDDEN_INSTALLATIONS` (installations the credentials have no rights to: 403; default
none), `SIMULATOR_ANCHOR` (ISO date-time the seeded change dates end at; default 2026-11-01Z) and
`SIMULATOR_IMAGE_BYTES` (estate images are padded to at least this size; default 0, their own size).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_INSTALLATIONS = ("DEMOINSTALL", "VITECPARTNER")
# Seeded change dates end here: fixed, so the same seed gives the same bytes on any day.
DEFAULT_ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
MAX_ESTATES = 1_000_000


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _anchor(environ: Mapping[str, str]) -> datetime:
    raw = environ.get("SIMULATOR_ANCHOR", "").strip()
    if not raw:
        return DEFAULT_ANCHOR
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"SIMULATOR_ANCHOR must be an ISO 8601 date-time, got {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Config:
    """What the simulator serves: installations, credentials and the size and seed of the data."""

    installations: tuple[str, ...] = DEFAULT_INSTALLATIONS
    username: str = "estate-bff"
    password: str = "simulator-access-key"
    seed: int = 42
    estates: int = 300
    departments: int = 4
    employees: int = 20
    forbidden_installations: tuple[str, ...] = ()
    anchor: datetime = DEFAULT_ANCHOR
    image_bytes: int = 0

    def __post_init__(self) -> None:
        names = [name.upper() for name in self.installations]
        if not names:
            raise ValueError("SIMULATOR_INSTALLATIONS must name at least one installation")
        if len(set(names)) != len(names):
            raise ValueError("SIMULATOR_INSTALLATIONS names an installation twice")
        if not 0 <= self.estates <= MAX_ESTATES:
            raise ValueError(f"SIMULATOR_ESTATES must be between 0 and {MAX_ESTATES}")
        if self.departments < 1:
            raise ValueError("SIMULATOR_DEPARTMENTS must be at least 1")
        if self.employees < 0:
            raise ValueError("SIMULATOR_EMPLOYEES must not be negative")
        if self.image_bytes < 0:
            raise ValueError("SIMULATOR_IMAGE_BYTES must not be negative")
        if self.anchor.tzinfo is None:
            raise ValueError("the anchor must carry a time zone")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read the `SIMULATOR_*` variables; anything unset takes the default."""
        env = os.environ if environ is None else environ
        return cls(
            installations=_split(env.get("SIMULATOR_INSTALLATIONS", "")) or DEFAULT_INSTALLATIONS,
            username=env.get("SIMULATOR_USERNAME") or "estate-bff",
            password=env.get("SIMULATOR_PASSWORD") or "simulator-access-key",
            seed=_integer(env, "SIMULATOR_SEED", 42),
            estates=_integer(env, "SIMULATOR_ESTATES", 300),
            departments=_integer(env, "SIMULATOR_DEPARTMENTS", 4),
            employees=_integer(env, "SIMULATOR_EMPLOYEES", 20),
            forbidden_installations=_split(env.get("SIMULATOR_FORBIDDEN_INSTALLATIONS", "")),
            anchor=_anchor(env),
            image_bytes=_integer(env, "SIMULATOR_IMAGE_BYTES", 0),
        )

    @property
    def served_installations(self) -> tuple[str, ...]:
        """The installations with data: the configured ones that are not forbidden."""
        forbidden = {name.upper() for name in self.forbidden_installations}
        return tuple(name for name in self.installations if name.upper() not in forbidden)
