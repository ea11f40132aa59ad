"""The one place errors become HTTP: RFC 9457 problem details for every failure.

Domain errors carry their own stable `code` and status; framework errors (validation, unknown
route, wrong method) are mapped to codes here; anything unexpected is logged with the request id
and answered with a generic 500 that leaks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.idempotency import IdempotencyKeyInvalidError
from api.request_context import current_request_id
from domain.errors import AppError, AuthenticationError, ServiceUnavailableError
from domain.jobs import IdempotencyKeyInUseError, IdempotencyKeyMismatchError, JobCreateRateLimitedError
from domain.users import TokenExpiredError, TokenInvalidError, TokenRevokedError, UserInactiveError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:estate-bff:problem:"


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with our stable `internal_code` and the request id."""

    type: str = Field(examples=[f"{PROBLEM_TYPE_PREFIX}not_found"])
    title: str
    status: int
    detail: str
    instance: str
    internal_code: str
    request_id: str
    errors: list[ValidationIssue] | None = Field(default=None, description="Only on 422.")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


def problem_response(
    request_path: str,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_PREFIX}{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request_path,
        "internal_code": code,
        "request_id": current_request_id(),
    }
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=headers)


async def _app_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request.url.path,
        status=exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers(),
    )


def _issue(error: dict[str, Any]) -> dict[str, Any]:
    # Never echo `input` or `ctx`: the rejected value may be a password.
    return {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        request.url.path,
        status=422,
        code="validation_error",
        title="The request is not valid",
        detail="One or more fields are missing or invalid; see `errors`.",
        errors=[_issue(error) for error in exc.errors()],
    )


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large", 400: "bad_request"}


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(
        request.url.path,
        status=exc.status_code,
        code=_HTTP_CODES.get(exc.status_code, "http_error"),
        title=title,
        detail=detail,
        headers=headers,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (routing names only the first route it tried)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


def internal_error_response(request_path: str) -> ProblemResponse:
    """The answer to anything unexpected: generic on purpose; the log has the details."""
    return problem_response(
        request_path,
        status=500,
        code="internal_error",
        title="Internal server error",
        detail="Something went wrong on our side. Quote the request id when reporting it.",
    )


def service_unavailable_response(request_path: str) -> ProblemResponse:
    """The answer while a backing service is out: 503 with `Retry-After`, not a 500."""
    error = ServiceUnavailableError()
    return problem_response(
        request_path, status=error.status_code, code=error.code, title=error.title,
        detail="PostgreSQL or Redis is not answering right now.", headers=error.headers(),
    )  # fmt: skip


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Anything else is caught by RequestContextMiddleware (inside the security-header layer).


def _example(code: str, title: str, status: int) -> dict[str, Any]:
    return {
        "summary": code,
        "value": {
            "type": f"{PROBLEM_TYPE_PREFIX}{code}",
            "title": title,
            "status": status,
            "detail": title,
            "instance": "/api/v1/...",
            "internal_code": code,
            "request_id": "3f1c2e0a9b7d4c1e8f6a5b4c3d2e1f00",
        },
    }


# Framework-level failures that any route can answer.
VALIDATION_ERROR = ("validation_error", "The request is not valid", 422)
UNAVAILABLE = (ServiceUnavailableError.code, ServiceUnavailableError.title, ServiceUnavailableError.status_code)

# Errors shared by the routes of many routers, for `error_responses(*AUTH_ERRORS, ...)`.
# Every authenticated route: no, a bad, an expired or a revoked token, or an inactive user.
AUTH_ERRORS = (AuthenticationError, TokenInvalidError, TokenExpiredError, TokenRevokedError, UserInactiveError)
# Every route that starts a job, besides: the Idempotency-Key checks and the job creation rate.
JOB_CREATE_ERRORS = (
    *AUTH_ERRORS,
    IdempotencyKeyInvalidError,
    IdempotencyKeyMismatchError,
    IdempotencyKeyInUseError,
    JobCreateRateLimitedError,
)


def error_responses(*errors: type[AppError], validation: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the problem schema and every code it can carry."""
    by_status: dict[int, list[tuple[str, str]]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, []).append((error.code, error.title))
    if validation:
        by_status.setdefault(VALIDATION_ERROR[2], []).append((VALIDATION_ERROR[0], VALIDATION_ERROR[1]))
    by_status.setdefault(UNAVAILABLE[2], []).append((UNAVAILABLE[0], UNAVAILABLE[1]))
    return {status: _documented(status, pairs) for status, pairs in sorted(by_status.items())}


def _documented(status: int, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    unique = dict(pairs)
    return {
        "model": Problem,
        "description": f"{HTTPStatus(status).phrase}. `internal_code`: " + ", ".join(f"`{code}`" for code in unique),
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {code: _example(code, title, status) for code, title in unique.items()},
            }
        },
    }


# What the input guard (api.input_guard) answers any route that takes a body.
_BODY_REFUSALS = (
    ("request_too_large", "Request body too large", 413),
    ("unsupported_media_type", "Unsupported media type", 415),
)


def _document_body_refusals(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for code, title, status in _BODY_REFUSALS:
        documented = _documented(status, [(code, title)])
        del documented["model"]  # a route-level FastAPI option, not OpenAPI
        responses.setdefault(str(status), documented)


def problem_only_openapi(app: FastAPI) -> None:
    """Error responses are documented as `application/problem+json` only.

    Declaring `model=Problem` registers the schema, but FastAPI also lists it under
    `application/json`, which is not what the API sends; drop that twin once, when the schema
    is first generated.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
                if "requestBody" in operation:
                    _document_body_refusals(operation)
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.isdigit() and int(status) >= 400 and PROBLEM_CONTENT_TYPE in content:
                        content.pop("application/json", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
