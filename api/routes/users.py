"""The caller, and the users of the caller's organization."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentPrincipal, CursorCodecDep, UserServiceDep
from api.exceptions import error_responses
from api.pagination import Cursor, Limit
from api.schemas.users import UserCollection, UserCreate, UserRead
from domain.errors import AuthenticationError, InvalidCursorError
from domain.users import (
    AdminRequiredError,
    TokenExpiredError,
    TokenInvalidError,
    UserEmailTakenError,
    UserInactiveError,
    UserNotFoundError,
)

router = APIRouter(tags=["users"])

AUTH_ERRORS = (AuthenticationError, TokenInvalidError, TokenExpiredError)


@router.get("/me", response_model=UserRead, responses=error_responses(*AUTH_ERRORS, UserInactiveError))
async def read_me(principal: CurrentPrincipal, service: UserServiceDep) -> UserRead:
    """The signed-in user."""
    return UserRead.model_validate(await service.get_current(principal))


@router.get(
    "/users",
    response_model=UserCollection,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, InvalidCursorError),
)
async def list_users(
    principal: CurrentPrincipal,
    service: UserServiceDep,
    codec: CursorCodecDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserCollection:
    """The organization's users, oldest first (admins)."""
    page = await service.list(principal, limit=limit, after=codec.decode_time_id(cursor))
    return UserCollection(
        items=[UserRead.model_validate(user) for user in page.items],
        next_cursor=codec.encode_time_id(page.next_key),
    )


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, UserEmailTakenError),
)
async def create_user(body: UserCreate, principal: CurrentPrincipal, service: UserServiceDep) -> UserRead:
    """Add a broker or admin to the organization (admins)."""
    user = await service.create(
        principal, email=body.email, full_name=body.full_name, password=body.password, role=body.role
    )
    return UserRead.model_validate(user)


@router.get(
    "/users/{user_id}",
    response_model=UserRead,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, UserNotFoundError),
)
async def read_user(user_id: uuid.UUID, principal: CurrentPrincipal, service: UserServiceDep) -> UserRead:
    """One user of the organization (admins); another organization's id answers 404."""
    return UserRead.model_validate(await service.get(principal, user_id))
