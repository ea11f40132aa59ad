from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import EmailStr, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from api.schemas.common import Collection, RequestBody, ResponseBody
from domain.users import UserRole


class UserRead(ResponseBody):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(RequestBody):
    email: EmailStr = Field(max_length=320)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=256)
    role: UserRole


class UserUpdate(RequestBody):
    """Any of the fields; the ones left out stay as they are."""

    # None only as "left out": the schema offers no null, and the validator refuses one.
    full_name: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200)
    role: UserRole | SkipJsonSchema[None] = None
    is_active: bool | SkipJsonSchema[None] = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave the field out to keep it; null is not a value")
        return value


class UserCollection(Collection[UserRead]):
    pass
