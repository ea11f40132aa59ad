"""Which failures mean a backing service (PostgreSQL, Redis) is out, rather than a bug of ours.

An outage is an expected condition: requests answer 503 with `Retry-After` and the log says which
dependency failed, instead of a 500 and a stack trace.
"""

from __future__ import annotations

import errno
import socket

import asyncpg
import redis.exceptions
import sqlalchemy.exc

_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted, broken pipe
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
)
_NETWORK_ERRNOS = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT, errno.EHOSTDOWN})


def is_outage(exc: BaseException) -> bool:
    """`exc`, or what caused it, says a backing service could not be reached or went away."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending += [current.__cause__, current.__context__]
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGES):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    # asyncio reports a failed connect to several addresses as one plain OSError.
    return isinstance(exc, OSError) and (exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions"))
