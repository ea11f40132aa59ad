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
