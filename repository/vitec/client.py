"""The Vitec Hub client: the only code that speaks to Vitec.

One pooled `httpx.AsyncClient` per process, HTTP Basic auth from settings, and resilience that
holds across every worker process because its state lives in Redis:
- a request rate (`VITEC_RATE_LIMIT`) and a number of requests in flight (`VITEC_MAX_CONCURRENCY`)
  per installation, paced rather than failed;
- retries of 429 (honouring `Retry-After`), 5xx, timeouts and dropped connections, with
  exponential backoff and full jitter, up to `VITEC_MAX_ATTEMPTS`;
- a circuit per installation that opens after `VITEC_CIRCUIT_FAILURE_THRESHOLD` failures in a row
  and fails fast (`VitecUnavailableError`) until `VITEC_CIRCUIT_OPEN_SECONDS` have passed;
- a cache for heavy, rarely changing reads (departments, employees).
401 and 403 are permanent (`VitecUnauthorizedError`, `VitecForbiddenError`): never retried.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.logging import get_logger
from core.metrics import VITEC_REQUESTS, VITEC_RETRIES
from core.rate_limit import RateLimiter
from core.semaphore import RedisSemaphore
from core.settings import VitecSettings
from domain.jobs import RetryPolicy
from domain.vitec import (
    EstateImageTooLargeError,
    VitecBinary,
    VitecDepartment,
    VitecEmployee,
    VitecError,
    VitecEstate,
    VitecEstateSummary,
    VitecForbiddenError,
    VitecNotFoundError,
    VitecResponseInvalidError,
    VitecUnauthorizedError,
    VitecUnavailableError,
)
from repository.vitec import mapping

logger = get_logger(__name__)

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_TRANSPORT_ERRORS = (httpx.TimeoutException, httpx.TransportError)
_KEY = "estate-bff:vitec"
# What Vitec ids look like (installation names, GUIDs, numbers): never a `/`, `?`, `#`, `%` or a
# dot segment, so an id read from Vitec's own data can only ever name one resource.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.~-]{0,99}")


@dataclass(frozen=True, slots=True)
class _Resource:
    """A Hub path below the installation, and its template (the metrics' `route` label)."""

    route: str
    path: str


def _resource(route: str, *ids: str) -> _Resource:
    """`route` with each `{id}` replaced by the next id, checked and escaped as a path segment."""
    path = route
    for value in ids:
        path = path.replace("{id}", _segment(value), 1)
    return _Resource(route, path)


def _segment(value: str) -> str:
    """`value` as one path segment of a Hub URL, or `VitecResponseInvalidError` if it is no id."""
    if not _ID.fullmatch(value):
        raise VitecResponseInvalidError("a Vitec id that is not a plain path segment")
    return quote(value, safe="")


class VitecClient:
    """Reads one installation's data from the Hub; shared by everything in a process."""

    def __init__(
        self,
        settings: VitecSettings,
        redis: Redis,
        rate_limiter: RateLimiter,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._rate_limiter = rate_limiter
        self._rate = RateLimiter.parse(settings.rate_limit)
        self._policy = RetryPolicy(settings.retry_base_seconds, settings.retry_cap_seconds)
        # A lease outlives any one request (its timeout), so a crashed holder frees its slot.
        self._in_flight = RedisSemaphore(redis, lease_seconds=settings.timeout_seconds + 5)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            auth=httpx.BasicAuth(settings.username, settings.password.get_secret_value()),
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(5.0, settings.timeout_seconds)),
            limits=httpx.Limits(max_connections=settings.max_connections),
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def list_departments(self, installation: str) -> list[VitecDepartment]:
        payload = await self._cached_json(installation, _resource("Departments"))
        return [mapping.department(raw) for raw in mapping.records(payload, "departments")]

    async def list_employees(self, installation: str) -> list[VitecEmployee]:
        payload = await self._cached_json(installation, _resource("Employees"))
        return [mapping.employee(raw) for raw in mapping.records(payload, "employees")]

    async def list_estate_summaries(
        self, installation: str, *, changed_after: datetime | None = None, department_id: int | None = None
    ) -> list[VitecEstateSummary]:
        params: dict[str, str] = {}
        if changed_after is not None:
            params["changedAfter"] = mapping.format_changed_after(changed_after)
        if department_id is not None:
            params["departmentId"] = str(department_id)
        payload = await self._get_json(installation, _resource("Estates"), params)
        return [mapping.estate_summary(raw) for raw in mapping.records(payload, "estates")]

    async def get_estate(self, installation: str, estate_id: str) -> VitecEstate:
        payload = await self._get_json(installation, _resource("Estates/{id}", estate_id))
        if not isinstance(payload, dict):
            raise VitecResponseInvalidError("expected an estate object")
        return mapping.estate(payload)

    async def get_estate_image(
        self, installation: str, estate_id: str, image_id: str, *, max_bytes: int | None = None
    ) -> VitecBinary:
        """An image's bytes; past `max_bytes` (declared or streamed) EstateImageTooLargeError, unretried."""
        resource = _resource("Estates/{id}/Images/{id}", estate_id, image_id)
        response = await self._request(installation, resource, accept="image/*", max_bytes=max_bytes)
        return _binary(response)

    async def get_estate_document(self, installation: str, estate_id: str, document_id: str) -> VitecBinary:
        resource = _resource("Estates/{id}/Documents/{id}", estate_id, document_id)
        response = await self._request(installation, resource, accept="*/*")
        return _binary(response)

    async def _cached_json(self, installation: str, resource: _Resource) -> Any:
        key = f"{_KEY}:cache:{installation}:{resource.path}"
        ttl = self._settings.cache_ttl_seconds
        if ttl:
            try:
                cached = await self._redis.get(key)
            except RedisError:
                cached = None
            if cached is not None:
                return json.loads(cached)
        payload = await self._get_json(installation, resource)
        if ttl:
            try:
                await self._redis.set(key, json.dumps(payload), ex=ttl)
            except RedisError as exc:
                logger.warning("vitec_cache_write_failed", error=repr(exc))
        return payload

    async def _get_json(self, installation: str, resource: _Resource, params: dict[str, str] | None = None) -> Any:
        response = await self._request(installation, resource, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise VitecResponseInvalidError("Vitec answered something that is not JSON") from exc

    async def _request(
        self,
        installation: str,
        resource: _Resource,
        *,
        params: dict[str, str] | None = None,
        accept: str | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """GET `/{installation}/{resource}`, paced, retried and guarded by the circuit, counted in
        `estate_bff_vitec_requests_total` by route template and outcome."""
        path = f"/{_segment(installation)}/{resource.path}"
        headers = {"Accept": accept} if accept else None
        for attempt in range(1, self._settings.max_attempts + 1):
            if attempt > 1:
                VITEC_RETRIES.labels(route=resource.route).inc()
            await self._refuse_if_open(installation, resource.route)
            await self._rate_limiter.acquire(self._rate, "vitec", installation)
            try:
                async with self._in_flight.hold(f"{_KEY}:in-flight:{installation}", self._settings.max_concurrency):
                    response = await self._get(path, params, headers, max_bytes)
            except _TRANSPORT_ERRORS as exc:
                _count(resource, "transport_error")
                delay = self._policy.delay(attempt)
                logger.warning("vitec_request_failed", path=path, attempt=attempt, error=repr(exc))
            else:
                _count(resource, _outcome(response.status_code))
                if response.status_code < 400:
                    await self._record_success(installation)
                    return response
                self._raise_permanent(response, path)
                delay = max(self._policy.delay(attempt), _retry_after(response))
                logger.warning("vitec_request_retryable", path=path, attempt=attempt, status=response.status_code)
            await self._record_failure(installation)
            if attempt < self._settings.max_attempts:
                await asyncio.sleep(delay)
        raise VitecUnavailableError(f"{path}: no answer after {self._settings.max_attempts} attempts")

    async def _get(
        self, path: str, params: dict[str, str] | None, headers: dict[str, str] | None, max_bytes: int | None
    ) -> httpx.Response:
        """GET, reading at most `max_bytes` of a successful answer's body when a cap is given."""
        if max_bytes is None:
            return await self._http.get(path, params=params, headers=headers)
        request = self._http.build_request("GET", path, params=params, headers=headers)
        response = await self._http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()  # error bodies are logged (bounded), never kept
                return response
            body = await _read_capped(response, max_bytes, path)
        finally:
            await response.aclose()
        # Only the media type and the bytes matter to the caller (`_binary`); the body is decoded already.
        return httpx.Response(response.status_code, headers={"content-type": response.headers.get("content-type", "")},
                              content=body)  # fmt: skip

    @staticmethod
    def _raise_permanent(response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status in _RETRYABLE_STATUS:
            return
        # The body's format is unknown: log it (bounded), never show it.
        logger.warning("vitec_request_refused", path=path, status=status, body=response.text[:500])
        if status == 401:
            raise VitecUnauthorizedError
        if status == 403:
            raise VitecForbiddenError
        if status == 404:
            raise VitecNotFoundError(f"{path} was not found")
        raise VitecError(f"{path}: Vitec answered {status}")

    async def _refuse_if_open(self, installation: str, route: str) -> None:
        try:
            open_until = await self._redis.get(f"{_KEY}:circuit:{installation}:open-until")
        except RedisError:
            return  # the circuit is an optimization; without Redis, requests go through
        if open_until is not None and float(open_until) > time.time():
            VITEC_REQUESTS.labels(route=route, outcome="circuit_open").inc()
            raise VitecUnavailableError(f"the circuit for {installation} is open")

    async def _record_failure(self, installation: str) -> None:
        failures_key = f"{_KEY}:circuit:{installation}:failures"
        try:
            failures = await self._redis.incr(failures_key)
            await self._redis.expire(failures_key, int(self._settings.circuit_open_seconds * 4))
            if failures >= self._settings.circuit_failure_threshold:
                open_seconds = self._settings.circuit_open_seconds
                await self._redis.set(
                    f"{_KEY}:circuit:{installation}:open-until", time.time() + open_seconds, ex=int(open_seconds) + 1
                )
                await self._redis.delete(failures_key)
                logger.warning("vitec_circuit_opened", installation=installation, seconds=open_seconds)
        except RedisError as exc:
            logger.warning("vitec_circuit_unavailable", error=repr(exc))

    async def _record_success(self, installation: str) -> None:
        try:
            await self._redis.delete(f"{_KEY}:circuit:{installation}:failures")
        except RedisError as exc:
            logger.warning("vitec_circuit_unavailable", error=repr(exc))


_PERMANENT_OUTCOMES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in _RETRYABLE_STATUS:
        return "retryable"
    return _PERMANENT_OUTCOMES.get(status, "error")


def _count(resource: _Resource, outcome: str) -> None:
    VITEC_REQUESTS.labels(route=resource.route, outcome=outcome).inc()


def _retry_after(response: httpx.Response) -> float:
    """`Retry-After` in seconds (the HTTP-date form is not used by the Hub as far as is known)."""
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


async def _read_capped(response: httpx.Response, max_bytes: int, path: str) -> bytes:
    """The body, refused as soon as it is declared or turns out larger than `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        logger.warning("vitec_binary_too_large", path=path, declared=int(declared), limit=max_bytes)
        raise EstateImageTooLargeError
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            logger.warning("vitec_binary_too_large", path=path, limit=max_bytes)
            raise EstateImageTooLargeError
    return bytes(body)


def _binary(response: httpx.Response) -> VitecBinary:
    """The bytes and Vitec's own media type (without parameters); unknown when it declared none."""
    declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return VitecBinary(response.content, declared or "application/octet-stream")
