"""Input rules of the services that need no storage: preferences, passwords, broadcasts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.domain.errors import ValidationFailed
from hub.services.accounts.passwords import email_problem, password_problem
from hub.services.notifications import preferences
from hub.services.projects.broadcast import checked


def refused_fields(update: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        preferences.validate(update)
    return dict(refused.value.fields or {})


def test_preferences_name_every_bad_field() -> None:
    fields = refused_fields(
        {
            "types": {"mention": {"web": "loud", "sms": "off"}, "Bad-Kind": {}},
            "quiet_hours": {"start": "24:00", "enabled": "yes", "timezone": "Mars/Olympus"},
            "theme": "dark",
        }
    )
    assert set(fields) == {
        "types.mention.web",
        "types.mention.sms",
        "types.Bad-Kind",
        "quiet_hours.start",
        "quiet_hours.enabled",
        "quiet_hours.timezone",
        "theme",
    }


def test_stored_preferences_lie_over_the_defaults() -> None:
    merged = preferences.merged({"types": {"mention": {"slack": "off"}}, "quiet_hours": {"enabled": True}})
    assert merged["types"]["mention"] == {"web": "immediate", "slack": "off", "discord": "immediate"}
    assert merged["types"]["comment_added"] == dict.fromkeys(preferences.DESTINATIONS, "immediate")
    assert merged["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00", "timezone": "UTC"}


@pytest.mark.parametrize(
    ("start", "end", "utc_hour", "quiet"),
    [
        ("22:00", "08:00", 23, True),
        ("22:00", "08:00", 7, True),
        ("22:00", "08:00", 8, False),
        ("12:00", "13:00", 12, True),
    ],
)
def test_quiet_hours_windows_may_cross_midnight(start: str, end: str, utc_hour: int, quiet: bool) -> None:
    prefs = preferences.merged({"quiet_hours": {"enabled": True, "start": start, "end": end}})
    assert preferences.in_quiet_hours(prefs, datetime(2026, 3, 2, utc_hour, tzinfo=UTC)) is quiet


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("x" * 257, "at most 256"),
        ("alice.smith@example.com", "your email address or name"),
        ("Alice2024!", "based on your email address or name"),
        ("P@ssw0rd2024!", "too common"),
        ("qwertyui", "too common"),
        ("aaaaaaaa", "too common"),
    ],
)
def test_guessable_passwords_are_refused(password: str, problem: str) -> None:
    found = password_problem(password, email="alice.smith@example.com", name="Alice Smith")
    assert found is not None
    assert problem in found


def test_an_unguessable_password_and_a_valid_email_pass() -> None:
    assert password_problem("violet tractor umbrella", email="alice@example.com", name="Alice") is None
    assert email_problem("  Alice@Example.COM ") == ("alice@example.com", None)
    assert email_problem("not-an-email")[1] is not None


def test_a_broadcast_is_checked_and_normalised_to_what_sockets_receive() -> None:
    assert checked("deploy.done", {"at": datetime(2026, 3, 2, tzinfo=UTC)}) == (
        "deploy.done",
        {"at": "2026-03-02T00:00:00+00:00"},
    )
    with pytest.raises(ValidationFailed) as refused:
        checked("-bad", ["not", "an", "object"])
    assert set(refused.value.fields or {}) == {"type", "data"}
    with pytest.raises(ValidationFailed, match="invalid broadcast"):
        checked("big", {"blob": "x" * 100}, max_bytes=64)
