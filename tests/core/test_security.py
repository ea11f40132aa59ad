"""Token signing and verification."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core import security
from core.security import TokenCodec, TokenExpired, TokenInvalid, TokenType
from core.settings import AuthSettings

SECRET = "s" * 40


def codec() -> TokenCodec:
    return TokenCodec(AuthSettings(jwt_secret=SECRET))  # type: ignore[arg-type]


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = codec()
    token, claims = tokens.encode(
        subject=uuid.uuid4(), organization_id=uuid.uuid4(), role="broker", token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=15),
    )  # fmt: skip
    assert tokens.decode(token, TokenType.ACCESS) == claims  # verified, and now remembered

    later = claims.expires_at.timestamp() + 1
    monkeypatch.setattr(security.time, "time", lambda: later)

    with pytest.raises(TokenExpired):
        tokens.decode(token, TokenType.ACCESS)


def test_remembering_is_per_kind_and_per_secret() -> None:
    tokens = codec()
    token, _ = tokens.encode(
        subject=uuid.uuid4(), organization_id=uuid.uuid4(), role="broker", token_type=TokenType.ACCESS,
        ttl=timedelta(minutes=15),
    )  # fmt: skip
    tokens.decode(token, TokenType.ACCESS)

    with pytest.raises(TokenInvalid):
        tokens.decode(token, TokenType.REFRESH)
    with pytest.raises(TokenInvalid):
        TokenCodec(AuthSettings(jwt_secret="t" * 40)).decode(token, TokenType.ACCESS)  # type: ignore[arg-type]
