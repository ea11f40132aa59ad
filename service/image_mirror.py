"""`blobs.mirror`: copy an organization's new and changed estate images from Vitec into Blob Storage.

Blob names are content-addressed (sha256), so bytes already stored are not uploaded again, and an
image whose Vitec `changedDate` did not move is not even fetched (the sync keeps its `mirrored_at`).
A few images are fetched at once (VITEC_MIRROR_CONCURRENCY), every request inside the shared
per-installation Vitec budget (the client paces them across processes). Each batch is recorded in a
unit of work of its own: a retry after an outage does not fetch again what was already mirrored,
and the blobs of a batch exist before any row points at them. Beside each original, the print-size
copies a report embeds are stored (`print_blob_name`), so no report scales a camera photo down again.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import get_logger
from core.metrics import MIRROR_IMAGES
from core.resources import Resources
from domain.blobs import BlobStorageUnavailableError
from domain.jobs import JobKind, PermanentJobError, TransientJobError
from domain.vitec import (
    RASTER_IMAGE_TYPES,
    EstateImageTooLargeError,
    VitecError,
    VitecForbiddenError,
    VitecNotFoundError,
    VitecUnauthorizedError,
)
from repository.blob_store import BlobStore
from repository.estate_images import EstateImageRepository, ImageToMirror, MirroredImage
from repository.organizations import OrganizationRepository
from service.blobs import blob_store
from service.job_runner import JobContext
from service.jobs import JobService
from service.print_images import print_blob_name, print_copies
from service.unit_of_work import notify_read_model_after_commit, transaction
from service.vitec import vitec_client

logger = get_logger(__name__)

BATCH = 100
BLOB_PREFIX = "vitec-images"
MIRROR_DEDUPE_KEY = JobKind.BLOBS_MIRROR.value


def image_blob_name(organization_id: uuid.UUID, sha256: str) -> str:
    """Where bytes of this hash live for this organization (organizations never share blobs)."""
    return f"{BLOB_PREFIX}/{organization_id}/{sha256}"


async def store_image(store: BlobStore, name: str, content: bytes, content_type: str) -> None:
    """The image's bytes under `name` and, beside them, the print-size copies a report embeds: made
    once here instead of in every report (off the event loop: tens of milliseconds a camera photo)."""
    await store.upload_bytes(name, content, content_type)
    copies = await asyncio.to_thread(print_copies, content)
    for longest, jpeg in (copies or {}).items():
        await store.upload_bytes(print_blob_name(name, longest), jpeg, "image/jpeg")


@dataclass
class MirrorTally:
    mirrored: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.mirrored + self.skipped + self.failed

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        MIRROR_IMAGES.labels(outcome=outcome).inc()


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


async def mirror(context: JobContext) -> dict[str, Any]:
    """Mirror every image of the job's organization that is not mirrored yet; the result counts them."""
    if context.organization_id is None:
        raise PermanentJobError("a mirror needs an organization", code="blobs_mirror_without_organization")
    async with transaction(context.resources) as session:
        organization = await OrganizationRepository(session).get(context.organization_id)
        waiting = await EstateImageRepository(session).count_unmirrored(context.organization_id)
    if organization is None:
        raise PermanentJobError("the organization no longer exists", code="organization_not_found")
    mirror = _ImageMirror(context.resources, organization.id, organization.vitec_installation_id)
    try:
        await _mirror_all(context, mirror, waiting)
    except (VitecUnauthorizedError, VitecForbiddenError) as exc:
        raise PermanentJobError(exc.detail, code=exc.code) from exc
    except (VitecError, BlobStorageUnavailableError) as exc:  # an outage: what is recorded stays, the rest retries
        raise TransientJobError(exc.detail, code=exc.code) from exc
    tally = mirror.tally
    return {"mirrored": tally.mirrored, "skipped": tally.skipped, "failed": tally.failed}


async def _mirror_all(context: JobContext, mirror: _ImageMirror, waiting: int) -> None:
    """One pass over the images waiting, in id order: a few workers fetch and store while the next
    page is read, and what they stored is recorded every BATCH images. No batch waits for its
    slowest image, so the Vitec budget stays in use. An image a sync changes behind the pass is
    left to the mirror that sync's successor starts."""
    resources = context.resources
    concurrency = resources.settings.vitec.mirror_concurrency
    queue: asyncio.Queue[ImageToMirror | None] = asyncio.Queue(maxsize=2 * concurrency)
    stored: list[MirroredImage] = []

    async def feed() -> None:
        after: uuid.UUID | None = None
        while True:
            async with transaction(resources) as session:
                page = await EstateImageRepository(session).unmirrored(mirror.organization_id, after=after, limit=BATCH)
            for image in page:
                await queue.put(image)
            if len(page) < BATCH:
                break
            after = page[-1].id
        for _ in range(concurrency):
            await queue.put(None)

    async def record() -> None:
        batch = stored[:]
        stored.clear()
        if batch:
            async with transaction(resources) as session:
                await EstateImageRepository(session).record_mirrored(batch)
                notify_read_model_after_commit(session, mirror.organization_id)  # cached pages get the SAS URLs
        total = max(waiting, mirror.tally.handled)
        await context.progress(99 * mirror.tally.handled // max(1, total), f"images {mirror.tally.handled} of {total}")

    async def work() -> None:
        while (image := await queue.get()) is not None:
            if (done := await mirror.one(image)) is not None:
                stored.append(done)
            if len(stored) >= BATCH:
                await record()

    await _all_or_none([feed, *(work for _ in range(concurrency))])
    await record()


class _ImageMirror:
    """Fetches one image, stores its bytes under their hash unless already stored, and counts."""

    def __init__(self, resources: Resources, organization_id: uuid.UUID, installation: str) -> None:
        self.organization_id = organization_id
        self.tally = MirrorTally()
        self._installation = installation
        self._client = vitec_client(resources)
        self._store = blob_store(resources)
        self._max_bytes = resources.settings.vitec.image_max_bytes

    async def one(self, image: ImageToMirror) -> MirroredImage | None:
        """What was stored for the image; None when Vitec no longer has it or it is too large."""
        try:
            binary = await self._client.get_estate_image(
                self._installation, image.estate_vitec_id, image.vitec_id, max_bytes=self._max_bytes
            )
        except (VitecNotFoundError, EstateImageTooLargeError) as exc:
            logger.warning("image_mirror_failed", image_id=str(image.id), error_code=exc.code)
            self.tally.count("failed")
            return None
        sha256 = hashlib.sha256(binary.content).hexdigest()
        name = image_blob_name(self.organization_id, sha256)
        content_type = binary.content_type if binary.content_type in RASTER_IMAGE_TYPES else "application/octet-stream"
        if image.sha256 == sha256 and image.blob_name == name:
            self.tally.count("skipped")
        else:
            await store_image(self._store, name, binary.content, content_type)
            self.tally.count("mirrored")
        return MirroredImage(image.id, image.vitec_changed_at, name, content_type, len(binary.content), sha256)


async def _all_or_none(calls: Sequence[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    """Run the calls concurrently; on the first error the others are cancelled and it propagates."""
    tasks = [asyncio.create_task(call()) for call in calls]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
