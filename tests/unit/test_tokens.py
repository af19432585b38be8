"""Access tokens: verified signatures are remembered, expiry is checked on every use."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from hub.domain.errors import Unauthenticated
from hub.services.accounts.auth import TokenConfig, _verified, decode_access_token, issue_access_token

CONFIG = TokenConfig(secret="s" * 40, access_ttl=900, refresh_ttl=3600)


def test_a_token_is_verified_once_then_remembered() -> None:
    token = issue_access_token(CONFIG, 7)
    before = _verified.cache_info()
    assert decode_access_token(CONFIG, token)[0] == 7
    assert decode_access_token(CONFIG, token)[0] == 7
    after = _verified.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


def test_a_remembered_token_still_expires() -> None:
    """The clock is passed in instead of slept through: the remembered signature is reused (a cache
    hit, no new verification) and the token is still refused from the second its `exp` is reached."""
    issued = datetime.now(UTC).replace(microsecond=0)
    token = issue_access_token(CONFIG, 7, ttl=60, now=issued)
    assert decode_access_token(CONFIG, token)[0] == 7
    before = _verified.cache_info()
    assert decode_access_token(CONFIG, token, now=issued.timestamp() + 59.9)[0] == 7
    for later in (issued.timestamp() + 60, issued.timestamp() + 3600):
        with pytest.raises(Unauthenticated, match="token expired"):
            decode_access_token(CONFIG, token, now=later)
    after = _verified.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)


def test_a_token_that_expired_before_its_first_use_is_refused_every_time() -> None:
    """Minted with a past `iat`/`exp`: refused by the signature check itself, and never remembered."""
    token = issue_access_token(CONFIG, 7, ttl=60, now=datetime.now(UTC) - timedelta(seconds=61))
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="token expired"):
            decode_access_token(CONFIG, token)


def test_a_token_signed_with_another_secret_is_refused_even_if_remembered_for_its_own() -> None:
    token = issue_access_token(CONFIG, 7)
    decode_access_token(CONFIG, token)
    other = TokenConfig(secret="t" * 40, access_ttl=900, refresh_ttl=3600)
    with pytest.raises(Unauthenticated, match="invalid token"):
        decode_access_token(other, token)


def test_refresh_shaped_and_forged_tokens_are_refused_every_time() -> None:
    wrong_type = jwt.encode({"sub": "7", "typ": "refresh", "exp": time.time() + 60}, CONFIG.secret, "HS256")
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="invalid token"):
            decode_access_token(CONFIG, wrong_type)
        with pytest.raises(Unauthenticated, match="invalid token"):
            decode_access_token(CONFIG, "not.a.jwt")
