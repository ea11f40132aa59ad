"""Dependencies: the process resources, the per-request unit of work, the caller, the services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.pagination import CursorCodec
from core.resources import Resources
from domain.errors import AuthenticationError
from domain.users import Principal
from service.access import AccessGuard
from service.auth import AuthService
from service.job_events import JobFeeds
from service.job_polling import JobPoller
from service.jobs import JobService
from service.unit_of_work import transaction
from service.users import UserService


async def authenticate(request: Request) -> Principal:
    """The caller, from the bearer access token in the Authorization header.

    The one check every authenticated request passes, the routes' dependency and the explicit poll
    route (`api.routes.jobs.poll_route`) alike: the token's signature and expiry, then whether its session and user
    still grant what it claims (not signed out, not deactivated, the same role).
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("Send a bearer access token in the Authorization header.")
    guard: AccessGuard = request.app.state.access_guard
    return await guard.principal(token)


class BearerPrincipal(OAuth2PasswordBearer):
    """`authenticate` as a dependency, and an OAuth2 scheme in OpenAPI, so /docs can sign in."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return await authenticate(request)


CurrentPrincipal = Annotated[Principal, Depends(BearerPrincipal(tokenUrl="/api/v1/auth/token"))]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Admin-only routes declare this as a route dependency (`ADMIN_ONLY`): it runs before the
    body is validated, so a broker learns nothing of a body it may not send."""
    principal.require_admin()
    return principal


ADMIN_ONLY = [Depends(require_admin)]


class AuthorizedFirstRoute(APIRoute):
    """Runs an admin-only route's check before FastAPI reads the body: the framework parses JSON
    before it resolves any dependency, so a broker's malformed body would otherwise answer 422.
    The dependency still runs (it documents the route and hands over the principal)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not any(dependency.dependency is require_admin for dependency in self.dependencies):
            return handler

        async def authorized_first(request: Request) -> Response:
            (await authenticate(request)).require_admin()
            return await handler(request)

        return authorized_first


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


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]


async def get_auth_service(session: SessionDep, resources: ResourcesDep) -> AuthService:
    return AuthService(
        session,
        resources.session_factory,
        resources.settings.auth,
        resources.password_hasher,
        resources.token_codec,
        resources.rate_limiter,
    )


async def get_user_service(session: SessionDep, resources: ResourcesDep) -> UserService:
    return UserService(session, resources.password_hasher)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]


async def get_job_service(session: SessionDep, resources: ResourcesDep) -> JobService:
    return JobService(session, resources)


async def get_job_poller(request: Request) -> JobPoller:
    """The process's poller, built at start-up: a poll is the most frequent request there is."""
    poller: JobPoller = request.app.state.job_poller
    return poller


JobServiceDep = Annotated[JobService, Depends(get_job_service)]
JobPollerDep = Annotated[JobPoller, Depends(get_job_poller)]


async def get_job_feeds(request: Request) -> JobFeeds:
    feeds: JobFeeds = request.app.state.job_feeds
    return feeds


JobFeedsDep = Annotated[JobFeeds, Depends(get_job_feeds)]
