"""Application settings: one nested pydantic-settings object read from the environment and `.env`.

The variable names are a contract with ops (SPEC "Configuration contract"), so every group maps
its fields onto flat environment names with an `env_prefix` instead of nested delimiters.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveFloat,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEFAULT_SEED_ADMIN_PASSWORD = "admin-password-change-me"
# Azurite's published development account: never acceptable against a real account.
AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)
DEFAULT_VITEC_PASSWORD = "simulator-access-key"
DEFAULT_UPLOAD_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

# One attempt's time limit per job kind: a full sync of a large installation takes tens of
# minutes; housekeeping and single documents take seconds to a few minutes.
DEFAULT_TIME_LIMITS = {
    "vitec.sync": 3600.0,
    "reports.render": 300.0,
    "documents.finalize": 600.0,
    "blobs.mirror": 1800.0,
    "documents.purge": 600.0,
    "maintenance.cleanup": 600.0,
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def split_commas(value: object) -> object:
    """Read `a, b,c` as a list; leave anything else to pydantic."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A comma-separated environment variable read as a list (not as JSON).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_commas)]


class _Group(BaseSettings):
    # A refused value may be a secret: errors name the variable, never echo what it held.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, hide_input_in_errors=True)


class AppSettings(_Group):
    """Process-wide settings: environment, bind address, HTTP limits, CORS, logging."""

    environment: Environment = Environment.DEVELOPMENT
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_allow_origins: CommaList = Field(default_factory=list)
    max_json_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # How long an API process may serve a rendered estate list page; a sync that changed the
    # organization's read model drops its pages at once. 0 turns the cache off.
    page_cache_seconds: float = Field(default=30.0, ge=0)
    log_level: str = "INFO"
    log_json: bool = True


class DatabaseSettings(_Group):
    """PostgreSQL through asyncpg."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/estate_bff"
    pool_size: int = Field(default=10, gt=0)
    max_overflow: int = Field(default=10, ge=0)
    echo: bool = False


class RedisSettings(_Group):
    """Redis: broker, cache, locks and rate limits."""

    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: str = "redis://127.0.0.1:6379/0"


class AzureSettings(_Group):
    """Azure Blob Storage (Azurite locally)."""

    model_config = SettingsConfigDict(env_prefix="AZURE_STORAGE_")

    connection_string: SecretStr = SecretStr(AZURITE_CONNECTION_STRING)
    container: str = "documents"
    # Production without a key: the account's blob endpoint, reached with DefaultAzureCredential
    # (managed identity) and user-delegation SAS; when set, the connection string is not used.
    account_url: str = ""
    # Uploads are staged in blocks of this size, at most this many in flight: memory per upload
    # stays near block_size * (blocks_in_flight + 1) whatever the file size.
    block_size_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=100 * 1024 * 1024)
    blocks_in_flight: int = Field(default=4, ge=1, le=64)
    # Lifetime of the SAS URLs handed to browsers (SPEC: at most 15 minutes).
    sas_ttl_seconds: int = Field(default=900, ge=30, le=900)


class VitecSettings(_Group):
    """The Vitec Hub: where it is, how we authenticate, how often we sync."""

    model_config = SettingsConfigDict(env_prefix="VITEC_")

    base_url: str = "http://127.0.0.1:8100"
    username: str = "estate-bff"
    password: SecretStr = SecretStr(DEFAULT_VITEC_PASSWORD)
    sync_interval_seconds: int = Field(default=900, ge=0)
    full_sync_cron: str = "0 2 * * *"
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_cap_seconds: float = Field(default=30.0, gt=0)
    # What we allow ourselves per installation, across every process (Vitec publishes no limit).
    rate_limit: str = "20/second"
    # Requests in flight per installation, across every process.
    max_concurrency: int = Field(default=4, ge=1)
    max_connections: int = Field(default=10, ge=1)
    # After this many failed requests in a row the circuit opens, and stays open this long.
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_open_seconds: float = Field(default=30.0, gt=0)
    # Heavy, rarely changing reads (departments, employees) are cached in Redis this long.
    cache_ttl_seconds: int = Field(default=300, ge=0)
    # An estate image larger than this is refused (read-through route and mirror alike).
    image_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # The read-through image route gives up (504) after this long, retries included.
    image_deadline_seconds: float = Field(default=15.0, gt=0)
    # Whether a sync that leaves images unmirrored starts a blobs.mirror job (off: images are only
    # read through from Vitec, e.g. until Blob Storage is provisioned).
    mirror_images: bool = True
    # Images one mirror job fetches at once (the per-installation limits above still apply).
    mirror_concurrency: int = Field(default=8, ge=1, le=64)


class AuthSettings(_Group):
    """Tokens, password hashing and login throttling."""

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=1_209_600, gt=0)
    login_rate_limit: str = "10/minute"
    # Argon2id cost; the defaults are RFC 9106's second recommended profile (64 MiB, t=3).
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65_536, ge=8)
    password_hash_parallelism: int = Field(default=4, ge=1)
    # Hashes run at once per process (each holds a thread and the memory above); a sign-in that
    # finds none free within the wait answers 503, so a login flood cannot pile up.
    password_hash_concurrency: int = Field(default=4, ge=1)
    password_hash_wait_seconds: float = Field(default=0.5, ge=0)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        return value


class JobSettings(_Group):
    """Slow work: the stream, leases, retries, retention, and the per-user creation limit."""

    model_config = SettingsConfigDict(env_prefix="JOB_")

    # JOB_CREATE_RATE_LIMIT (the contract's name, hence the field name under the JOB_ prefix).
    create_rate_limit: str = "60/minute"
    stream: str = "estate-bff:jobs"
    consumer_group: str = "estate-bff:workers"
    stream_maxlen: int = Field(default=100_000, gt=0)
    # After this long unacknowledged, a delivery may be auto-claimed by another worker. Redelivery
    # is harmless (the claim skips it); the sweeper, not this, recovers the jobs of dead workers.
    stream_idle_timeout_seconds: float = Field(default=86_400.0, gt=0)
    # How often a running job proves it is alive, and when silence means its worker died.
    heartbeat_seconds: float = Field(default=2.0, gt=0)
    stale_after_seconds: float = Field(default=20.0, gt=0)
    # A queued job whose message was never sent (or was lost) is re-sent after these delays.
    dispatch_grace_seconds: float = Field(default=3.0, ge=0)
    redispatch_after_seconds: float = Field(default=120.0, gt=0)
    sweep_interval_seconds: float = Field(default=2.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_cap_seconds: float = Field(default=300.0, gt=0)
    progress_min_interval_seconds: float = Field(default=0.5, ge=0)
    retention_days: int = Field(default=30, ge=1)
    # How long one attempt of a job may run, however well it heartbeats: the kind's own limit
    # (configured, else built in), else the default. A job past it ends its attempt with `job_timeout` and is retried.
    time_limit_seconds: float = Field(default=900.0, gt=0)
    time_limits_seconds: dict[str, PositiveFloat] = Field(default_factory=lambda: dict(DEFAULT_TIME_LIMITS))
    cleanup_cron: str = "17 * * * *"
    worker_metrics_port: int = Field(default=9100, ge=0)
    # The worker's stream consumer name and `claimed_by`; empty means "<hostname>:<pid>".
    worker_name: str = ""

    def time_limit_for(self, kind: str) -> float:
        """The kind's configured limit; a kind the configuration leaves out keeps its built-in one."""
        return self.time_limits_seconds.get(kind) or DEFAULT_TIME_LIMITS.get(kind, self.time_limit_seconds)


