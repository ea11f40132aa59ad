from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

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


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_only(value: object) -> object:
    # Pydantic alone would also take a number (seconds since 1970) or a bare date: not what
    # OpenAPI's `date-time` promises a client, nor what it should have to guess.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("expected an RFC 3339 date-time with its offset, e.g. 2026-01-31T12:00:00Z")


DateTimeInput = Annotated[datetime, BeforeValidator(_rfc3339_only)]
