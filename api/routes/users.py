"""The caller, and the users of the caller's organization."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import ADMIN_ONLY, AuthorizedFirstRoute, CurrentPrincipal, CursorCodecDep, UserServiceDep
from api.exceptions import AUTH_ERRORS, error_responses
from api.pagination import Cursor, Limit
from api.schemas.users import UserCollection, UserCreate, UserRead, UserUpdate
from domain.errors import InvalidCursorError
from domain.users import (
    AdminRequiredError,
    LastAdminError,
    PasswordCheckBusyError,
    UserEmailTakenError,
    UserNotFoundError,
)
from service.users import UserChanges

router = APIRouter(tags=["users"], route_class=AuthorizedFirstRoute)


@router.get("/me", response_model=UserRead, responses=error_responses(*AUTH_ERRORS))
async def read_me(principal: CurrentPrincipal, service: UserServiceDep) -> UserRead:
    """The signed-in user."""
    return UserRead.model_validate(await service.get_current(principal))


@router.get(
    "/users",
    response_model=UserCollection,
    dependencies=ADMIN_ONLY,
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
    dependencies=ADMIN_ONLY,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, UserEmailTakenError, PasswordCheckBusyError),
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
    dependencies=ADMIN_ONLY,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, UserNotFoundError),
)
async def read_user(user_id: uuid.UUID, principal: CurrentPrincipal, service: UserServiceDep) -> UserRead:
    """One user of the organization (admins); another organization's id answers 404."""
    return UserRead.model_validate(await service.get(principal, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    dependencies=ADMIN_ONLY,
    responses=error_responses(*AUTH_ERRORS, AdminRequiredError, UserNotFoundError, LastAdminError),
)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, principal: CurrentPrincipal, service: UserServiceDep
) -> UserRead:
    """Change a user's name, role or active state (admins). A demotion or deactivation ends the
    user's access tokens at once; the organization's last active admin can be neither (`409`)."""
    changes = UserChanges(full_name=body.full_name, role=body.role, is_active=body.is_active)
    return UserRead.model_validate(await service.update(principal, user_id, changes))
