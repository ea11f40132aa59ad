"""The request id: accepted from `X-Request-ID` when sane, otherwise made here, echoed back,
bound to the log context, and carried into the tasks a request queues."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

_REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return _REQUEST_ID.get()


def choose_request_id(offered: str | None) -> str:
    """The caller's id if it is short and plain (it ends up in logs), else a new one."""
    if offered and _SANE_ID.match(offered):
        return offered
    return os.urandom(16).hex()


def set_request_id(request_id: str) -> None:
    _REQUEST_ID.set(request_id)
