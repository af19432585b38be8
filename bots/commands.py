"""`/ticket …` parsed once, for every chat platform, into small command values.

`parse(text)` returns one of the dataclasses below or raises `ParseError` whose message says what
was wrong and how to write it. Nothing here does I/O or knows a platform beyond the `<@ID>` user
mentions that Slack (`<@U123>`, `<@U123|name>`) and Discord (`<@123>`, `<@!123>`) both send.
"""

from __future__ import annotations

import re

from bots.command_types import (
    Assign,
    Command,
    Comment,
    Create,
    Help,
    Link,
    ListTickets,
    Prefs,
    SetStatus,
    Show,
    Subscribe,
    Unsubscribe,
    UserRef,
    Who,
)

KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
TICKET_REF = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-(\d+)$")
USER_MENTION = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|([^>]*))?>$")

STATUSES = {
    "todo": "todo", "to do": "todo", "open": "todo", "reopen": "todo", "backlog": "todo",
    "in progress": "in_progress", "in_progress": "in_progress", "in-progress": "in_progress",
    "inprogress": "in_progress", "progress": "in_progress", "doing": "in_progress", "wip": "in_progress",
    "started": "in_progress", "start": "in_progress",
    "in review": "in_review", "in_review": "in_review", "in-review": "in_review", "review": "in_review",
    "done": "done", "closed": "done", "close": "done", "resolved": "done", "fixed": "done",
    "canceled": "canceled", "cancelled": "canceled", "cancel": "canceled", "wontfix": "canceled",
}  # fmt: skip
NOTIFICATION_TYPES = ("ticket_assigned", "comment_added", "status_changed", "mention", "custom")
DESTINATIONS = ("web", "slack", "discord")
MODES = {"immediate": "immediate", "on": "immediate", "now": "immediate", "digest": "digest",
         "daily": "digest", "off": "off", "none": "off"}  # fmt: skip


class ParseError(ValueError):
    """The command could not be understood; `str(error)` is the helpful answer to show."""


USAGE = {
    "create": "`create [KEY] <title>` — e.g. `create OPS Pager fires twice` (no title: a form)",
    "list": "`list [KEY|mine]` — open tickets of a project, or the ones assigned to you",
    "show": "`show KEY-N` — e.g. `show OPS-12`",
    "assign": "`assign KEY-N @user|me|nobody` — e.g. `assign OPS-12 me`",
    "status": "`status KEY-N <status>` — todo, in progress, in review, done, canceled",
    "comment": "`comment KEY-N <text>`",
    "who": "`who [KEY]` — who is online and who works on what",
    "link": "`link CODE` — link your chat account (get a code on the board: Profile → Chat accounts)",
    "subscribe": "`subscribe KEY [events…] [label:x] [format:compact|detailed] [summary:on] [mentions:off]` "
    "— relay here",
    "unsubscribe": "`unsubscribe [KEY]` — stop relaying a project (or all of yours) into this channel",
    "prefs": "`prefs` · `prefs comment_added slack off` · `prefs quiet 22:00-08:00 Europe/Berlin`",
    "help": "`help [command]`",
}
HELP_TEXT = "Commands of `/ticket`:\n" + "\n".join(f"• {line}" for line in USAGE.values())


def _fail(verb: str, problem: str) -> ParseError:
    return ParseError(f"{problem}\nUsage: {USAGE[verb]}")


