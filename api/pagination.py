"""Opaque, signed keyset cursors: clients cannot forge a position, and a tampered cursor is a 400."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query

from domain.errors import InvalidCursorError

_MAC_BYTES = 16


class CursorCodec:
    """Encodes a list of JSON scalars (the last row's sort key) as url-safe text with an HMAC."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"estate-bff:cursor:" + secret.encode()).digest()

    def encode(self, values: list[str | int]) -> str:
        payload = json.dumps(values, separators=(",", ":")).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, cursor: str) -> list[str | int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursorError from exc
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise InvalidCursorError
        values = json.loads(payload)
        if not isinstance(values, list):
            raise InvalidCursorError
        return values

    def encode_time_id(self, key: tuple[datetime, uuid.UUID] | None) -> str | None:
        """The cursor after a row ordered by (timestamp, id), or None at the end."""
        return None if key is None else self.encode([key[0].isoformat(), str(key[1])])

    def decode_time_id(self, cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
        if cursor is None:
            return None
        values = self.decode(cursor)
        try:
            moment, id_ = values
            return datetime.fromisoformat(str(moment)), uuid.UUID(str(id_))
        except (ValueError, TypeError) as exc:
            raise InvalidCursorError from exc


Limit = Annotated[int, Query(ge=1, le=100, description="Page size (at most 100).")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=512,
        # Documented, not enforced here: any value that is not ours is the codec's 400.
        json_schema_extra={"pattern": "^[A-Za-z0-9_-]+$"},
        description="Opaque, signed: only the `next_cursor` of the previous page. Any other value, even one "
        "of this form, answers 400 `invalid_cursor`.",
    ),
]
