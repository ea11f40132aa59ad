"""Refresh tokens: issue, lock for rotation, revoke families."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, select, update

from repository.base import Repository
from repository.models import AuthSession, RefreshToken


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def family_of(self, token_id: uuid.UUID) -> uuid.UUID | None:
        """The token's session, read without a lock: every writer of a family's tokens locks the
        session first, then the tokens, so that order never deadlocks."""
        return await self.session.scalar(select(RefreshToken.family_id).where(RefreshToken.id == token_id))

    async def get_for_update(self, token_id: uuid.UUID) -> RefreshToken | None:
        return await self.one_or_none(
            self.select().where(RefreshToken.id == token_id).with_for_update().execution_options(populate_existing=True)
        )

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def delete_expired(self, before: datetime) -> int:
        """Delete expired tokens, then the sessions left without any (their access tokens, shorter
        lived than any refresh token, have expired too)."""
        statement = delete(RefreshToken).where(RefreshToken.expires_at < before).returning(RefreshToken.id)
        deleted = len((await self.session.execute(statement)).all())
        await self.session.execute(delete(AuthSession).where(~exists().where(RefreshToken.family_id == AuthSession.id)))
        return deleted