def parse_user(text: str) -> UserRef:
    text = text.strip()
    lowered = text.lower()
    if lowered in ("me", "@me", "myself"):
        return UserRef("me")
    if lowered in ("nobody", "none", "@nobody", "unassigned", "-"):
        return UserRef("nobody")
    if match := USER_MENTION.match(text):
        return UserRef("chat", match.group(1), match.group(2) or "")
    if match := re.match(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$", text):  # Slack escapes emails this way
        return UserRef("text", match.group(1))
    return UserRef("text", text.lstrip("@"))


def parse_status(text: str) -> str:
    name = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if name in STATUSES:
        return STATUSES[name]
    if name.replace(" ", "") in STATUSES:
        return STATUSES[name.replace(" ", "")]
    raise _fail("status", f"I don't know the status {text.strip()!r}.")


def _ticket_ref(verb: str, token: str | None) -> str:
    if token is None:
        raise _fail(verb, "Which ticket?")
    if not TICKET_REF.match(token):
        raise _fail(verb, f"{token!r} is not a ticket key like OPS-12.")
    return token.upper()


def _project_key(verb: str, token: str) -> str:
    if not KEY.match(token.upper()):
        raise _fail(verb, f"{token!r} is not a project key like OPS.")
    return token.upper()


def parse(text: str) -> Command:
    """Parse the text after `/ticket` (an empty text is `help`)."""
    words = text.strip().split()
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    rest = text.strip()[len(words[0]) :].strip()
    handler = _HANDLERS.get(verb)
    if handler is None:
        raise ParseError(f"I don't know `{words[0]}`.\n{HELP_TEXT}")
    return handler(args, rest)


def _create(args: list[str], rest: str) -> Command:
    if args and KEY.match(args[0]):
        return Create(title=" ".join(args[1:]), project_key=args[0], text=rest)
    return Create(title=rest, project_key=None, text=rest)


def _list(args: list[str], rest: str) -> Command:
    if not args:
        return ListTickets()
    if len(args) > 1:
        raise _fail("list", "Give at most one project key, or `mine`.")
    if args[0].lower() == "mine":
        return ListTickets(mine=True)
    return ListTickets(project_key=_project_key("list", args[0]))


def _show(args: list[str], rest: str) -> Command:
    if len(args) > 1:
        raise _fail("show", "Give one ticket key.")
    return Show(_ticket_ref("show", args[0] if args else None))


def _assign(args: list[str], rest: str) -> Command:
    ref = _ticket_ref("assign", args[0] if args else None)
    who = " ".join(args[1:])
    if not who:
        raise _fail("assign", "To whom? Name someone, `me` or `nobody`.")
    return Assign(ref, parse_user(who))


def _status(args: list[str], rest: str) -> Command:
    ref = _ticket_ref("status", args[0] if args else None)
    if len(args) < 2:
        raise _fail("status", "Which status?")
    return SetStatus(ref, parse_status(" ".join(args[1:])))


def _comment(args: list[str], rest: str) -> Command:
    ref = _ticket_ref("comment", args[0] if args else None)
    body = rest[len(args[0]) :].strip() if args else ""
    if not body:
        raise _fail("comment", "The comment is empty.")
    return Comment(ref, body)


def _who(args: list[str], rest: str) -> Command:
    if len(args) > 1:
        raise _fail("who", "Give at most one project key.")
    return Who(_project_key("who", args[0]) if args else None)


def _link(args: list[str], rest: str) -> Command:
    if len(args) > 2:
        raise _fail("link", "Give just the code, like `link ABCD-EFGH`.")
    return Link("".join(args) if args else None)


def _subscribe(args: list[str], rest: str) -> Command:
    if not args:
        raise _fail("subscribe", "Which project?")
    key = _project_key("subscribe", args[0])
    kinds: list[str] = []
    labels: list[str] = []
    fmt, summary = "compact", False
    mentions: bool | None = None
    for token in " ".join(args[1:]).replace(",", " ").split():
        name, sep, value = token.partition(":")
        if sep and name.lower() == "label" and value:
            labels.append(value)
        elif sep and name.lower() == "format":
            if value.lower() not in ("compact", "detailed"):
                raise _fail("subscribe", "The format is `compact` or `detailed`.")
            fmt = value.lower()
        elif sep and name.lower() == "summary":
            summary = value.lower() in ("on", "yes", "true", "1")
        elif sep and name.lower() == "mentions":
            mentions = value.lower() in ("on", "yes", "true", "1")
        elif sep:
            raise _fail("subscribe", f"I don't know the option {token!r}.")
        else:
            kinds.append(token.lower())
    return Subscribe(key, tuple(kinds) or None, tuple(labels), fmt, summary, mentions)


def _unsubscribe(args: list[str], rest: str) -> Command:
    if len(args) > 1:
        raise _fail("unsubscribe", "Give at most one project key.")
    return Unsubscribe(_project_key("unsubscribe", args[0]) if args else None)


def _prefs(args: list[str], rest: str) -> Command:
    if not args:
        return Prefs()
    if args[0].lower() == "quiet":
        return _quiet(args[1:])
    kind = args[0].lower()
    if kind not in NOTIFICATION_TYPES:
        raise _fail("prefs", f"Unknown notification type {args[0]!r}; use " + ", ".join(NOTIFICATION_TYPES))
    if len(args) == 2:
        destination, mode = None, args[1]
    elif len(args) == 3:
        destination, mode = args[1].lower(), args[2]
        if destination not in DESTINATIONS:
            raise _fail("prefs", f"Unknown destination {args[1]!r}; use web, slack or discord.")
    else:
        raise _fail("prefs", "Say a notification type, optionally a destination, and a mode.")
    if mode.lower() not in MODES:
        raise _fail("prefs", f"Unknown mode {mode!r}; use immediate, digest or off.")
    return Prefs(kind, destination, MODES[mode.lower()])


def _quiet(args: list[str]) -> Command:
    if len(args) == 1 and args[0].lower() == "off":
        return Prefs(quiet_off=True)
    match = re.match(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$", args[0]) if args else None
    if not match or len(args) > 2:
        raise _fail("prefs", "Quiet hours look like `prefs quiet 22:00-08:00 [Europe/Berlin]` or `off`.")
    start, end = (value.zfill(5) for value in match.groups())
    return Prefs(quiet=(start, end, args[1] if len(args) == 2 else None))


def _help(args: list[str], rest: str) -> Command:
    return Help(args[0].lower() if args else None)


_HANDLERS = {
    "create": _create, "new": _create, "list": _list, "ls": _list, "show": _show, "view": _show,
    "assign": _assign, "status": _status, "move": _status, "comment": _comment, "who": _who,
    "link": _link, "subscribe": _subscribe, "unsubscribe": _unsubscribe, "prefs": _prefs,
    "preferences": _prefs, "help": _help,
}  # fmt: skip

__all__ = [
    "HELP_TEXT",
    "USAGE",
    "Assign",
    "Command",
    "Comment",
    "Create",
    "Help",
    "Link",
    "ListTickets",
    "ParseError",
    "Prefs",
    "SetStatus",
    "Show",
    "Subscribe",
    "Unsubscribe",
    "UserRef",
    "Who",
    "parse",
]
