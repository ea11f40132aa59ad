"""Documents: kinds, statuses, the rules for names and types, and their errors.

A document's bytes live in Blob Storage under a name we make up (`blob_name`); the filename a
user sent is display text only, cleaned here, and never part of a blob path.
"""

from __future__ import annotations

import unicodedata
import uuid
from enum import StrEnum
from urllib.parse import quote

import filetype

from domain.errors import AppError, ConflictError, NotFoundError, PermissionDeniedError


class DocumentKind(StrEnum):
    UPLOAD = "upload"
    REPORT = "report"
    VITEC = "vitec"


class DocumentStatus(StrEnum):
    PENDING_UPLOAD = "pending_upload"
    PROCESSING = "processing"
    AVAILABLE = "available"
    FAILED = "failed"


# Enough for every signature we accept: OOXML names its main part within the first few entries.
SNIFF_BYTES = 8192
MAX_FILENAME_CHARS = 255
_TEXT = "text/plain"


def blob_name_for(organization_id: uuid.UUID, estate_id: uuid.UUID, document_id: uuid.UUID) -> str:
    return f"documents/{organization_id}/{estate_id}/{document_id}"


def clean_filename(raw: str) -> str:
    """A display name safe to store and to put in a header: the last path segment, no control or
    format characters, NFC, at most 255 characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name or "document"


def sniff_content_type(head: bytes) -> str | None:
    """The media type the first bytes show (never the name or a header); None when unknown.

    DOCX and XLSX are both ZIP archives: the library tells them apart by their first entries.
    Text has no signature: UTF-8 without NUL or other binary control bytes counts as text.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return _TEXT if _looks_like_text(head) else None


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character; anything else is not UTF-8.
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII `filename` fallback and the exact name as UTF-8 in `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    disposition = "inline" if inline else "attachment"
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class DocumentNotFoundError(NotFoundError):
    code = "document_not_found"
    title = "Document not found"


class DocumentTooLargeError(AppError):
    code = "document_too_large"
    status_code = 413
    title = "The document is larger than the upload limit"


class DocumentTypeNotAllowedError(AppError):
    code = "document_type_not_allowed"
    status_code = 415
    title = "This type of file is not accepted"


class DocumentEmptyError(AppError):
    code = "document_empty"
    status_code = 422
    title = "The document is empty"


class DocumentFileMissingError(AppError):
    code = "document_file_missing"
    status_code = 422
    title = "The multipart body has no `file` part"


class DocumentFilenameMissingError(AppError):
    code = "document_filename_missing"
    status_code = 422
    title = "Name the file: `?filename=` for a raw body"


class UploadIncompleteError(AppError):
    code = "upload_incomplete"
    status_code = 400
    title = "The upload ended before the whole body arrived"


class DocumentDeleteForbiddenError(PermissionDeniedError):
    code = "document_delete_forbidden"
    title = "Only the uploader or an admin may delete this document"


class DocumentNotPendingError(ConflictError):
    code = "document_not_pending"
    title = "The document is not waiting for an upload"


class DocumentUploadMissingError(ConflictError):
    code = "document_upload_missing"
    title = "Nothing has been uploaded to the upload URL yet"


class DocumentUploadRejectedError(AppError):
    """The directly uploaded bytes are wrong: the document is failed and its bytes deleted."""

    code = "document_upload_rejected"
    status_code = 422
    title = "The uploaded file does not match what was announced"
    # The document is marked failed although the request answers 422.
    persist_changes = True


class UploadMalformedError(AppError):
    code = "upload_malformed"
    status_code = 400
    title = "The multipart body cannot be read"


class RangeNotSatisfiableError(AppError):
    code = "range_not_satisfiable"
    status_code = 416
    title = "The requested range is outside the document"

    def __init__(self, size: int) -> None:
        super().__init__(f"The document has {size} bytes.")
        self.size = size

    def headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}"}


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range (first, last, inclusive) an HTTP `Range` header asks for; None for the whole
    document (no header, another unit, or several ranges, which RFC 9110 lets us ignore)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first_text, dash, last_text = header[len("bytes=") :].strip().partition("-")
    if not dash or not (first_text.isdigit() or last_text.isdigit()):
        return None
    if not first_text:  # a suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text.isdigit() else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiableError(size)
    return first, last
