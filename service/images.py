"""Estate images: the URLs that serve the mirrored ones (when to mirror is `service/image_mirror.py`'s)."""

from __future__ import annotations

from collections.abc import Iterable
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

    async def signed(self, blob_names: Iterable[str]) -> dict[str, str]:
        """Read SAS URLs of the blobs, by name."""
        urls: dict[str, SignedUrl] = await self._store.read_urls(blob_names)
        for url in urls.values():
            if self.earliest_expiry is None or url.expires_at < self.earliest_expiry:
                self.earliest_expiry = url.expires_at
        return {name: url.url for name, url in urls.items()}
