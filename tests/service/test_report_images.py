"""Report images come from Blob Storage once `blobs.mirror` stored them, its print-size copy first:
no Vitec request for them, and no camera photo scaled down in the render."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from core.resources import Resources
from repository.models import Estate, EstateImage
from service.blobs import blob_store
from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_blob_name
from service.reports import ImageBytes, MirroredImages


class _Recording:
    """The Vitec side of the source: remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def fetch(self, installation: str, estate: Estate, image: EstateImage, longest: int) -> ImageBytes | None:
        self.asked.append(image.vitec_id)
        return ImageBytes(b"from-vitec")


def _image(vitec_id: str, blob_name: str | None) -> EstateImage:
    mirrored_at = datetime.now(UTC) if blob_name else None
    return EstateImage(vitec_id=vitec_id, blob_name=blob_name, mirrored_at=mirrored_at)


async def test_a_mirrored_image_is_read_from_blob_storage_and_the_rest_from_vitec(resources: Resources) -> None:
    store = blob_store(resources)
    name, copied = f"test-report-images/{uuid.uuid4()}", f"test-report-images/{uuid.uuid4()}"
    stored = {
        name: b"from-blob-storage",
        copied: b"original",
        print_blob_name(copied, COVER_PIXELS): b"cover-copy",
        print_blob_name(copied, GALLERY_PIXELS): b"gallery-copy",
    }
    for blob, content in stored.items():
        await store.upload_bytes(blob, content, "image/jpeg")
    vitec = _Recording()
    source = MirroredImages(store, vitec)
    estate = Estate(vitec_id="E1")

    try:
        fetched = [
            await source.fetch("INST", estate, _image("copied", copied), COVER_PIXELS),
            await source.fetch("INST", estate, _image("copied", copied), GALLERY_PIXELS),
            # Mirrored before print copies were made: the original, which the render scales down.
            await source.fetch("INST", estate, _image("mirrored", name), GALLERY_PIXELS),
            await source.fetch("INST", estate, _image("not-yet", None), GALLERY_PIXELS),
            # A blob that went missing (purged by hand, another container) falls back to Vitec.
            await source.fetch("INST", estate, _image("lost", f"{name}-missing"), GALLERY_PIXELS),
        ]
    finally:
        for blob in stored:
            await store.delete(blob)

    assert fetched == [
        ImageBytes(b"cover-copy", print_ready=True),
        ImageBytes(b"gallery-copy", print_ready=True),
        ImageBytes(b"from-blob-storage"),
        ImageBytes(b"from-vitec"),
        ImageBytes(b"from-vitec"),
    ]
    assert vitec.asked == ["not-yet", "lost"]
