"""Sign in, refresh, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from api.deps import AuthServiceDep
from api.exceptions import error_responses
from api.schemas.auth import LoginForm, RefreshRequest, TokenResponse
from domain.users import (
    InvalidCredentialsError,
    LoginRateLimitedError,
    PasswordCheckBusyError,
    RefreshTokenReusedError,
    TokenExpiredError,
    TokenInvalidError,
    TokenRevokedError,
    UserInactiveError,
)
from service.auth import TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])

_REFRESH_ERRORS = (TokenInvalidError, TokenExpiredError, TokenRevokedError, RefreshTokenReusedError)


def _token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=error_responses(
        InvalidCredentialsError, UserInactiveError, LoginRateLimitedError, PasswordCheckBusyError
    ),
)
async def create_token(form: Annotated[LoginForm, Form()], request: Request, service: AuthServiceDep) -> TokenResponse:
    """Sign in with email (`username`) and password; answers an access and a refresh token."""
    client_address = request.client.host if request.client else "unknown"
    return _token_response(await service.login(form.username, form.password, client_address))


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=error_responses(*_REFRESH_ERRORS, UserInactiveError),
)
async def refresh_token(body: RefreshRequest, service: AuthServiceDep) -> TokenResponse:
    """Spend a refresh token for a new pair. Presenting a spent one again revokes its whole session."""
    return _token_response(await service.refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*_REFRESH_ERRORS))
async def logout(body: RefreshRequest, service: AuthServiceDep) -> Response:
    """Sign out: revokes the refresh token and every token rotated from the same sign-in."""
    await service.logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
