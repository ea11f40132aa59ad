"""The async engine, the session factory, and the unit of work: the only place that commits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.settings import DatabaseSettings

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """One pooled asyncpg engine per process."""
    return create_async_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        echo=settings.echo,
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    # Objects stay readable after commit: responses are built from them after the boundary commits.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One session, committed once when the block succeeds, rolled back when it raises.

    An error that declares `persist_changes = True` (see `domain.errors.AppError`) is the one
    exception: its writes are committed before it propagates, so that, for example, revoking a
    refresh-token family on token reuse holds although the request answers 401.
    """
    async with factory() as session:
        try:
            yield session
        except BaseException as exc:
            if getattr(exc, "persist_changes", False):
                await session.commit()
            else:
                await session.rollback()
            raise
        await session.commit()


async def create_raw_pool(settings: DatabaseSettings) -> asyncpg.Pool:
    """A raw asyncpg pool for the hottest single statements, each its own transaction: job polls
    in the API, a job's state changes in the worker. Prepared statements, no pre-ping, and no
    reset query on release, since single autocommit statements never change session state."""
    dsn = make_url(settings.url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        # Nothing connects before the first statement: a process starts while PostgreSQL is down.
        min_size=0,
        max_size=settings.pool_size,
        max_inactive_connection_lifetime=300,
        init=_decode_json,
        reset=_keep_session_state,
    )
    return pool


async def _decode_json(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session_state(connection: asyncpg.Connection) -> None:
    """Nothing to reset: the raw pool runs single statements outside transactions."""


@asynccontextmanager
async def single_statements(pool: asyncpg.Pool | None, factory: SessionFactory) -> AsyncIterator[Any]:
    """Where a read of single statements runs: the raw pool (each statement its own snapshot, no
    transaction to begin or commit, no pre-ping), or, in a process without it (tests that keep
    everything in one rolled-back transaction), the asyncpg connection under a session of the
    factory. Either offers asyncpg's `fetch` and `fetchrow`."""
    if pool is not None:
        yield pool
        return
    async with factory() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        yield raw.driver_connection
