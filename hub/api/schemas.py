"""Request and response models of the REST API; they also feed the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.domain.limits import BIGINT_MAX, INT_MAX, digits_up_to, find_text_problem

StatusName = Literal["todo", "in_progress", "in_review", "done", "canceled"]
PriorityName = Literal["low", "medium", "high", "urgent"]
RoleName = Literal["owner", "admin", "member", "viewer"]


#: The id of a row of an `INTEGER` table (users, projects, tickets, ...), as a body or query field.
RowId = Annotated[int, Field(ge=1, le=INT_MAX)]
#: The id of a row of a `BIGINT` table (events, notifications, deliveries).
BigRowId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
#: JSON Schema `pattern` of text that must not be blank (the services strip it, then check).
NOT_BLANK = r"\S"
#: A project key as sent: letters are upper-cased on the way in, so `ops` creates `OPS`.
KEY_IN = r"^[A-Za-z][A-Za-z0-9]{1,9}$"
#: A project key as stored and returned.
KEY = r"^[A-Z][A-Z0-9]{1,9}$"


def _not_blank() -> dict[str, Any]:
    """`json_schema_extra` that documents (in /openapi.json) that blank text is refused; the service
    checks it."""
    return {"pattern": NOT_BLANK}


class StorableText(BaseModel):
    """Every text field, list item and mapping key is refused (422, naming the field) when the
    database could not store it: NUL characters or lone surrogates (see `hub.domain.limits`)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = find_text_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Strict(StorableText):
    model_config = ConfigDict(extra="forbid")


# --- auth -----------------------------------------------------------------------------------------
class RegisterIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=8, max_length=256)
    name: str = Field(min_length=1, max_length=120)
    invite: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="an invite link's token: sign up (even when ALLOW_SIGNUP is off) and join its project",
    )


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(Strict):
    refresh_token: str | None = Field(default=None, max_length=200)
    everywhere: bool = Field(
        default=False,
        description="end every session of the user, not only this one (and the refresh token's)",
    )


class PasswordChangeIn(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = Field(
        max_length=256, description="8-256 characters, not a common password, not your email or name"
    )


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    expires_in: int


class UserOut(BaseModel):
    id: int
    name: str
    email: str


class MeOut(UserOut):
    is_admin: bool
    created_at: datetime


class AccountOut(UserOut):
    is_admin: bool
    deactivated_at: datetime | None


# --- projects -------------------------------------------------------------------------------------
class ProjectIn(Strict):
    key: str = Field(
        min_length=2,
        max_length=10,
        description="2-10 letters/digits starting with a letter, e.g. OPS; stored upper-cased",
        json_schema_extra={"pattern": KEY_IN},
    )
    name: str = Field(min_length=1, max_length=120, json_schema_extra=_not_blank())
    description: str = Field(default="", max_length=10_000)


class ProjectPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120, json_schema_extra=_not_blank())
    description: str | None = Field(default=None, max_length=10_000)


class ProjectOut(BaseModel):
    id: int
    key: str = Field(pattern=KEY)
    name: str
    description: str
    role: RoleName | None = None
    created_at: datetime
    updated_at: datetime


class ProjectList(BaseModel):
    items: list[ProjectOut]


class RegisteredOut(UserOut):
    project: ProjectOut | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="only with `invite`: the project joined, with your role in it",
    )


class MemberIn(Strict):
    user_id: RowId | None = None
    email: str | None = Field(default=None, max_length=320)
    role: RoleName = "member"


class MemberPatch(Strict):
    role: RoleName


class MemberOut(BaseModel):
    user: UserOut
    user_id: int
    project_id: int
    role: RoleName
    created_at: datetime


class MemberList(BaseModel):
    items: list[MemberOut]


# --- tickets --------------------------------------------------------------------------------------
#: A label: 1-50 characters once stripped.
Label = Annotated[str, Field(min_length=1, max_length=50, json_schema_extra={"pattern": NOT_BLANK})]


class TicketIn(Strict):
    title: str = Field(min_length=1, max_length=200, json_schema_extra=_not_blank())
    description: str = Field(default="", max_length=50_000)
    status: StatusName = "todo"
    priority: PriorityName = "medium"
    assignee_id: RowId | None = None
    labels: list[Label] = Field(default_factory=list, max_length=20)


class TicketPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200, json_schema_extra=_not_blank())
    description: str | None = Field(default=None, max_length=50_000)
    status: StatusName | None = None
    priority: PriorityName | None = None
    assignee_id: RowId | None = None
    labels: list[Label] | None = Field(default=None, max_length=20)
    version: int | None = Field(
        default=None, ge=1, le=INT_MAX, description="the version you edited; stale → 409"
    )


