"""Structured logging: every record, ours or a library's, becomes one JSON line.

A request id (or a job id, in the worker) is bound to a context variable at the boundary, and
`merge_contextvars` puts it on every record emitted while that request or task runs.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

from core.settings import AppSettings

_SHARED_PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

_HANDLER_NAME = "estate-bff"


def configure_logging(settings: AppSettings) -> None:
    """Route structlog and the standard library through one JSON (or console) renderer."""
    renderer: Processor = structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            # First: a disabled level costs one check, not the whole chain.
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace our own handler only (configuring twice must not double every line), keep others'.
    root.handlers[:] = [existing for existing in root.handlers if existing.get_name() != _HANDLER_NAME]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn installs its own handlers; let its records flow to ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The API's own access line carries the request id; uvicorn's would only repeat it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    # The Azure SDK logs every request and response at INFO: one line per uploaded block.
    logging.getLogger("azure").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger; bound context variables (request id, job id) are added per record."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


bind_log_context = structlog.contextvars.bind_contextvars
current_log_context = structlog.contextvars.get_contextvars
clear_log_context = structlog.contextvars.clear_contextvars
