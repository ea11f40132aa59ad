"""Users, roles and the authenticated principal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import (
    AppError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)


class UserRole(StrEnum):
    ADMIN = "admin"
    BROKER = "broker"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: read from a verified access token, without a database round trip."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: UserRole

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN

    def require_admin(self) -> None:
        if not self.is_admin:
            raise AdminRequiredError


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively; store and look them up in one form."""
    return email.strip().lower()


class UserNotFoundError(NotFoundError):
    code = "user_not_found"
    title = "User not found"


class UserEmailTakenError(ConflictError):
    code = "user_email_taken"
    title = "A user with this email already exists"


class AdminRequiredError(PermissionDeniedError):
    code = "admin_required"
    title = "This action needs the admin role"


class InvalidCredentialsError(AuthenticationError):
    code = "invalid_credentials"
    title = "Incorrect email or password"


class UserInactiveError(AuthenticationError):
    code = "user_inactive"
    title = "This user account is deactivated"


class TokenInvalidError(AuthenticationError):
    code = "token_invalid"
    title = "The token is not valid"


class TokenExpiredError(AuthenticationError):
    code = "token_expired"
    title = "The token has expired"


class TokenRevokedError(AuthenticationError):
    code = "token_revoked"
    title = "The token has been revoked"


class RefreshTokenReusedError(AuthenticationError):
    """A spent refresh token came back: its family is revoked, and that must be committed."""

    code = "refresh_token_reused"
    title = "This refresh token was already used; its session has been revoked"
    persist_changes = True


class LoginRateLimitedError(RateLimitedError):
    code = "login_rate_limited"
    title = "Too many login attempts; try again later"


class LastAdminError(ConflictError):
    code = "last_admin"
    title = "The organization's last active admin cannot be demoted or deactivated"


class PasswordCheckBusyError(AppError):
    """Every password hashing slot of this process stayed taken: refuse rather than queue without
    bound, so a flood of sign-ins costs neither memory nor database connections."""

    code = "service_unavailable"
    status_code = 503
    title = "The service is busy; try again shortly"

    def __init__(self, retry_after_seconds: int = 1, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}
