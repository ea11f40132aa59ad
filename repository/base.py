"""A typed repository base: one session, one model, and the queries every table needs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import AppError
from repository.models.base import BaseTableModel

ModelT = TypeVar("ModelT", bound=BaseTableModel)

UNIQUE_VIOLATION = "23505"


def violated_constraint(error: IntegrityError) -> tuple[str | None, str | None]:
    """The SQLSTATE and constraint name behind an IntegrityError raised through asyncpg."""
    driver_error = getattr(error.orig, "__cause__", None)
    return getattr(error.orig, "sqlstate", None), getattr(driver_error, "constraint_name", None)


class Repository(Generic[ModelT]):
    """Data access for one model. Flushes, never commits: the unit of work owns the transaction."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[ModelT]:
        return select(self.model)

    async def get(self, id_: uuid.UUID) -> ModelT | None:
        return await self.session.get(self.model, id_)

    async def one_or_none(self, statement: Select[ModelT]) -> ModelT | None:
        result = await self.session.execute(statement)
        return result.scalars().one_or_none()

    async def all(self, statement: Select[ModelT]) -> Sequence[ModelT]:
        result = await self.session.execute(statement)
        return result.scalars().all()

    async def add(self, instance: ModelT, unique_errors: Mapping[str, type[AppError]] | None = None) -> ModelT:
        """Insert and flush in a savepoint; a unique violation named in `unique_errors` becomes
        that domain error and leaves the session usable."""
        try:
            async with self.session.begin_nested():
                self.session.add(instance)
        except IntegrityError as exc:
            sqlstate, constraint = violated_constraint(exc)
            domain_error = (unique_errors or {}).get(constraint or "")
            if sqlstate == UNIQUE_VIOLATION and domain_error is not None:
                raise domain_error from exc
            raise
        return instance

    async def update(self, instance: ModelT, **values: Any) -> ModelT:
        for name, value in values.items():
            setattr(instance, name, value)
        await self.session.flush()
        return instance
