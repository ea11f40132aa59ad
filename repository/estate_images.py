"""Estate images as the mirror and the read-through route need them: what is left to mirror, what
was mirrored, and where one image's bytes come from."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from repository.models import Estate, EstateImage, Organization


@dataclass(frozen=True, slots=True)
class ImageToMirror:
    """An image waiting to be mirrored, and what an earlier mirror of it stored (if any)."""

    id: uuid.UUID
    estate_vitec_id: str
    vitec_id: str
    vitec_changed_at: datetime | None
    blob_name: str | None
    sha256: str | None


@dataclass(frozen=True, slots=True)
class MirroredImage:
    """What a mirror stored for one image, recorded on its row."""

    id: uuid.UUID
    seen_changed_at: datetime | None
    blob_name: str
    content_type: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ImageSource:
    """Where one image's bytes are: in Blob Storage once mirrored, else at Vitec."""

    installation: str
    estate_vitec_id: str
    vitec_id: str
    blob_name: str | None


def _unmirrored(organization_id: uuid.UUID) -> Select[uuid.UUID]:
    return (
        select(EstateImage.id)
        .join(Estate, Estate.id == EstateImage.estate_id)
        .where(Estate.organization_id == organization_id, Estate.deleted_at.is_(None))
        .where(EstateImage.mirrored_at.is_(None))
    )


class EstateImageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def any_unmirrored(self, organization_id: uuid.UUID) -> bool:
        """Whether a live estate of the organization has an image not mirrored (yet, or since it changed)."""
        return bool(await self.session.scalar(select(exists(_unmirrored(organization_id)))))

    async def count_unmirrored(self, organization_id: uuid.UUID) -> int:
        statement = select(func.count()).select_from(_unmirrored(organization_id).subquery())
        return int(await self.session.scalar(statement) or 0)

    async def unmirrored(
        self, organization_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> list[ImageToMirror]:
        """The next `limit` images to mirror, in id order after `after` (keyset pages)."""
        statement = (
            select(
                EstateImage.id, Estate.vitec_id, EstateImage.vitec_id, EstateImage.vitec_changed_at,
                EstateImage.blob_name, EstateImage.sha256,
            )
            .join(Estate, Estate.id == EstateImage.estate_id)
            .where(
                Estate.organization_id == organization_id, Estate.deleted_at.is_(None),
                EstateImage.mirrored_at.is_(None),
            )
            .order_by(EstateImage.id)
            .limit(limit)
        )  # fmt: skip
        if after is not None:
            statement = statement.where(EstateImage.id > after)
        return [ImageToMirror(*row) for row in await self.session.execute(statement)]

    async def record_mirrored(self, images: Collection[MirroredImage]) -> set[uuid.UUID]:
        """Record what was stored; answers the ids recorded. An image the sync changed meanwhile is
        not: it stays to be mirrored again."""
        recorded: set[uuid.UUID] = set()
        for image in images:
            result = await self.session.execute(
                update(EstateImage)
                .where(
                    EstateImage.id == image.id,
                    EstateImage.mirrored_at.is_(None),
                    EstateImage.vitec_changed_at.is_not_distinct_from(image.seen_changed_at),
                )
                .values(
                    blob_name=image.blob_name, content_type=image.content_type, size_bytes=image.size_bytes,
                    sha256=image.sha256, mirrored_at=func.now(),
                )
                .returning(EstateImage.id)
            )  # fmt: skip
            recorded.update(result.scalars())
        return recorded

    async def source(self, organization_id: uuid.UUID, estate_id: uuid.UUID, image_id: uuid.UUID) -> ImageSource | None:
        """Where an image of a live estate of the organization is; None when there is no such image."""
        statement = (
            select(Organization.vitec_installation_id, Estate.vitec_id, EstateImage.vitec_id, EstateImage.blob_name,
                   EstateImage.mirrored_at)
            .join(Estate, Estate.id == EstateImage.estate_id)
            .join(Organization, Organization.id == Estate.organization_id)
            .where(
                EstateImage.id == image_id, EstateImage.estate_id == estate_id,
                Estate.organization_id == organization_id, Estate.deleted_at.is_(None),
            )
        )  # fmt: skip
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        installation, estate_vitec_id, vitec_id, blob_name, mirrored_at = row
        return ImageSource(installation, estate_vitec_id, vitec_id, blob_name if mirrored_at is not None else None)
