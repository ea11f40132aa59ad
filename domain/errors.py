"""Domain errors: a stable machine `code` and the HTTP status class it belongs to.

Services raise these; `api/exceptions.py` renders them as RFC 9457 problem details. The status is
a plain number here, so the domain stays free of any web framework.
"""

from __future__ import annotations

from typing import ClassVar


class AppError(Exception):
    """Base of every expected error: `code` is what the frontend switches on."""

    code: ClassVar[str] = "app_error"
    status_code: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    # Commit the unit of work's writes although the operation fails (see core.database).
    persist_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    def headers(self) -> dict[str, str]:
        """Extra response headers this error asks for."""
        return {}


class NotFoundError(AppError):
    code = "not_found"
    status_code = 404
    title = "Not found"


class ConflictError(AppError):
    code = "conflict"
    status_code = 409
    title = "Conflict"


class PermissionDeniedError(AppError):
    code = "permission_denied"
    status_code = 403
    title = "You are not allowed to do this"


class AuthenticationError(AppError):
    code = "not_authenticated"
    status_code = 401
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class RateLimitedError(AppError):
    code = "rate_limited"
    status_code = 429
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class InvalidCursorError(AppError):
    code = "invalid_cursor"
    status_code = 400
    title = "The pagination cursor is not valid"


class ServiceUnavailableError(AppError):
    """A backing service (PostgreSQL, Redis) is out: an expected condition, worth a retry soon."""

    code = "service_unavailable"
    status_code = 503
    title = "A service we depend on is not answering; try again shortly"
    retry_after_seconds: ClassVar[int] = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}
