from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import EmailStr, Field

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


class UserCollection(Collection[UserRead]):
    pass
