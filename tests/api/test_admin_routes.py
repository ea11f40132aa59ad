"""Admin-only routes: authorization comes before validation, and every one declares it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from api.deps import require_admin
from api.routes import API_PREFIX, admin, auth, estates, jobs, sync, users
from tests.factories.users import SignedIn

ANY_ID = "00000000-0000-4000-8000-000000000000"
# Every admin route, with bodies a broker might send: none at all, incomplete, wrong, unknown fields.
ADMIN_ROUTES = [
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", f"/api/v1/users/{ANY_ID}"),
    ("PATCH", f"/api/v1/users/{ANY_ID}"),
    ("POST", f"/api/v1/jobs/{ANY_ID}/retry"),
    ("GET", "/api/v1/admin/queue"),
    ("POST", "/api/v1/admin/maintenance/cleanup"),
    ("POST", "/api/v1/sync/vitec"),
]
BODIES = [None, {}, {"email": "x"}, {"role": "owner", "mode": "sideways"}, {"unexpected": True}]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize("body", BODIES, ids=["none", "empty", "incomplete", "invalid", "unknown-field"])
async def test_a_broker_gets_403_whatever_the_body(
    broker_user: SignedIn, client: AsyncClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = await client.request(method, path, json=body, headers=broker_user.headers)

    assert response.status_code == 403, response.text
    assert response.json()["internal_code"] == "admin_required"
    assert "errors" not in response.json()


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize("content", [b'{"email": ', b"\xff\xfe not utf-8"], ids=["malformed-json", "not-utf8"])
async def test_a_broker_gets_403_even_for_a_body_that_is_not_json(
    broker_user: SignedIn, client: AsyncClient, method: str, path: str, content: bytes
) -> None:
    headers = {**broker_user.headers, "Content-Type": "application/json"}

    response = await client.request(method, path, content=content, headers=headers)

    assert response.status_code == 403, response.text
    assert response.json()["internal_code"] == "admin_required"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_an_anonymous_caller_gets_401_whatever_the_body(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={"email": "x"})

    assert response.status_code == 401


# Every router the app mounts under the API prefix (FastAPI keeps included routers unflattened).
ROUTERS = (admin.router, auth.router, estates.router, jobs.router, sync.router, users.router)


def _api_routes() -> list[tuple[APIRoute, str]]:
    return [
        (route, API_PREFIX + route.path) for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
    ]


def _is_admin_only(route: APIRoute) -> bool:
    return any(dependency.dependency is require_admin for dependency in route.dependencies)


def _route(method: str, path: str) -> tuple[APIRoute, str]:
    for route, full_path in _api_routes():
        if method in route.methods and route.path_regex.match(path.removeprefix(API_PREFIX)):
            return route, full_path
    raise AssertionError(f"no route {method} {path}")


def test_admin_routes_declare_the_check_as_a_route_dependency_and_document_the_403(app: FastAPI) -> None:
    openapi = app.openapi()
    for method, path in ADMIN_ROUTES:
        route, full_path = _route(method, path)
        assert _is_admin_only(route), path
        documented = openapi["paths"][full_path][method.lower()]["responses"]["403"]
        assert "admin_required" in documented["description"], path


def test_no_other_route_is_admin_only() -> None:
    declared = {(method, path) for route, path in _api_routes() if _is_admin_only(route) for method in route.methods}

    assert declared == {(method, _route(method, path)[1]) for method, path in ADMIN_ROUTES}


async def test_an_admin_still_gets_the_validation_errors(admin: SignedIn, client: AsyncClient) -> None:
    response = await client.post("/api/v1/users", json={"email": "x"}, headers=admin.headers)

    assert response.status_code == 422
    assert {issue["loc"][-1] for issue in response.json()["errors"]} >= {"email", "password", "role"}
