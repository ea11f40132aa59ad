"""Estate images: the URLs that serve the mirrored ones (when to mirror is `service/image_mirror.py`'s)."""

from __future__ import annotations

from datetime import datetime

from core.resources import Resources
from domain.blobs import SignedUrl
from service.blobs import blob_store


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
