"""Liveness and readiness probes for orchestrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.deps import ResourcesDep
from service.health import check_readiness
from service.metrics import refresh_queue_metrics

router = APIRouter(tags=["operations"])


class HealthStatus(BaseModel):
    status: Literal["ok"]


class ReadinessStatus(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]


@router.get("/healthz", response_model=HealthStatus)
async def healthz() -> HealthStatus:
    """The process is alive and serving."""
    return HealthStatus(status="ok")


@router.get("/metrics", include_in_schema=False)
async def metrics(resources: ResourcesDep) -> Response:
    """Prometheus metrics of this process, and the system's jobs and queue (scraped without a
    token; not part of the API)."""
    await refresh_queue_metrics(resources)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", response_model=ReadinessStatus, responses={503: {"model": ReadinessStatus}})
async def readyz(resources: ResourcesDep) -> JSONResponse:
    """Every backing service (PostgreSQL, Redis, Blob Storage) answers; 503 names the ones that do not."""
    checks = await check_readiness(resources)
    ready = all(checks.values())
    body = ReadinessStatus(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
