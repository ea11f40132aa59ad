"""The blob gateway: the only module that talks to Azure Blob Storage (`azure.storage.blob`).

One async `BlobServiceClient` per process. Uploads are staged block by block from an async byte
iterator and committed at the end, so memory stays flat and a failed upload never leaves a
committed blob (uncommitted blocks are discarded by the service). Downloads stream in chunks.
SAS URLs are signed with the account key (connection string, Azurite) or, without a key, with a
user-delegation key obtained with the client's DefaultAzureCredential (core/blob_client.py).

Errors of the SDK never leave this module as they are: their text can hold request details, so
they become `BlobStorageUnavailableError` with a fixed message, and only the type and status are
logged.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import quote

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobSasPermissions, ContentSettings, UserDelegationKey, generate_blob_sas
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from core.blob_client import BlobService
from core.logging import get_logger
from core.settings import AzureSettings
from domain.blobs import BlobInfo, BlobStorageUnavailableError, SignedUrl

logger = get_logger(__name__)

T = TypeVar("T")
# A user-delegation key is asked for this long and renewed once less than a SAS lifetime is left.
_DELEGATION_KEY_LIFETIME = timedelta(hours=2)
_DELEGATION_KEYS: dict[int, tuple[UserDelegationKey, datetime]] = {}
# Plain read URLs kept for the current step at most (`BlobStore.read_urls`); past it, they start over.
_MAX_READ_URLS = 100_000


def _account_key(settings: AzureSettings) -> str | None:
    parts = (part.split("=", 1) for part in settings.connection_string.get_secret_value().split(";") if "=" in part)
    return {key.strip(): value.strip() for key, value in parts}.get("AccountKey")


@dataclass(frozen=True, slots=True)
class BlobDownload:
    """An open download: the whole blob's size, the range's length, and its bytes as they arrive."""

    size: int
    length: int
    content_type: str | None
    chunks: AsyncIterator[bytes]


class BlobStore:
    """Azure Blob Storage (Azurite locally): blocks in, chunks out, SAS URLs for browsers.

    Wraps the process's one client (`Resources.blob_service`); the services share one per
    resources (`service.blobs.blob_store`), as building its container client costs a little.
    """

    def __init__(self, service: BlobService, settings: AzureSettings) -> None:
        self._settings = settings
        self._client: BlobServiceClient = service.client
        self._account_key = None if settings.account_url else _account_key(settings)
        self._container: ContainerClient = self._client.get_container_client(settings.container)
        # The plain read URLs signed in the current step, by blob name, and when they expire.
        self._read_urls: dict[str, SignedUrl] = {}
        self._read_urls_expire_at: datetime | None = None

    @property
    def container(self) -> str:
        return self._settings.container

    async def ensure_container(self) -> None:
        """Create the container unless it exists (start-up)."""
        try:
            await _guarded(self._container.create_container())
        except ResourceExistsError:
            pass

    async def delete_container(self) -> None:
        """Drop the container and everything in it (test runs clean up their own)."""
        try:
            await _guarded(self._container.delete_container())
        except ResourceNotFoundError:
            pass

    async def ping(self) -> bool:
        """Whether the container answers (readiness)."""
        try:
            await _guarded(self._container.get_container_properties())
        except (BlobStorageUnavailableError, ResourceNotFoundError):
            return False
        return True

    async def upload(self, name: str, chunks: AsyncIterator[bytes], content_type: str | None = None) -> int:
        """Stage `chunks` in blocks (a bounded number in flight), then commit them: answers the size.

        If `chunks` raises, nothing is committed and the error propagates.
        """
        blob = self._container.get_blob_client(name)
        block_size = self._settings.block_size_bytes
        slots = asyncio.Semaphore(self._settings.blocks_in_flight)
        block_ids: list[str] = []
        pending: set[asyncio.Task[object]] = set()
        size = 0

        async def stage(block_id: str, data: bytes) -> None:
            try:
                await _guarded(blob.stage_block(block_id, data, length=len(data)))
            finally:
                slots.release()

        async def send(data: bytes) -> None:
            await slots.acquire()
            self._reap(pending)
            block_id = base64.b64encode(f"{len(block_ids):010d}".encode()).decode()
            block_ids.append(block_id)
            pending.add(asyncio.create_task(stage(block_id, data)))

        buffer = bytearray()
        try:
            async for chunk in chunks:
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= block_size:
                    await send(bytes(buffer[:block_size]))
                    del buffer[:block_size]
            if buffer or not block_ids:
                await send(bytes(buffer))
            await asyncio.gather(*pending)
        except BaseException:
            await _cancel_all(pending)
            raise
        settings = ContentSettings(content_type=content_type) if content_type else None
        await _guarded(blob.commit_block_list([BlobBlock(block_id=b) for b in block_ids], content_settings=settings))
        return size

    @staticmethod
    def _reap(pending: set[asyncio.Task[object]]) -> None:
        """Forget staged blocks; re-raise the first failure at once instead of after the stream."""
        for task in [task for task in pending if task.done()]:
            pending.discard(task)
            task.result()

    async def upload_bytes(self, name: str, data: bytes, content_type: str | None = None) -> None:
        """A small blob in one request."""
        settings = ContentSettings(content_type=content_type) if content_type else None
        blob = self._container.get_blob_client(name)
        await _guarded(blob.upload_blob(data, overwrite=True, content_settings=settings))

    async def properties(self, name: str) -> BlobInfo | None:
        """A committed blob's properties, or None when there is none."""
        try:
            props = await _guarded(self._container.get_blob_client(name).get_blob_properties())
        except ResourceNotFoundError:
            return None
        return BlobInfo(
            name=name,
            size=int(props.size),
            content_type=props.content_settings.content_type,
            etag=str(props.etag),
            last_modified=props.last_modified,
        )

    async def read(self, name: str, offset: int = 0, length: int | None = None) -> BlobDownload | None:
        """Open a streamed read of the blob (or of `length` bytes from `offset`); None when missing."""
        try:
            downloader = await _guarded(
                self._container.get_blob_client(name).download_blob(
                    offset=offset if offset or length is not None else None, length=length
                )
            )
        except ResourceNotFoundError:
            return None
        props = downloader.properties
        # A ranged read's properties give the range's length; the whole size is in Content-Range.
        content_range: str | None = props.content_range
        total = int(content_range.rsplit("/", 1)[1]) if content_range else int(props.size)
        return BlobDownload(
            size=total,
            length=int(downloader.size),
            content_type=props.content_settings.content_type,
            chunks=_guarded_chunks(downloader.chunks()),
        )

    async def delete(self, name: str) -> bool:
        """Delete the blob; False when there was none (deleting twice is fine)."""
        try:
            await _guarded(self._container.get_blob_client(name).delete_blob())
        except ResourceNotFoundError:
            return False
        return True

    async def list_names(self, prefix: str) -> list[str]:
        """Names of the committed blobs under `prefix`."""
        return [item.name async for item in _guarded_chunks(self._container.list_blobs(name_starts_with=prefix))]

    async def read_url(
        self, name: str, *, content_disposition: str | None = None, valid_for: timedelta | None = None
    ) -> SignedUrl:
        """A read-only SAS URL for one blob; its responses carry `content_disposition` when given.
        Without either argument it is the blob's plain read URL (`read_urls`)."""
        if content_disposition is None and valid_for is None:
            return (await self.read_urls([name]))[name]
        permission = BlobSasPermissions(read=True)
        return await self._signed(name, permission, valid_for, content_disposition=content_disposition)

    async def read_urls(self, names: Iterable[str]) -> dict[str, SignedUrl]:
        """Plain read SAS URLs of blobs (a page's images), by name.

        They end on a step of a third of the SAS lifetime, so every reader of a blob within one
        step is handed the very same URL, still valid for more than two thirds of the lifetime; it
        is signed once per step and kept until the step ends. A page of 50 mirrored thumbnails
        otherwise cost 50 signatures per request, most of a page's time.
        """
        expires_at = _step_end(datetime.now(UTC), timedelta(seconds=self._settings.sas_ttl_seconds))
        if expires_at != self._read_urls_expire_at or len(self._read_urls) > _MAX_READ_URLS:
            self._read_urls, self._read_urls_expire_at = {}, expires_at
        kept = self._read_urls
        urls: dict[str, SignedUrl] = {}
        for name in names:
            url = kept.get(name)
            if url is None:
                permission = BlobSasPermissions(read=True)
                url = kept[name] = await self._signed(name, permission, None, expires_at=expires_at)
            urls[name] = url
        return urls

    async def close(self) -> None:
        """Nothing of its own to close: the client is the resources' (`Resources.close`)."""

    async def write_url(self, name: str, *, valid_for: timedelta | None = None) -> SignedUrl:
        """A create/write-only SAS URL for one blob (a browser's direct upload)."""
        return await self._signed(name, BlobSasPermissions(create=True, write=True), valid_for)

    async def _signed(
        self,
        name: str,
        permission: BlobSasPermissions,
        valid_for: timedelta | None,
        *,
        content_disposition: str | None = None,
        expires_at: datetime | None = None,
    ) -> SignedUrl:
        lifetime = timedelta(seconds=self._settings.sas_ttl_seconds)
        if expires_at is None:
            # Never longer than the configured lifetime (SPEC: at most 15 minutes).
            expires_at = datetime.now(UTC) + min(valid_for if valid_for is not None else lifetime, lifetime)
        key = await self._user_delegation_key() if self._account_key is None else None
        token = generate_blob_sas(
            account_name=self._client.account_name or "",
            container_name=self.container,
            blob_name=name,
            account_key=self._account_key,
            user_delegation_key=key,
            permission=permission,
            expiry=expires_at,
            content_disposition=content_disposition,
        )
        return SignedUrl(f"{self._blob_url(name)}?{token}", expires_at)

    def _blob_url(self, name: str) -> str:
        """The blob's URL as the SDK spells it (`BlobClient.url`), without building a client per
        blob: that took longer than signing."""
        return f"{self._container.url.rstrip('/')}/{quote(name, safe='~/')}"

    async def _user_delegation_key(self) -> UserDelegationKey:
        """One key per client, renewed well before it ends (asking costs a round trip to Entra)."""
        now = datetime.now(UTC)
        cached = _DELEGATION_KEYS.get(id(self._client))
        if cached is None or cached[1] - now < timedelta(minutes=30):
            expiry = now + _DELEGATION_KEY_LIFETIME
            cached = (await _guarded(self._client.get_user_delegation_key(now, expiry)), expiry)
            _DELEGATION_KEYS[id(self._client)] = cached
        return cached[0]


def _step_end(now: datetime, lifetime: timedelta) -> datetime:
    """`now + lifetime` rounded down to a step of a third of `lifetime` (whole seconds)."""
    step = max(int(lifetime.total_seconds()) // 3, 1)
    end = int((now + lifetime).timestamp())
    return datetime.fromtimestamp(end - end % step, UTC)


async def _guarded(call: Awaitable[T]) -> T:
    """Await an SDK call; outages and refusals become BlobStorageUnavailableError (not-found and
    exists stay as they are: callers decide what those mean)."""
    try:
        return await call
    except (ResourceNotFoundError, ResourceExistsError):
        raise
    except AzureError as exc:
        raise _unavailable(exc) from None


async def _guarded_chunks(chunks: AsyncIterator[T]) -> AsyncIterator[T]:
    try:
        async for chunk in chunks:
            yield chunk
    except AzureError as exc:
        raise _unavailable(exc) from None


def _unavailable(exc: AzureError) -> BlobStorageUnavailableError:
    status = getattr(exc, "status_code", None)
    logger.warning("blob_storage_error", error_type=type(exc).__name__, status=status)
    return BlobStorageUnavailableError()


async def _cancel_all(tasks: set[asyncio.Task[object]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["BlobDownload", "BlobStore"]
