"""The long-lived resources a process builds once at start-up and closes at shutdown.

The API builds them in its lifespan, the worker on its start-up event, the CLI per command.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.database import SessionFactory, create_engine, create_session_factory
from core.rate_limit import RateLimiter
from core.redis import create_redis
from core.security import PasswordHasher, TokenCodec
from core.settings import Settings


@dataclass(slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    redis: Redis
    rate_limiter: RateLimiter
    password_hasher: PasswordHasher
    token_codec: TokenCodec

    @classmethod
    def build(cls, settings: Settings) -> Resources:
        engine = create_engine(settings.database)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            redis=create_redis(settings.redis),
            rate_limiter=RateLimiter(settings.redis),
            password_hasher=PasswordHasher(settings.auth),
            token_codec=TokenCodec(settings.auth),
        )

    async def close(self) -> None:
        await self.rate_limiter.close()
        await self.redis.aclose()
        await self.engine.dispose()
