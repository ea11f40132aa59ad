"""The database servers themselves, not the schema: creating and dropping a database, and whether
PostgreSQL and Redis answer. Used by ops commands (cli), the tests and the benchmarks."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def create_database_if_missing(url: str) -> bool:
    """Create the database named in `url` (connecting to `postgres`); True when it was created."""
    name = make_url(url).database
    if not name:
        raise ValueError("DATABASE_URL names no database")
    connection = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await connection.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await connection.close()


async def drop_database(url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        quoted = '"' + str(name).replace('"', '""') + '"'
        await connection.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await connection.close()


async def postgres_answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url, "postgres"), timeout=2)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def redis_answers(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False
    finally:
        await client.aclose()
