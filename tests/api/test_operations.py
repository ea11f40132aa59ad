"""Probes, headers, request ids, the error envelope for framework failures, and the OpenAPI contract."""

from __future__ import annotations

import uuid

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from api.main import create_app
from core.settings import Environment, RedisSettings
from tests.conftest import make_settings


async def test_healthz_and_readyz(client: AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"postgres": True, "redis": True, "blob_storage": True}}


async def test_readyz_names_an_unreachable_redis() -> None:
    # A port nothing listens on: readiness must answer 503 quickly, not hang or 500.
    settings = make_settings().model_copy(update={"redis": RedisSettings(url="redis://127.0.0.1:1/0")})
    app = create_app(settings)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": True, "redis": False, "blob_storage": True}


async def test_security_headers_and_a_generated_request_id(client: AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # production only
    assert len(response.headers["x-request-id"]) == 32


async def test_a_sane_request_id_is_echoed_and_a_hostile_one_replaced(client: AsyncClient) -> None:
    echoed = await client.get("/api/v1/me", headers={"X-Request-ID": "frontend-abc.123"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 200})

    assert echoed.headers["x-request-id"] == "frontend-abc.123"
    assert echoed.json()["request_id"] == "frontend-abc.123"
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_unknown_route_and_wrong_method_are_problems(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    wrong_method = await client.delete("/api/v1/me")

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "urn:estate-bff:problem:not_found"
    assert missing.json()["instance"] == "/api/v1/nothing-here"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["internal_code"] == "method_not_allowed"


async def test_unexpected_errors_are_a_generic_500_with_headers(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(make_settings())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-dsn postgres://user:hunter2@db/prod")

    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/boom", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    body = response.json()
    assert body["internal_code"] == "internal_error"
    assert body["request_id"] == "trace-500"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    # The log has the details, tied to the same request id.
    assert "trace-500" in caplog.text
    assert "RuntimeError" in caplog.text


async def test_cors_only_for_configured_origins() -> None:
    app = create_app(make_settings(cors_allow_origins=["https://app.example.com"]))
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        allowed = await http.options(
            "/api/v1/me",
            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
        )
        refused = await http.get("/healthz", headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in refused.headers


async def test_no_cors_headers_by_default(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Origin": "https://app.example.com"})

    assert "access-control-allow-origin" not in response.headers


async def test_hsts_in_production() -> None:
    settings = make_settings()
    production = settings.model_copy(
        update={"app": settings.app.model_copy(update={"environment": Environment.PRODUCTION})}
    )
    app = create_app(production)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/healthz")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_openapi_documents_every_route(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    operation_ids = [op["operationId"] for _, _, op in operations]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    assert "/metrics" not in spec["paths"]
    for path, method, op in operations:
        assert op.get("summary"), (path, method)
        assert op.get("description"), (path, method)
        if path.startswith("/api/v1/"):
            errors = {status: r for status, r in op["responses"].items() if int(status) >= 400}
            assert errors, (path, method)
            for response in errors.values():
                assert list(response["content"]) == ["application/problem+json"], (path, method)
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]["401"]["content"]["application/problem+json"]
    assert {"not_authenticated", "token_invalid", "token_expired"} <= set(me["examples"])


async def test_metrics_need_no_token_and_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get(f"/api/v1/jobs/{uuid.uuid4()}")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'estate_bff_http_request_duration_seconds_count{method="GET",route="/jobs/{job_id}",status="401"}' in (
        response.text
    )
    assert "estate_bff_jobs_finished_total" in response.text


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("OPTIONS", "/api/v1/users", "GET, POST"),
    ("DELETE", "/api/v1/sync/vitec", "GET, POST"),
    ("PUT", "/api/v1/jobs/00000000-0000-0000-0000-000000000001", "GET"),
])  # fmt: skip
async def test_405_names_every_method_the_path_serves_in_allow(
    client: AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed


async def test_openapi_documents_the_idempotency_key_and_cursor_formats(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    key = next(p for p in spec["paths"]["/api/v1/sync/vitec"]["post"]["parameters"] if p["name"] == "idempotency-key")
    cursor = next(p for p in spec["paths"]["/api/v1/jobs"]["get"]["parameters"] if p["name"] == "cursor")

    assert key["schema"]["pattern"] == "^[!-~]{1,255}$"
    assert key["schema"]["maxLength"] == 255
    assert cursor["schema"]["pattern"] == "^[A-Za-z0-9_-]+$"


async def test_every_route_with_a_body_documents_413_and_415(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    with_body = [op for path in spec["paths"].values() for op in path.values() if "requestBody" in op]

    assert with_body
    for operation in with_body:
        assert {"413", "415"} <= set(operation["responses"]), operation["operationId"]
