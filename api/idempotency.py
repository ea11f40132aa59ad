"""`Idempotency-Key`: one reusable dependency for every job-creating POST."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import Depends, Header, Request

from domain.errors import AppError
from service.jobs import IdempotencyRequest

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKeyInvalidError(AppError):
    code = "idempotency_key_invalid"
    status_code = 400
    title = "Idempotency-Key must be 1-255 visible ASCII characters"


async def idempotency_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeat the same key (within 24 h) to get the first request's job, never a second one."),
    ] = None,
) -> IdempotencyRequest | None:
    if idempotency_key is None:
        return None
    if not _KEY.match(idempotency_key):
        raise IdempotencyKeyInvalidError
    fingerprint = hashlib.sha256()
    fingerprint.update(f"{request.method} {request.url.path}\n".encode())
    fingerprint.update(await request.body())
    return IdempotencyRequest(key=idempotency_key, request_hash=fingerprint.hexdigest())


IdempotencyDep = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]
