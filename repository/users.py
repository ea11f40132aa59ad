"""Users, always looked up within one organization (except by email at login)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_

from domain.users import UserEmailTakenError, UserRole
from repository.base import Repository
from repository.models import User


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.one_or_none(self.select().where(User.email == email))

    async def get_in_organization(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        return await self.one_or_none(self.select().where(User.id == user_id, User.organization_id == organization_id))

    async def get_for_update(self, user_id: uuid.UUID) -> User | None:
        statement = self.select().where(User.id == user_id).with_for_update(key_share=True)
        return await self.one_or_none(statement.execution_options(populate_existing=True))

    async def get_in_organization_for_update(self, organization_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        statement = self.select().where(User.id == user_id, User.organization_id == organization_id)
        return await self.one_or_none(
            statement.with_for_update(key_share=True).execution_options(populate_existing=True)
        )

    async def lock_active_admins(self, organization_id: uuid.UUID) -> Sequence[uuid.UUID]:
        """Lock the organization's active admins (in id order, so concurrent callers never
        deadlock): two admins demoting each other at once cannot both see the other one stay.
        `FOR NO KEY UPDATE`, as the update itself takes: sign-ins and refreshes that reference the
        user (a foreign-key check) are not held up, so they cannot deadlock with it either."""
        statement = (
            select(User.id)
            .where(User.organization_id == organization_id, User.role == UserRole.ADMIN.value, User.is_active)
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def create(self, user: User) -> User:
        return await self.add(user, unique_errors={"uq_users_email": UserEmailTakenError})

    async def list_page(
        self, organization_id: uuid.UUID, *, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[User]:
        """Up to `limit` users in (created_at, id) order, strictly after the key `after`."""
        statement = self.select().where(User.organization_id == organization_id)
        if after is not None:
            statement = statement.where(tuple_(User.created_at, User.id) > tuple_(*after))
        return await self.all(statement.order_by(User.created_at, User.id).limit(limit))
