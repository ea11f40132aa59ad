"""The long-lived resources a process builds once at start-up and closes at shutdown.

The API builds them in its lifespan, the worker on its start-up event, the scheduler and the CLI
on theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, cast

import asyncpg
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.blob_client import BlobService, create_blob_service
from core.broker import JobStreamBroker, create_broker, worker_identity
from core.change_events import ACCESS_CHANNEL, JOB_CHANNEL, READ_MODEL_CHANNEL, ChangeListener
from core.database import (
    SessionFactory,
    create_engine,
    create_raw_pool,
    create_session_factory,
)
from core.rate_limit import RateLimiter
from core.redis import create_redis
from core.security import PasswordHasher, TokenCodec
from core.settings import Settings


class Closeable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=Closeable)


@dataclass(slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    redis: Redis
    rate_limiter: RateLimiter
    password_hasher: PasswordHasher
    token_codec: TokenCodec
    broker: JobStreamBroker
    identity: str
    job_changes: ChangeListener
    read_model_changes: ChangeListener
    access_changes: ChangeListener
    # The one Blob Storage client; its operations are repository.blob_store.BlobStore's.
    blob_service: BlobService
    # The raw asyncpg pool (job polls in the API, job state changes in workers): start_raw_pool.
    raw_pool: asyncpg.Pool | None = None
    _broker_started: bool = field(default=False)
    # Clients built on first use by a higher layer, whose classes core may not import (the Vitec
    # client, repository/vitec/client.py): one per resources, closed with them. See `shared`.
    _shared: dict[Callable[[Resources], Closeable], Closeable] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, broker: JobStreamBroker | None = None) -> Resources:
        """Everything, unconnected; `broker` is the worker's own (with its tasks) when given."""
        engine = create_engine(settings.database)
        redis = create_redis(settings.redis)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            redis=redis,
            rate_limiter=RateLimiter(
                settings.redis, identifier_key=settings.auth.jwt_secret.get_secret_value().encode()
            ),
            password_hasher=PasswordHasher(settings.auth),
            token_codec=TokenCodec(settings.auth),
            broker=broker or create_broker(settings),
            identity=worker_identity(settings),
            job_changes=ChangeListener(redis, JOB_CHANNEL),
            read_model_changes=ChangeListener(redis, READ_MODEL_CHANNEL),
            access_changes=ChangeListener(redis, ACCESS_CHANNEL),
            blob_service=create_blob_service(settings.azure),
        )

    def shared(self, build: Callable[[Resources], C]) -> C:
        """The one client `build` makes for these resources: built on the first call, the same
        object afterwards (so everything in the process shares its pool and budget), closed by
        `close`. `build` must be one module-level function, the key of its client."""
        client = self._shared.get(build)
        if client is None:
            client = self._shared[build] = build(self)
        return cast(C, client)

    async def start_producer(self) -> None:
        """Open the broker for sending; it also creates the consumer group, so that messages sent
        before any worker ever started are read."""
        await self.broker.startup()
        self._broker_started = True

    async def start_raw_pool(self) -> None:
        self.raw_pool = await create_raw_pool(self.settings.database)

    async def close(self) -> None:
        while self._shared:
            await self._shared.popitem()[1].close()
        await self.job_changes.stop()
        await self.read_model_changes.stop()
        await self.access_changes.stop()
        if self.raw_pool is not None:
            await self.raw_pool.close()
        if self._broker_started:
            await self.broker.shutdown()
        await self.rate_limiter.close()
        await self.redis.aclose()
        await self.blob_service.close()
        await self.engine.dispose()
