"""Sign-in, token rotation and the ways a token can be wrong."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.resources import Resources
from core.security import TokenType
from domain.users import UserRole
from repository.models import Organization, RefreshToken
from tests.factories.users import DEFAULT_PASSWORD, create_user, login, signed_in

TOKEN_URL = "/api/v1/auth/token"


def problem(response_json: dict[str, object]) -> dict[str, object]:
    """The problem body without its per-request parts."""
    return {k: v for k, v in response_json.items() if k not in {"request_id"}}


async def test_login_answers_a_bearer_pair_that_reaches_me(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization, role=UserRole.ADMIN)
    await session.commit()

    response = await client.post(TOKEN_URL, data={"username": user.email.upper(), "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert me.json()["role"] == "admin"
    assert me.headers["cache-control"] == "no-store"


async def test_unknown_email_and_wrong_password_answer_the_same_401(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    await session.commit()

    wrong_password = await client.post(TOKEN_URL, data={"username": user.email, "password": "not-the-password"})
    unknown_email = await client.post(TOKEN_URL, data={"username": "nobody@example.com", "password": "whatever"})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert problem(wrong_password.json()) == problem(unknown_email.json())
    assert wrong_password.json()["internal_code"] == "invalid_credentials"
    assert wrong_password.headers["content-type"] == "application/problem+json"
    assert wrong_password.headers["www-authenticate"] == "Bearer"


async def test_inactive_user_cannot_sign_in(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization, is_active=False)
    await session.commit()

    response = await client.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 401
    assert response.json()["internal_code"] == "user_inactive"


async def test_login_form_without_password_is_a_422(client: AsyncClient) -> None:
    response = await client.post(TOKEN_URL, data={"username": "someone@example.com"})

    assert response.status_code == 422
    assert response.json()["internal_code"] == "validation_error"
    assert {tuple(issue["loc"]) for issue in response.json()["errors"]} == {("body", "password")}


async def test_refresh_rotates_and_the_spent_token_is_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)

    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})
    assert rotated.status_code == 200
    new_pair = rotated.json()
    assert new_pair["refresh_token"] != signed.refresh_token
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_pair['access_token']}"})
    assert me.status_code == 200

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["internal_code"] == "refresh_token_reused"


async def test_reusing_a_spent_refresh_token_revokes_its_whole_family(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)
    child = (await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})).json()

    await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})

    # The revocation was committed although that request failed: the child is dead too.
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": child["refresh_token"]})
    assert response.status_code == 401
    assert response.json()["internal_code"] == "token_revoked"
    tokens = (await session.execute(select(RefreshToken).where(RefreshToken.user_id == signed.user.id))).scalars()
    assert all(token.revoked_at is not None for token in tokens)


async def test_logout_revokes_the_session(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)
    child = (await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})).json()

    response = await client.post("/api/v1/auth/logout", json={"refresh_token": child["refresh_token"]})

    assert response.status_code == 204
    assert response.content == b""
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": child["refresh_token"]})
    assert after.status_code == 401
    assert after.json()["internal_code"] == "token_revoked"


async def test_logout_and_refresh_refuse_unknown_fields_and_garbage(client: AsyncClient) -> None:
    unknown_field = await client.post("/api/v1/auth/logout", json={"refresh_token": "x", "extra": 1})
    garbage = await client.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-jwt"})

    assert unknown_field.status_code == 422
    assert garbage.status_code == 401
    assert garbage.json()["internal_code"] == "token_invalid"


async def test_expired_access_token_is_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    token, _ = resources.token_codec.encode(
        subject=user.id,
        organization_id=organization.id,
        role="broker",
        token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=15),
        now=datetime.now(UTC) - timedelta(hours=1),
    )

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["internal_code"] == "token_expired"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_tampered_and_unsigned_tokens_are_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)
    header, payload, signature = signed.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    promoted = {**claims, "role": "admin"}
    tampered = f"{header}.{_b64(promoted)}.{signature}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(promoted)}."

    for token in (tampered, unsigned, "garbage", signed.access_token + "x"):
        response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["internal_code"] == "token_invalid"


async def test_tokens_of_the_wrong_kind_are_refused(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)

    refresh_as_access = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed.refresh_token}"})
    access_as_refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.access_token})

    assert refresh_as_access.status_code == 401
    assert refresh_as_access.json()["internal_code"] == "token_invalid"
    assert access_as_refresh.status_code == 401
    assert access_as_refresh.json()["internal_code"] == "token_invalid"


async def test_missing_token_is_a_401(client: AsyncClient) -> None:
    response = await client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["internal_code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_deactivated_user_loses_me_and_refresh(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    signed = await signed_in(client, session, resources, organization)
    signed.user.is_active = False
    await session.commit()

    me = await client.get("/api/v1/me", headers=signed.headers)
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh_token})

    assert me.status_code == 401
    assert refreshed.status_code == 401
    assert {me.json()["internal_code"], refreshed.json()["internal_code"]} == {"user_inactive"}


async def test_login_lockout_per_email_refuses_even_the_right_password(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    await session.commit()

    for _ in range(10):
        wrong = await client.post(TOKEN_URL, data={"username": user.email, "password": "wrong-password"})
        assert wrong.status_code == 401
    locked = await client.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})

    assert locked.status_code == 429
    assert locked.json()["internal_code"] == "login_rate_limited"
    assert 1 <= int(locked.headers["retry-after"]) <= 60


async def test_login_limit_per_client_address_spans_emails(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    await session.commit()

    for _ in range(10):
        other = f"probe-{uuid.uuid4().hex[:8]}@example.com"
        assert (await client.post(TOKEN_URL, data={"username": other, "password": "x"})).status_code == 401

    response = await client.post(TOKEN_URL, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429


async def test_login_records_last_login(
    client: AsyncClient, session: AsyncSession, resources: Resources, organization: Organization
) -> None:
    user = await create_user(session, resources, organization)
    await session.commit()

    await login(client, user.email)

    await session.refresh(user)
    assert user.last_login_at is not None
