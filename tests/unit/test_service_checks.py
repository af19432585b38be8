"""A missing PostgreSQL/Redis/Chromium skips locally but fails the run under CI=true."""

from __future__ import annotations

import pytest

from tests.support import services


def test_missing_service_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not available"):
        services.unavailable("PostgreSQL", "cannot connect")


def test_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true and Redis is not available"):
        services.unavailable("Redis", "cannot connect")


def test_an_unreachable_port_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "IN_CI", True)
    monkeypatch.setattr(services, "REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(pytest.fail.Exception, match=r"cannot connect to 127\.0\.0\.1:1"):
        services.require_redis()
