"""Helpers for the simulator tests: an in-process client and small readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from vitec_simulator.app import create_app
from vitec_simulator.config import Config

AUTH = ("estate-bff", "simulator-access-key")
INSTALLATION = "DEMOINSTALL"
FORBIDDEN = "LOCKEDINSTALL"
SMALL = Config(forbidden_installations=(FORBIDDEN,))
OSLO = ZoneInfo("Europe/Oslo")


@asynccontextmanager
async def open_client(config: Config) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as the configured partner, talking to a fresh app in-process."""
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://vitec.test", auth=AUTH) as client:
        yield client


async def get_json(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    """GET a path, insist on 200, answer the JSON."""
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def estate_ids(client: httpx.AsyncClient, installation: str = INSTALLATION, **params: str) -> list[str]:
    """The ids `GET /{inst}/Estates` lists with these filters."""
    return [row["estateId"] for row in await get_json(client, f"/{installation}/Estates", **params)]


def instant(value: str) -> datetime:
    """A Vitec date as an aware UTC datetime: `Z` values as they are, naive ones as Oslo wall-clock time."""
    if value.endswith("Z"):
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=OSLO).astimezone(UTC)
