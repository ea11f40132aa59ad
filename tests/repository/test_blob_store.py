"""The blob gateway against a real Azurite: blocks in, ranges out, SAS URLs that do only their job."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from core.blob_client import BlobService, create_blob_service
from core.settings import AzureSettings
from repository.blob_store import BlobStore
from tests.conftest import blob_settings

BLOCK = 64 * 1024


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[BlobService]:
    blob_service = create_blob_service(blob_settings())
    yield blob_service
    await blob_service.close()


@pytest.fixture
async def store(service: BlobService) -> BlobStore:
    settings: AzureSettings = blob_settings(block_size_bytes=BLOCK, blocks_in_flight=2)
    blob_store = BlobStore(service, settings)
    await blob_store.ensure_container()
    return blob_store


def blob_name() -> str:
    return f"tests/{uuid.uuid4().hex}"


async def pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(store: BlobStore, name: str, offset: int = 0, length: int | None = None) -> bytes:
    download = await store.read(name, offset, length)
    assert download is not None
    return b"".join([chunk async for chunk in download.chunks])


async def test_upload_in_blocks_reads_back_identical(store: BlobStore) -> None:
    data = os.urandom(5 * BLOCK + 123)
    name = blob_name()

    size = await store.upload(name, pieces(data), "application/pdf")

    assert size == len(data)
    assert hashlib.sha256(await read_all(store, name)).digest() == hashlib.sha256(data).digest()
    info = await store.properties(name)
    assert info is not None
    assert (info.size, info.content_type) == (len(data), "application/pdf")


async def test_an_empty_stream_commits_an_empty_blob(store: BlobStore) -> None:
    name = blob_name()
    assert await store.upload(name, pieces(b"")) == 0
    info = await store.properties(name)
    assert info is not None
    assert info.size == 0


async def test_a_stream_that_fails_commits_nothing(store: BlobStore) -> None:
    name = blob_name()

    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(3 * BLOCK)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.upload(name, broken())

    assert await store.properties(name) is None
    assert await store.read(name) is None


async def test_ranged_read(store: BlobStore) -> None:
    data = os.urandom(3 * BLOCK)
    name = blob_name()
    await store.upload(name, pieces(data))

    download = await store.read(name, 1000, 5000)

    assert download is not None
    assert (download.size, download.length) == (len(data), 5000)
    assert await read_all(store, name, 1000, 5000) == data[1000:6000]


async def test_delete_is_idempotent(store: BlobStore) -> None:
    name = blob_name()
    await store.upload_bytes(name, b"hello")
    assert await store.delete(name) is True
    assert await store.delete(name) is False
    assert await store.properties(name) is None


async def test_read_sas_reads_with_its_disposition_and_cannot_write(store: BlobStore) -> None:
    name = blob_name()
    await store.upload_bytes(name, b"the bytes", "text/plain")
    signed = await store.read_url(name, content_disposition='attachment; filename="a.txt"')

    async with httpx.AsyncClient() as http:
        read = await http.get(signed.url)
        write = await http.put(signed.url, content=b"other", headers={"x-ms-blob-type": "BlockBlob"})

    assert read.status_code == 200
    assert read.content == b"the bytes"
    assert read.headers["content-disposition"] == 'attachment; filename="a.txt"'
    assert write.status_code == 403
    assert await read_all(store, name) == b"the bytes"


async def test_write_sas_writes_and_cannot_read(store: BlobStore) -> None:
    name = blob_name()
    signed = await store.write_url(name)

    async with httpx.AsyncClient() as http:
        write = await http.put(signed.url, content=b"direct", headers={"x-ms-blob-type": "BlockBlob"})
        read = await http.get(signed.url)

    assert write.status_code == 201
    assert read.status_code == 403
    assert await read_all(store, name) == b"direct"


async def test_an_expired_sas_is_refused(store: BlobStore) -> None:
    name = blob_name()
    await store.upload_bytes(name, b"old")
    expired_read = await store.read_url(name, valid_for=timedelta(seconds=-60))
    expired_write = await store.write_url(blob_name(), valid_for=timedelta(seconds=-60))

    async with httpx.AsyncClient() as http:
        read = await http.get(expired_read.url)
        write = await http.put(expired_write.url, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})

    assert (read.status_code, write.status_code) == (403, 403)


async def test_sas_lifetime_is_capped(store: BlobStore) -> None:
    signed = await store.read_url(blob_name(), valid_for=timedelta(hours=5))
    from datetime import UTC, datetime

    assert signed.expires_at - datetime.now(UTC) <= timedelta(seconds=900)


async def test_no_account_key_in_sas_urls(store: BlobStore) -> None:
    signed = await store.write_url(blob_name())
    assert blob_settings().connection_string.get_secret_value().split("AccountKey=")[1].split(";")[0] not in signed.url


async def test_an_unreachable_storage_is_reported_not_ready() -> None:
    settings = blob_settings(
        connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
    )
    service = create_blob_service(settings)
    try:
        assert await BlobStore(service, settings).ping() is False
    finally:
        await service.close()


async def test_a_plain_read_url_is_signed_once_per_step_and_reads_the_blob(store: BlobStore) -> None:
    """Readers of one blob within a step share one URL; it reads the blob, and it leaves more than
    two thirds of the SAS lifetime (a cached page may hold it, see the page cache's margin)."""
    from datetime import UTC, datetime

    name = blob_name()
    await store.upload_bytes(name, b"thumbnail", "image/jpeg")
    first, second = await store.read_url(name), await store.read_url(name)
    other = await store.read_url(blob_name())

    async with httpx.AsyncClient() as http:
        read = await http.get(first.url)

    assert (read.status_code, read.content) == (200, b"thumbnail")
    assert second == first
    assert other.url != first.url
    lifetime = timedelta(seconds=blob_settings().sas_ttl_seconds)
    left = first.expires_at - datetime.now(UTC)
    assert lifetime * 2 / 3 - timedelta(seconds=2) < left <= lifetime
    # The URL is spelled as the SDK's own blob client spells it.
    assert first.url.split("?")[0] == store._container.get_blob_client(name).url
