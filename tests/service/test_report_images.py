"""Report images come from Blob Storage once `blobs.mirror` stored them: no Vitec request for them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from core.resources import Resources
from repository.models import Estate, EstateImage
from service.blobs import blob_store
from service.reports import MirroredImages


class _Recording:
    """The Vitec side of the source: remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def fetch(self, installation: str, estate: Estate, image: EstateImage) -> bytes | None:
        self.asked.append(image.vitec_id)
        return b"from-vitec"


def _image(vitec_id: str, blob_name: str | None) -> EstateImage:
    mirrored_at = datetime.now(UTC) if blob_name else None
    return EstateImage(vitec_id=vitec_id, blob_name=blob_name, mirrored_at=mirrored_at)


async def test_a_mirrored_image_is_read_from_blob_storage_and_the_rest_from_vitec(resources: Resources) -> None:
    store = blob_store(resources)
    name = f"test-report-images/{uuid.uuid4()}"
    await store.upload_bytes(name, b"from-blob-storage", "image/jpeg")
    vitec = _Recording()
    source = MirroredImages(store, vitec)
    estate = Estate(vitec_id="E1")

    try:
        assert await source.fetch("INST", estate, _image("mirrored", name)) == b"from-blob-storage"
        assert await source.fetch("INST", estate, _image("not-yet", None)) == b"from-vitec"
        # A blob that went missing (purged by hand, another container) falls back to Vitec.
        assert await source.fetch("INST", estate, _image("lost", f"{name}-missing")) == b"from-vitec"
    finally:
        await store.delete(name)

    assert vitec.asked == ["not-yet", "lost"]