def _statuses_pattern() -> str:
    names = "|".join(get_args(StatusName))
    return rf"^ *({names}) *(, *({names}) *)*$"


class TicketQuery(StorableText):
    status: str | None = Field(
        default=None,
        max_length=200,
        description="a status, or several separated by commas",
        json_schema_extra={"pattern": _statuses_pattern()},
    )
    assignee: str | None = Field(
        default=None,
        max_length=10,
        description=f"a user id (1 to {INT_MAX}), `me` or `none`",
        json_schema_extra={"pattern": rf"^(me|none|{digits_up_to(INT_MAX)})$"},
    )
    label: str | None = Field(default=None, max_length=50)
    q: str | None = Field(default=None, max_length=200, description="text in title or description")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200, description="`next_cursor` of the previous page")


class TicketOut(BaseModel):
    id: int
    key: str
    number: int
    project_id: int
    title: str
    description: str
    status: StatusName
    priority: PriorityName
    assignee: UserOut | None
    reporter: UserOut
    labels: list[str]
    watchers: list[int]
    created_at: datetime
    updated_at: datetime
    version: int


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


# --- comments -------------------------------------------------------------------------------------
class CommentIn(Strict):
    body: str = Field(min_length=1, max_length=10_000, json_schema_extra=_not_blank())


class CommentOut(BaseModel):
    id: int
    ticket_id: int
    author: UserOut
    body: str
    origin: str
    edited: bool
    created_at: datetime
    updated_at: datetime


class CommentList(BaseModel):
    items: list[CommentOut]


# --- notifications and events ---------------------------------------------------------------------
class NotificationQuery(StorableText):
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    before: BigRowId | None = Field(default=None, description="a notification id: list older ones")


class NotificationOut(BaseModel):
    id: int
    notification_type: str
    title: str
    message: str
    timestamp: datetime
    ticket_id: int | None
    project_id: int | None
    event_id: int | None
    read: bool


class NotificationList(BaseModel):
    items: list[NotificationOut]
    unread_count: int
    next_before: int | None


Mode = Literal["immediate", "digest", "off"]


class DestinationModes(Strict):
    web: Mode | None = None
    slack: Mode | None = None
    discord: Mode | None = None


class QuietHours(Strict):
    enabled: bool | None = None
    start: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    end: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    timezone: str | None = Field(default=None, description="IANA time zone, e.g. Europe/Berlin")


class PreferencesIn(Strict):
    types: dict[str, DestinationModes] | None = Field(
        default=None,
        description="notification type (ticket_assigned, comment_added, status_changed, mention, custom) "
        "→ destination → mode",
    )
    quiet_hours: QuietHours | None = None


class PreferencesOut(BaseModel):
    types: dict[str, dict[str, Mode]]
    quiet_hours: dict[str, object]


class ReadAllOut(BaseModel):
    updated: int


class EventQuery(StorableText):
    after: int = Field(default=0, ge=0, le=BIGINT_MAX, description="an event id: list newer ones")
    before: int | None = Field(
        default=None,
        ge=1,
        le=BIGINT_MAX,
        description="an event id: list older ones instead (newest first, above `after`)",
    )
    limit: int = Field(default=100, ge=1, le=500)


class EventOut(BaseModel):
    id: int
    project_id: int | None
    actor_id: int | None
    type: str
    payload: dict[str, object]
    created_at: datetime


class EventList(BaseModel):
    items: list[EventOut]
    next_after: int
    #: With `before`: the `before` of the next (older) page, or null at the beginning of the feed.
    next_before: int | None = None


class LabelCount(BaseModel):
    name: str
    count: int


class LabelList(BaseModel):
    items: list[LabelCount]


class TimelineQuery(StorableText):
    before: BigRowId | None = Field(default=None, description="an event id: list older ones")
    limit: int = Field(default=50, ge=1, le=200)


class TimelineActor(BaseModel):
    id: int
    name: str


class TimelineComment(BaseModel):
    id: int | None
    excerpt: str = Field(description="the start of the comment's body, on one line")


class TimelineItem(BaseModel):
    id: int
    type: str
    created_at: datetime
    actor: TimelineActor | None
    origin: str | None
    changes: dict[str, list[Any]] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="field → [old, new], when the event has them",
    )
    comment: TimelineComment | None = Field(
        default=None, exclude_if=lambda value: value is None, description="comment events: which comment"
    )


class Timeline(BaseModel):
    items: list[TimelineItem]
    #: The `before` of the next (older) page, or null at the ticket's first event.
    next_before: int | None


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody
