"""Purging refresh tokens takes the sessions left without any along."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from repository.models import AuthSession, RefreshToken
from repository.refresh_tokens import RefreshTokenRepository
from tests.factories.users import create_organization, create_user


async def test_expired_tokens_go_and_so_do_sessions_left_without_any(
    session: AsyncSession, resources: Resources
) -> None:
    user = await create_user(session, resources, await create_organization(session))
    now = datetime.now(UTC)
    ended, live = AuthSession(user_id=user.id), AuthSession(user_id=user.id)
    session.add_all([ended, live])
    await session.flush()
    session.add_all(
        [
            RefreshToken(id=uuid.uuid4(), user_id=user.id, family_id=ended.id, expires_at=now - timedelta(days=1)),
            RefreshToken(id=uuid.uuid4(), user_id=user.id, family_id=live.id, expires_at=now - timedelta(days=1)),
            RefreshToken(id=uuid.uuid4(), user_id=user.id, family_id=live.id, expires_at=now + timedelta(days=1)),
        ]
    )
    await session.flush()

    deleted = await RefreshTokenRepository(session).delete_expired(now)

    assert deleted == 2
    remaining = (await session.execute(select(AuthSession.id).where(AuthSession.user_id == user.id))).scalars().all()
    assert list(remaining) == [live.id]
