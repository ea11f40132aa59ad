"""The process's one Blob Storage client, built like the engine and the Redis client.

Only the client is built here (the resources own its lifetime); every operation on it lives in
`repository/blob_store.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from core.settings import AzureSettings

if TYPE_CHECKING:
    from azure.identity.aio import DefaultAzureCredential


@dataclass(frozen=True, slots=True)
class BlobService:
    """The async client, and the credential it was built with (closed with it)."""

    client: BlobServiceClient
    credential: DefaultAzureCredential | None

    async def close(self) -> None:
        await self.client.close()
        if self.credential is not None:
            await self.credential.close()


def _retry_policy() -> LinearRetry:
    # The SDK's default waits 15 s, then 24 s, then 42 s: an upload request would hang for over a
    # minute while Blob Storage is down. Three retries about a second apart ride out a blip, then
    # the caller answers 503.
    return LinearRetry(backoff=1, retry_total=3, random_jitter_range=1)


def create_blob_service(settings: AzureSettings) -> BlobService:
    """A connection string (Azurite, key-based accounts) or, when `account_url` is set, the
    account's endpoint with DefaultAzureCredential (managed identity, no key anywhere)."""
    if settings.account_url:
        # Imported here: azure.identity (with msal and cryptography) costs every process a second of
        # start-up CPU, and only production without a connection string needs it.
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        client = BlobServiceClient(settings.account_url, credential=credential, retry_policy=_retry_policy())
        return BlobService(client, credential)
    secret = settings.connection_string.get_secret_value()
    return BlobService(BlobServiceClient.from_connection_string(secret, retry_policy=_retry_policy()), None)
