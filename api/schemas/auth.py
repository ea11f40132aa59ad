from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import RequestBody, ResponseBody


class TokenResponse(ResponseBody):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(RequestBody):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LoginForm(RequestBody):
    """The OAuth2 password form, with a bound on every field (an email is at most 320 characters)."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str = Field(max_length=320, description="The user's email address.")
    password: str = Field(max_length=1024)
    scope: str = Field(default="", max_length=1024)
    client_id: str | None = Field(default=None, max_length=255)
    client_secret: str | None = Field(default=None, max_length=255)
