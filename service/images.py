"""Estate images: when they must be mirrored into Blob Storage, and the URLs that serve them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from domain.blobs import SignedUrl
from domain.jobs import JobKind
from repository.estate_images import EstateImageRepository
from service.blobs import blob_store
from service.jobs import JobService

MIRROR_DEDUPE_KEY = JobKind.BLOBS_MIRROR.value


async def request_mirror(session: AsyncSession, resources: Resources, organization_id: uuid.UUID) -> None:
    """Start one `blobs.mirror` job for the organization when images wait to be mirrored (after commit);
    while one is active, that one stays the only one.

    Asked for any image still waiting, not only those this sync changed: an image whose mirror failed
    (or that changed while a mirror was finishing) is taken up by the next sync's mirror.
    """
    if resources.settings.vitec.mirror_images and await EstateImageRepository(session).any_unmirrored(organization_id):
        await JobService(session, resources).start(
            None, JobKind.BLOBS_MIRROR, organization_id=organization_id, dedupe_key=MIRROR_DEDUPE_KEY
        )


class ImageUrls:
    """Read SAS URLs for mirrored images, all valid for the same lifetime; `earliest_expiry` tells a
    page cache how long the URLs it holds stay good."""

    def __init__(self, resources: Resources) -> None:
        self._store = blob_store(resources)
        self.earliest_expiry: datetime | None = None

    async def signed(self, blob_name: str) -> str:
        url: SignedUrl = await self._store.read_url(blob_name)
        if self.earliest_expiry is None or url.expires_at < self.earliest_expiry:
            self.earliest_expiry = url.expires_at
        return url.url