class UploadSettings(_Group):
    """Document upload limits."""

    model_config = SettingsConfigDict(env_prefix="UPLOAD_")

    max_bytes: int = Field(default=1024**3, gt=0)
    allowed_types: CommaList = Field(default_factory=lambda: list(DEFAULT_UPLOAD_TYPES))


class SeedSettings(_Group):
    """What `make seed` creates: one organization and its first admin."""

    model_config = SettingsConfigDict(env_prefix="SEED_")

    organization_name: str = "Demo Eiendom AS"
    vitec_installation_id: str = "DEMOINSTALL"
    admin_email: str = "admin@demo.estate-bff.local"
    admin_password: SecretStr = SecretStr(DEFAULT_SEED_ADMIN_PASSWORD)


class Settings(BaseModel):
    """All settings, grouped; built once per process by `get_settings()`."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    app: AppSettings = Field(default_factory=AppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)
    vitec: VitecSettings = Field(default_factory=VitecSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    seed: SeedSettings = Field(default_factory=SeedSettings)

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.app.environment is not Environment.PRODUCTION:
            return self
        defaults = {
            "JWT_SECRET": (self.auth.jwt_secret, DEFAULT_JWT_SECRET),
            "SEED_ADMIN_PASSWORD": (self.seed.admin_password, DEFAULT_SEED_ADMIN_PASSWORD),
            "VITEC_PASSWORD": (self.vitec.password, DEFAULT_VITEC_PASSWORD),
        }
        offending = [name for name, (value, default) in defaults.items() if value.get_secret_value() == default]
        if not self.azure.account_url and AZURITE_ACCOUNT_KEY in self.azure.connection_string.get_secret_value():
            offending.append("AZURE_STORAGE_CONNECTION_STRING")
        if offending:
            raise ValueError(f"production refuses default secrets: {', '.join(offending)}")
        return self

    @property
    def is_production(self) -> bool:
        return self.app.environment is Environment.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
