"""Notification preferences: per notification type and destination, plus quiet hours.

Stored on the user as JSON. Missing entries mean "immediate", so new notification types reach people
until they choose otherwise. Both the web and the chat bots read the routing decision derived from
these (see `routing.py`), so a choice made in Slack applies on the web and vice versa.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.adapters.db.models import User
from hub.adapters.db.uow import UnitOfWork
from hub.domain.errors import Unauthenticated, ValidationFailed
from hub.domain.identity import Actor

TYPES = ("ticket_assigned", "comment_added", "status_changed", "mention", "custom")
DESTINATIONS = ("web", "slack", "discord")
MODES = ("immediate", "digest", "off")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def defaults() -> dict[str, Any]:
    return {
        "types": {kind: dict.fromkeys(DESTINATIONS, "immediate") for kind in TYPES},
        "quiet_hours": {"enabled": False, "start": "22:00", "end": "08:00", "timezone": "UTC"},
    }


def merged(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored preferences laid over the defaults."""
    result = defaults()
    stored = stored or {}
    for kind, modes in (stored.get("types") or {}).items():
        result["types"].setdefault(kind, dict.fromkeys(DESTINATIONS, "immediate")).update(modes)
    result["quiet_hours"].update(stored.get("quiet_hours") or {})
    return result


def validate(update: dict[str, Any]) -> dict[str, Any]:
    """Check a (partial) preferences document; raise ValidationFailed naming each bad field."""
    errors = {**_types_errors(update.get("types", {})), **_quiet_hours_errors(update.get("quiet_hours", {}))}
    unknown = set(update) - {"types", "quiet_hours"}
    errors.update({key: "unknown field" for key in unknown})
    if errors:
        raise ValidationFailed("invalid preferences", fields=errors)
    return update


def _types_errors(types: Any) -> dict[str, str]:
    """The bad fields of the `types` part: notification type → {destination: mode}."""
    if not isinstance(types, dict):
        return {"types": "must be an object of notification type → {web, slack, discord}"}
    errors: dict[str, str] = {}
    for kind, modes in types.items():
        if not re.fullmatch(r"[a-z_]{1,40}", str(kind)):
            errors[f"types.{kind}"] = "unknown notification type"
            continue
        if not isinstance(modes, dict):
            errors[f"types.{kind}"] = "must be an object with web, slack and/or discord"
            continue
        for destination, mode in modes.items():
            if destination not in DESTINATIONS:
                errors[f"types.{kind}.{destination}"] = "destination must be web, slack or discord"
            elif mode not in MODES:
                errors[f"types.{kind}.{destination}"] = "must be immediate, digest or off"
    return errors


def _quiet_hours_errors(quiet: Any) -> dict[str, str]:
    """The bad fields of the `quiet_hours` part: start and end clock times, enabled, time zone."""
    if not isinstance(quiet, dict):
        return {"quiet_hours": "must be an object"}
    errors: dict[str, str] = {}
    for key in ("start", "end"):
        if key in quiet and not _CLOCK.match(str(quiet[key])):
            errors[f"quiet_hours.{key}"] = "must be HH:MM (24-hour clock)"
    if "enabled" in quiet and not isinstance(quiet["enabled"], bool):
        errors["quiet_hours.enabled"] = "must be true or false"
    if "timezone" in quiet:
        try:
            ZoneInfo(str(quiet["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            errors["quiet_hours.timezone"] = "unknown time zone (use an IANA name like Europe/Berlin)"
    return errors


def in_quiet_hours(prefs: dict[str, Any], now: datetime) -> bool:
    quiet = prefs["quiet_hours"]
    if not quiet.get("enabled"):
        return False
    local = now.astimezone(ZoneInfo(quiet.get("timezone", "UTC"))).time()
    start = time.fromisoformat(quiet["start"])
    end = time.fromisoformat(quiet["end"])
    if start <= end:
        return start <= local < end
    return local >= start or local < end


async def get_preferences(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    async with uow:
        user = await uow.session.get(User, actor.id)
        if user is None:
            raise Unauthenticated("invalid token")
        return merged(user.preferences)


async def update_preferences(uow: UnitOfWork, actor: Actor, update: dict[str, Any]) -> dict[str, Any]:
    """Apply a partial update (only the types and quiet-hour fields given change)."""
    validate(update)
    async with uow:
        user = await uow.session.get(User, actor.id)
        if user is None:
            raise Unauthenticated("invalid token")
        current = merged(user.preferences)
        for kind, modes in (update.get("types") or {}).items():
            current["types"].setdefault(kind, dict.fromkeys(DESTINATIONS, "immediate")).update(modes)
        current["quiet_hours"].update(update.get("quiet_hours") or {})
        user.preferences = current
        await uow.commit()
        return current
