"""HTTP Basic auth (401), per-installation rights (403) and unknown installations or ids (404)."""

from __future__ import annotations

import base64
import dataclasses

import httpx
import pytest

from tests.vitec_simulator.support import FORBIDDEN, INSTALLATION, SMALL, get_json, open_client

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"estate-bff:wrong").decode(),
        "Basic " + base64.b64encode(b"someone:simulator-access-key").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic !!not-base64!!",
        "Bearer simulator-access-key",
    ],
)
async def test_missing_or_wrong_credentials_answer_401_with_a_challenge(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/Account/Methods", f"/{INSTALLATION}/Estates", f"/{FORBIDDEN}/Estates", "/UNKNOWN/Estates"):
        response = await client.get(path, headers=headers, auth=None)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic")
        assert response.json()["status"] == 401


async def test_configured_credentials_are_the_ones_accepted() -> None:
    config = dataclasses.replace(SMALL, username="partner", password="other-key")
    async with open_client(config) as client:
        assert (await client.get("/Account/Methods")).status_code == 401
        assert (await client.get("/Account/Methods", auth=("partner", "other-key"))).status_code == 200


async def test_a_forbidden_installation_answers_403(client: httpx.AsyncClient) -> None:
    for path in ("Estates", "Departments", "Employees", f"Estates/{MISSING}"):
        response = await client.get(f"/{FORBIDDEN.lower()}/{path}")
        assert response.status_code == 403, path


async def test_unknown_installations_and_ids_answer_404(client: httpx.AsyncClient) -> None:
    estate = (await get_json(client, f"/{INSTALLATION}/Estates"))[0]["estateId"]
    paths = [
        "/NOSUCHINSTALL/Estates",
        f"/{INSTALLATION}/Estates/{MISSING}",
        f"/{INSTALLATION}/Estates/not-a-guid",
        f"/{INSTALLATION}/Departments/999999",
        f"/{INSTALLATION}/Departments/abc/Picture",
        f"/{INSTALLATION}/Employees/NOBODY",
        f"/{INSTALLATION}/Employees/NOBODY/Picture",
        f"/{INSTALLATION}/Estates/{estate}/Images/{MISSING}",
        f"/{INSTALLATION}/Estates/{estate}/Documents/{MISSING}",
        f"/{INSTALLATION}/NoSuchResource",
    ]
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404
