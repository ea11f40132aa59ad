"""Production without a key: the account URL, DefaultAzureCredential, and no Azurite key anywhere."""

from __future__ import annotations

import pytest

from core.blob_client import create_blob_service
from core.settings import AzureSettings, Settings

STRONG = "s" * 40


def test_production_with_an_account_url_needs_no_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    monkeypatch.setenv("SEED_ADMIN_PASSWORD", "a-real-password")
    monkeypatch.setenv("VITEC_PASSWORD", "a-real-key")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_URL", "https://estatebff.blob.core.windows.net")

    assert Settings().azure.account_url == "https://estatebff.blob.core.windows.net"


async def test_an_account_url_means_default_azure_credential() -> None:
    service = create_blob_service(AzureSettings(account_url="https://estatebff.blob.core.windows.net"))
    try:
        assert type(service.credential).__name__ == "DefaultAzureCredential"
        assert service.client.url == "https://estatebff.blob.core.windows.net/"
        assert service.client.credential is service.credential
    finally:
        await service.close()


async def test_a_connection_string_means_no_credential_object() -> None:
    service = create_blob_service(AzureSettings())
    try:
        assert service.credential is None
        assert service.client.account_name == "devstoreaccount1"
    finally:
        await service.close()
