"""`Idempotency-Key`: one reusable dependency for every job-creating POST."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import Depends, Header, Request

from domain.errors import AppError
from service.jobs import IdempotencyRequest

# Documented in OpenAPI as this pattern, so a generated client (or a fuzzer) knows a valid key.
KEY_PATTERN = "^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN)


class IdempotencyKeyInvalidError(AppError):
    code = "idempotency_key_invalid"
    status_code = 400
    title = "Idempotency-Key must be 1-255 visible ASCII characters"


async def idempotency_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="1-255 visible ASCII characters. Repeat the same key (within 24 h) to get the first "
            "request's job, never a second one; the same key with another body answers 422.",
            json_schema_extra={"pattern": KEY_PATTERN, "minLength": 1, "maxLength": 255},
        ),
    ] = None,
) -> IdempotencyRequest | None:
    if idempotency_key is None:
        return None
    if not _KEY.fullmatch(idempotency_key):
        raise IdempotencyKeyInvalidError
    fingerprint = hashlib.sha256()
    fingerprint.update(f"{request.method} {request.url.path}\n".encode())
    fingerprint.update(await request.body())
    return IdempotencyRequest(key=idempotency_key, request_hash=fingerprint.hexdigest())


IdempotencyDep = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]
