"""The async engine, the session factory, and the unit of work: the only place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
