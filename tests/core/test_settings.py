"""The configuration contract: names from SPEC, comma lists, and the production guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import AZURITE_CONNECTION_STRING, Settings

STRONG = "s" * 40


def test_defaults_match_the_configuration_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "API_PORT", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()

    assert settings.app.environment == "development"
    assert (settings.app.api_host, settings.app.api_port) == ("127.0.0.1", 8000)
    assert settings.database.url.endswith("/estate_bff")
    assert settings.redis.url == "redis://127.0.0.1:6379/0"
    assert settings.azure.container == "documents"
    assert (settings.auth.access_token_ttl_seconds, settings.auth.refresh_token_ttl_seconds) == (900, 1_209_600)
    assert (settings.auth.login_rate_limit, settings.jobs.create_rate_limit) == ("10/minute", "60/minute")
    assert (settings.vitec.sync_interval_seconds, settings.vitec.full_sync_cron) == (900, "0 2 * * *")
    assert settings.upload.max_bytes == 1024**3
    assert settings.app.max_json_body_bytes == 1024**2
    assert "application/pdf" in settings.upload.allowed_types
    assert settings.app.cors_allow_origins == []


def test_environment_variables_use_the_contract_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db:5432/x")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "https://a.example.com, https://b.example.com")
    monkeypatch.setenv("UPLOAD_ALLOWED_TYPES", "application/pdf,image/png")
    monkeypatch.setenv("VITEC_SYNC_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("SEED_VITEC_INSTALLATION_ID", "OTHER")
    monkeypatch.setenv("JOB_CREATE_RATE_LIMIT", "5/second")

    settings = Settings()

    assert settings.database.url == "postgresql+asyncpg://u@db:5432/x"
    assert settings.app.cors_allow_origins == ["https://a.example.com", "https://b.example.com"]
    assert settings.upload.allowed_types == ["application/pdf", "image/png"]
    assert settings.vitec.sync_interval_seconds == 0
    assert settings.seed.vitec_installation_id == "OTHER"
    assert settings.jobs.create_rate_limit == "5/second"


def test_production_refuses_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")

    with pytest.raises(ValidationError) as refused:
        Settings()

    message = str(refused.value)
    for name in ("JWT_SECRET", "SEED_ADMIN_PASSWORD", "VITEC_PASSWORD", "AZURE_STORAGE_CONNECTION_STRING"):
        assert name in message


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    monkeypatch.setenv("SEED_ADMIN_PASSWORD", "a-real-password")
    monkeypatch.setenv("VITEC_PASSWORD", "a-real-key")
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING", AZURITE_CONNECTION_STRING.replace("Eby8", "Real").replace("GMGw==", "xx==")
    )

    assert Settings().is_production


def test_short_jwt_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")

    with pytest.raises(ValidationError):
        Settings()


def test_secrets_never_appear_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", STRONG)

    assert STRONG not in repr(Settings())
    assert STRONG not in str(Settings().model_dump())


def test_env_example_lists_every_setting() -> None:
    """`.env.example` is the operators' reference: every variable the settings read, no stale ones."""
    import re
    from pathlib import Path

    names = set()
    for info in Settings.model_fields.values():
        group = info.default_factory
        assert group is not None
        prefix = group.model_config.get("env_prefix", "")  # type: ignore[attr-defined]
        names |= {(prefix + field).upper() for field in group.model_fields}  # type: ignore[attr-defined]
    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))

    assert names <= listed
    read_by_uvicorn = {"FORWARDED_ALLOW_IPS"}
    assert {name for name in listed - names - read_by_uvicorn if not name.startswith("RUN_")} == set()


@pytest.mark.parametrize(
    ("name", "value"),
    [("JWT_SECRET", "short-but-secret"), ("VITEC_MAX_ATTEMPTS", "hunter2-not-a-number"), ("ENVIRONMENT", "s3cr3t-env")],
)
def test_a_settings_error_names_the_variable_never_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Settings()

    message = str(refused.value)
    assert value not in message
    assert name.lower().split("_", 1)[-1] in message.lower()
