"""Refresh tokens: issue, lock for rotation, revoke families."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, update

from repository.base import Repository
from repository.models import AuthSession, RefreshToken


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def get_for_update(self, token_id: uuid.UUID) -> RefreshToken | None:
        """Lock the row: two concurrent refreshes with one token are serialized, and the second
        sees the first one's `used_at`."""
        return await self.one_or_none(self.select().where(RefreshToken.id == token_id).with_for_update())

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
