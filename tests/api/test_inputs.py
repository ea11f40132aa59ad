"""Limits on every input: body sizes whatever the content type, media types, text PostgreSQL can
store, enum filters and unknown query parameters, on every route."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from httpx import ASGITransport, AsyncClient

from api.input_guard import streams_body
from api.main import create_app
from tests.conftest import make_settings
from tests.factories.users import SignedIn

LIMIT = 1024 * 1024
REFRESH = "/api/v1/auth/refresh"
TOKEN = "/api/v1/auth/token"


def code(response_json: dict[str, object]) -> object:
    return response_json["internal_code"]


# Item 10: every body is bounded, whatever its content type.


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]
)
async def test_a_body_over_the_limit_is_a_413_whatever_its_content_type(client: AsyncClient, content_type: str) -> None:
    response = await client.post(REFRESH, content=b"x" * (LIMIT + 1), headers={"Content-Type": content_type})

    assert response.status_code == 413
    assert code(response.json()) == "request_too_large"


async def test_a_streamed_body_without_length_is_counted_too(client: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 65536

    response = await client.post(TOKEN, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 413


async def test_a_json_route_answers_415_to_another_content_type(client: AsyncClient) -> None:
    response = await client.post(REFRESH, content=b'{"refresh_token": "x"}', headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert code(response.json()) == "unsupported_media_type"


async def test_the_login_form_answers_415_to_json(client: AsyncClient) -> None:
    response = await client.post(TOKEN, json={"username": "a@b.test", "password": "x"})

    assert response.status_code == 415


@pytest.mark.parametrize("field", ["username", "password"])
async def test_login_form_fields_are_bounded(client: AsyncClient, field: str) -> None:
    form = {"username": "someone@example.com", "password": "a-password", field: "a" * 1025}

    response = await client.post(TOKEN, data=form)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", field]]


async def test_a_username_is_at_most_320_characters(client: AsyncClient) -> None:
    response = await client.post(TOKEN, data={"username": "a" * 310 + "@example.com", "password": "a-password"})

    assert response.status_code == 422


async def test_a_body_that_is_not_utf8_is_a_422(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/sync/vitec",
        content=b'{"mode": "\xff\xfe"}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


@pytest.fixture
async def upload_app() -> AsyncIterator[AsyncClient]:
    """The app with two raw-body routes: one declared as streaming its body, one not."""
    app = create_app(make_settings())
    received: dict[str, int] = {}

    @app.post("/streamed/{name}")
    @streams_body
    async def streamed(name: str, request: Request) -> dict[str, int]:
        received[name] = sum([len(chunk) async for chunk in request.stream()])
        return received

    @app.post("/buffered")
    async def buffered(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        yield http


async def test_a_route_declared_as_streaming_its_body_is_exempt_from_the_limit(upload_app: AsyncClient) -> None:
    big = b"z" * (3 * LIMIT)

    streamed = await upload_app.post("/streamed/a", content=big, headers={"Content-Type": "application/pdf"})
    buffered = await upload_app.post("/buffered", content=big, headers={"Content-Type": "application/pdf"})

    assert streamed.status_code == 200
    assert streamed.json() == {"a": len(big)}
    assert buffered.status_code == 413


# Item 12: text PostgreSQL cannot store is a 422, in any string parameter or body field.


@pytest.mark.parametrize(
    "query", ["q=%00", "q=a%00b", "status=%00", "kind=%00", "cursor=%00", "q=ok&q=%00"], ids=lambda q: q
)
async def test_a_nul_in_a_query_parameter_is_a_422(admin: SignedIn, client: AsyncClient, query: str) -> None:
    path = "/api/v1/jobs" if query.startswith("kind") else "/api/v1/estates"

    response = await client.get(f"{path}?{query}", headers=admin.headers)

    assert response.status_code == 422
    assert response.json()["internal_code"] == "validation_error"


@pytest.mark.parametrize("name", ["a\u0000b", "\ud800", "ok \udfff"], ids=["nul", "lone-high-surrogate", "lone-low"])
async def test_unstorable_text_in_a_json_field_is_a_422(admin: SignedIn, client: AsyncClient, name: str) -> None:
    body = {
        "email": f"{uuid.uuid4().hex}@example.com",
        "full_name": name,
        "password": "long-enough-pw",
        "role": "broker",
    }
    headers = {**admin.headers, "Content-Type": "application/json"}

    # Escaped as JSON does it (`\\u0000`, `\\ud800`): what a client can send.
    response = await client.post("/api/v1/users", content=json.dumps(body).encode(), headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "full_name"]


async def test_a_nul_in_a_form_field_is_a_422(client: AsyncClient) -> None:
    response = await client.post(TOKEN, data={"username": "a\u0000b@example.com", "password": "a-password"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "username"]


# Item 13: filters are enums, and unknown query parameters are refused on every route.


async def test_an_unknown_job_kind_is_a_422_and_a_known_one_filters(admin: SignedIn, client: AsyncClient) -> None:
    unknown = await client.get("/api/v1/jobs", params={"kind": "no_such_kind"}, headers=admin.headers)
    known = await client.get("/api/v1/jobs", params={"kind": "vitec.sync"}, headers=admin.headers)

    assert unknown.status_code == 422
    assert known.status_code == 200


async def test_job_filters_are_enums_in_openapi(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/jobs"]["get"]["parameters"]}

    def enum_of(parameter: dict[str, object]) -> list[str]:
        (branch,) = [b for b in parameter["anyOf"] if b.get("type") == "array"]  # type: ignore[attr-defined]
        ref = branch["items"]["$ref"].rsplit("/", 1)[-1]
        return list(schema["components"]["schemas"][ref]["enum"])

    assert "vitec.sync" in enum_of(parameters["kind"])
    assert "no_such_kind" not in enum_of(parameters["kind"])
    assert set(enum_of(parameters["status"])) == {"queued", "running", "succeeded", "failed", "cancelled"}


def _every_operation(app: FastAPI) -> list[tuple[str, str]]:
    operations = []
    for route in iter_route_contexts(app.routes):
        if route.endpoint is not None and route.path.startswith("/api/"):
            path = route.path.replace("{", "").replace("}", "")
            for name in route.param_convertors:
                path = path.replace(name, str(uuid.uuid4()))
            operations += [(method, path) for method in sorted(route.methods or ())]
    return operations


async def test_an_unknown_query_parameter_is_a_422_on_every_route(
    app: FastAPI, admin: SignedIn, client: AsyncClient
) -> None:
    operations = _every_operation(app)
    answers = {}
    for method, path in operations:
        response = await client.request(method, path, params={"no_such_parameter": "1"}, headers=admin.headers)
        answers[(method, path.split("/")[-1])] = (response.status_code, tuple(response.json()["errors"][0]["loc"]))

    assert len(operations) > 15
    assert set(answers.values()) == {(422, ("query", "no_such_parameter"))}, answers


async def test_known_query_parameters_and_aliases_still_pass(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.get("/api/v1/jobs", params={"status": "queued", "limit": 5}, headers=admin.headers)

    assert response.status_code == 200


@pytest.mark.parametrize("since", ["0.5", "1700000000", "2026-01-31", "2026-01-31T12:00"])
async def test_a_date_time_filter_takes_rfc_3339_only(admin: SignedIn, client: AsyncClient, since: str) -> None:
    refused = await client.get("/api/v1/estates", params={"updated_since": since}, headers=admin.headers)
    taken = await client.get(
        "/api/v1/estates", params={"updated_since": "2026-01-31T12:00:00+01:00"}, headers=admin.headers
    )

    assert refused.status_code == 422
    assert taken.status_code == 200
