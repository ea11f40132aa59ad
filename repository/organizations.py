"""Organizations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from repository.base import Repository
from repository.models import Organization


class OrganizationRepository(Repository[Organization]):
    model = Organization

    async def get_by_installation_id(self, installation_id: str) -> Organization | None:
        return await self.one_or_none(self.select().where(Organization.vitec_installation_id == installation_id))

    async def list_ids(self) -> Sequence[uuid.UUID]:
        return (await self.session.execute(select(Organization.id).order_by(Organization.created_at))).scalars().all()
