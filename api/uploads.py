"""Upload bodies as streams: a raw body, or the `file` part of a multipart body read by
python-multipart's push parser as the bytes arrive (never Starlette's spooled `request.form()`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from domain.documents import DocumentFileMissingError, UploadIncompleteError, UploadMalformedError

FILE_FIELD = b"file"


async def request_body(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; a client that goes away ends it with UploadIncompleteError."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise UploadIncompleteError from None


def multipart_boundary(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    boundary = options.get(b"boundary")
    if not boundary:
        raise UploadMalformedError("A multipart body needs a boundary in its Content-Type.")
    return boundary


class MultipartFile:
    """The first `file` part of a multipart body: its filename once its headers have arrived, then
    its bytes as they arrive. Other parts are skipped without being kept."""

    def __init__(self, boundary: bytes, body: AsyncIterator[bytes]) -> None:
        self._body = body
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )
        self._field = bytearray()
        self._value = bytearray()
        self._disposition = b""
        self._in_file = False
        self._file_started = False
        self._file_ended = False
        self._filename = ""
        self._out: list[bytes] = []

    async def open(self) -> tuple[str, AsyncIterator[bytes]]:
        """Read until the file part begins: its filename, and an iterator over its bytes."""
        while not self._file_started:
            if not await self._feed():
                raise DocumentFileMissingError
        return self._filename, self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._out:
                data = b"".join(self._out)
                self._out.clear()
                yield data
            if self._file_ended:
                return
            if not await self._feed():
                raise UploadIncompleteError("The multipart body ended inside the file part.")

    async def _feed(self) -> bool:
        chunk = await anext(self._body, None)
        if chunk is None:
            return False
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise UploadMalformedError from exc
        return True

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") == FILE_FIELD and not self._file_started:
            self._in_file = self._file_started = True
            self._filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._out.append(data[start:end])

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_ended = True
