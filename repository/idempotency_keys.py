"""Idempotency keys of job-creating requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func

from repository.base import Repository
from repository.models import IdempotencyKey


class IdempotencyKeyRepository(Repository[IdempotencyKey]):
    model = IdempotencyKey

    async def get_live(self, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
        return await self.one_or_none(
            self.select().where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.expires_at > func.now()
            )
        )

    async def delete_expired(self, now: datetime) -> int:
        statement = delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now).returning(IdempotencyKey.id)
        return len((await self.session.execute(statement)).all())
