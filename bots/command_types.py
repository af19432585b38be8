"""The command values `/ticket …` parses into (see `bots.commands`); platform-neutral."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserRef:
    """Who a command names: `me`, nobody, a chat user id (`<@U123>`), or free text (name or email)."""

    kind: str  # "me" | "nobody" | "chat" | "text"
    value: str = ""
    label: str = ""


@dataclass(frozen=True)
class Create:
    title: str = ""
    project_key: str | None = None
    #: The whole text, for when `project_key` turns out to be a word of the title ("API is down").
    #: Empty when the key was named on its own (a Discord option): then an unknown key is an error.
    text: str = ""


@dataclass(frozen=True)
class ListTickets:
    project_key: str | None = None
    mine: bool = False


@dataclass(frozen=True)
class Show:
    ref: str


@dataclass(frozen=True)
class Assign:
    ref: str
    assignee: UserRef


@dataclass(frozen=True)
class SetStatus:
    ref: str
    status: str


@dataclass(frozen=True)
class Comment:
    ref: str
    text: str


@dataclass(frozen=True)
class Who:
    project_key: str | None = None


@dataclass(frozen=True)
class Link:
    code: str | None = None


@dataclass(frozen=True)
class Subscribe:
    project_key: str
    event_types: tuple[str, ...] | None = None
    labels: tuple[str, ...] = ()
    format: str = "compact"
    summary: bool = False
    #: `mentions:off` / `mentions:on`; None leaves the channel's setting as it is.
    mentions: bool | None = None


@dataclass(frozen=True)
class Unsubscribe:
    project_key: str | None = None


@dataclass(frozen=True)
class Prefs:
    """`prefs` shows; `prefs TYPE [DESTINATION] MODE` changes; `prefs quiet HH:MM-HH:MM [TZ]|off`."""

    notification_type: str | None = None
    destination: str | None = None
    mode: str | None = None
    quiet: tuple[str, str, str | None] | None = None
    quiet_off: bool = False


@dataclass(frozen=True)
class Help:
    topic: str | None = None


Command = (
    Create
    | ListTickets
    | Show
    | Assign
    | SetStatus
    | Comment
    | Who
    | Link
    | Subscribe
    | Unsubscribe
    | Prefs
    | Help
)
