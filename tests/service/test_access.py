"""The access guard's per-process cache: one read per session, shared by concurrent misses, and
dropped for exactly the session or user an announcement names."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.resources import Resources
from core.security import TokenType
from domain.users import UserRole
from repository.models import AuthSession, Organization, User
from service.access import AccessGuard
from tests.factories.users import create_organization, create_user


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """Every statement sent on the test's connection (the guard reads through it here)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    yield sent
    event.remove(connection.sync_connection, "before_cursor_execute", record)


async def token_for(session: AsyncSession, resources: Resources, user: User) -> tuple[str, AuthSession]:
    sign_in = AuthSession(user_id=user.id)
    session.add(sign_in)
    await session.flush()
    token, _ = resources.token_codec.encode(
        subject=user.id, organization_id=user.organization_id, role=user.role, token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=5), session_id=sign_in.id,
    )  # fmt: skip
    return token, sign_in


async def test_concurrent_checks_of_one_session_share_one_read_and_later_ones_none(
    session: AsyncSession, resources: Resources, organization: Organization, statements: list[str]
) -> None:
    user = await create_user(session, resources, organization, role=UserRole.ADMIN)
    token, _ = await token_for(session, resources, user)
    guard = AccessGuard(resources)
    statements.clear()

    principals = await asyncio.gather(*(guard.principal(token) for _ in range(20)))
    await guard.principal(token)

    assert {principal.user_id for principal in principals} == {user.id}
    assert principals[0].role is UserRole.ADMIN
    assert len([sql for sql in statements if "auth_sessions" in sql]) == 1


async def test_an_announcement_drops_just_the_named_session_or_user(
    session: AsyncSession, resources: Resources, organization: Organization, statements: list[str]
) -> None:
    first = await create_user(session, resources, organization)
    second = await create_user(session, resources, organization)
    first_token, first_session = await token_for(session, resources, first)
    second_token, _ = await token_for(session, resources, second)
    guard = AccessGuard(resources)
    await guard.principal(first_token)
    await guard.principal(second_token)

    def reads() -> int:
        return len([sql for sql in statements if "auth_sessions" in sql])

    before = reads()
    guard.invalidate(first.id)
    await guard.principal(first_token)
    await guard.principal(second_token)
    after_user = reads()
    guard.invalidate(first_session.id)
    await guard.principal(first_token)
    after_session = reads()
    guard.invalidate(None)
    await guard.principal(first_token)
    await guard.principal(second_token)

    assert (after_user - before, after_session - after_user, reads() - after_session) == (1, 1, 2)
