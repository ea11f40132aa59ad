from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class RequestBody(BaseModel):
    """Base of every JSON request body: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Collection(ResponseBody, Generic[T]):
    """A keyset page: pass `next_cursor` back as `cursor` for the next one; null at the end."""

    items: list[T]
    next_cursor: str | None
