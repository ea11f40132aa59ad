"""Dependencies: the process resources, the per-request unit of work, the caller, the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.pagination import CursorCodec
from core.resources import Resources
from domain.errors import AuthenticationError
from domain.users import Principal
from service.auth import AuthService, principal_from_access_token
from service.dispatch import transaction
from service.job_events import JobFeeds
from service.job_polling import JobPoller
from service.jobs import JobService
from service.users import UserService


def principal_from_authorization(resources: Resources, authorization: str) -> Principal:
    """The caller, from the value of an `Authorization: Bearer <access token>` header."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("Send a bearer access token in the Authorization header.")
    return principal_from_access_token(resources.token_codec, token)


async def authenticate(request: Request) -> Principal:
    """The caller, from the bearer access token in the Authorization header."""
    return principal_from_authorization(request.app.state.resources, request.headers.get("authorization", ""))


class BearerPrincipal(OAuth2PasswordBearer):
    """`authenticate` as a dependency, and an OAuth2 scheme in OpenAPI, so /docs can sign in."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return await authenticate(request)


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once after the route returns, before the response
    is sent (function scope), rolled back when it raises; jobs it created are sent after commit."""
    async with transaction(resources) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


CurrentPrincipal = Annotated[Principal, Depends(BearerPrincipal(tokenUrl="/api/v1/auth/token"))]


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]


async def get_auth_service(session: SessionDep, resources: ResourcesDep) -> AuthService:
    return AuthService(
        session, resources.settings.auth, resources.password_hasher, resources.token_codec, resources.rate_limiter
    )


async def get_user_service(session: SessionDep, resources: ResourcesDep) -> UserService:
    return UserService(session, resources.password_hasher)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_job_service(session: SessionDep, resources: ResourcesDep) -> JobService:
    return JobService(session, resources)


async def get_job_poller(request: Request) -> JobPoller:
    return JobPoller(request.app.state.resources, request.app.state.job_cache)


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
JobPollerDep = Annotated[JobPoller, Depends(get_job_poller)]


async def get_job_feeds(request: Request) -> JobFeeds:
    feeds: JobFeeds = request.app.state.job_feeds
    return feeds


JobFeedsDep = Annotated[JobFeeds, Depends(get_job_feeds)]
