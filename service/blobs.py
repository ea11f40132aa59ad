"""Blob Storage for the services: the gateway over the process's one client, and start-up."""

from __future__ import annotations

from core.logging import get_logger
from core.resources import Resources
from domain.blobs import BlobStorageUnavailableError
from repository.blob_store import BlobStore

logger = get_logger(__name__)


def _build(resources: Resources) -> BlobStore:
    return BlobStore(resources.blob_service, resources.settings.azure)


def blob_store(resources: Resources) -> BlobStore:
    """The blob gateway over this process's client: one per resources (no I/O, no connection of its
    own; it keeps the read URLs signed in the current step)."""
    return resources.shared(_build)


async def prepare_blob_storage(resources: Resources) -> None:
    """Ensure the container at start-up; a process still starts while Blob Storage is down
    (readiness reports it, and uploads answer 503 until it is back)."""
    try:
        await blob_store(resources).ensure_container()
    except BlobStorageUnavailableError:
        logger.warning("blob_container_not_ensured", container=resources.settings.azure.container)
