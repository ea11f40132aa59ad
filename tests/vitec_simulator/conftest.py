"""Fixtures of the simulator tests: a fresh seeded app per test, reached in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.vitec_simulator.support import SMALL, open_client
from vitec_simulator.config import Config


@pytest.fixture
def config() -> Config:
    """The default configuration plus one forbidden installation; override per module for others."""
    return SMALL


@pytest.fixture
async def client(config: Config) -> AsyncIterator[httpx.AsyncClient]:
    """An authenticated client on a fresh app of `config`."""
    async with open_client(config) as http:
        yield http
