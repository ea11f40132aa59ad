"""What an upload stream goes through on its way to Blob Storage: the head is sniffed before a byte
is stored, every byte is hashed and counted, and the limit holds the moment it is crossed."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from domain.documents import (
    SNIFF_BYTES,
    DocumentEmptyError,
    DocumentTooLargeError,
    DocumentTypeNotAllowedError,
    sniff_content_type,
)


class InspectedStream:
    """An upload body with its sniffed type; iterate `chunks()` once to hash, count and limit it."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes], content_type: str, max_bytes: int) -> None:
        self.content_type = content_type
        self.size = 0
        self._hash = hashlib.sha256()
        self._head = head
        self._rest = rest
        self._max_bytes = max_bytes

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._counted(self._head)
        self._head = b""
        async for chunk in self._rest:
            if chunk:
                yield self._counted(chunk)

    def _counted(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise DocumentTooLargeError(f"Uploads are limited to {self._max_bytes} bytes.")
        self._hash.update(chunk)
        return chunk


async def inspect_stream(body: AsyncIterator[bytes], allowed: list[str], max_bytes: int) -> InspectedStream:
    """Read just enough of `body` to know its type; refuse an empty body or a type not allowed."""
    head = bytearray()
    async for chunk in body:
        head += chunk
        if len(head) > max_bytes:
            raise DocumentTooLargeError(f"Uploads are limited to {max_bytes} bytes.")
        if len(head) >= SNIFF_BYTES:
            break
    if not head:
        raise DocumentEmptyError
    content_type = sniff_content_type(bytes(head[:SNIFF_BYTES]))
    if content_type is None or content_type not in allowed:
        raise DocumentTypeNotAllowedError(
            f"The bytes are {content_type or 'of an unknown type'}; accepted: {', '.join(allowed)}."
        )
    return InspectedStream(bytes(head), body, content_type, max_bytes)
