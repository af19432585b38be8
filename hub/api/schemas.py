"""Request and response models of the REST API; they also feed the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StatusName = Literal["todo", "in_progress", "in_review", "done", "canceled"]
PriorityName = Literal["low", "medium", "high", "urgent"]
RoleName = Literal["owner", "admin", "member", "viewer"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth -----------------------------------------------------------------------------------------
class RegisterIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=8, max_length=256)
    name: str = Field(min_length=1, max_length=120)


class LoginIn(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(Strict):
    refresh_token: str | None = Field(default=None, max_length=200)


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


# --- projects -------------------------------------------------------------------------------------
class ProjectIn(Strict):
    key: str = Field(min_length=2, max_length=10, description="2-10 uppercase letters/digits, e.g. OPS")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=10_000)


class ProjectPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=10_000)


class ProjectOut(BaseModel):
    id: int
    key: str
    name: str
    description: str
    role: RoleName | None = None
    created_at: datetime
    updated_at: datetime


class ProjectList(BaseModel):
    items: list[ProjectOut]


class MemberIn(Strict):
    user_id: int | None = None
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
class TicketIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=50_000)
    status: StatusName = "todo"
    priority: PriorityName = "medium"
    assignee_id: int | None = None
    labels: list[str] = Field(default_factory=list, max_length=20)


class TicketPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=50_000)
    status: StatusName | None = None
    priority: PriorityName | None = None
    assignee_id: int | None = None
    labels: list[str] | None = Field(default=None, max_length=20)
    version: int | None = Field(default=None, description="the version you edited; stale → 409")


class TicketQuery(BaseModel):
    status: str | None = Field(default=None, description="a status, or several separated by commas")
    assignee: str | None = Field(default=None, description="a user id, `me` or `none`")
    label: str | None = None
    q: str | None = Field(default=None, max_length=200, description="text in title or description")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


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
    body: str = Field(min_length=1, max_length=10_000)


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
class NotificationQuery(BaseModel):
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = None


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


class EventQuery(BaseModel):
    after: int = Field(default=0, ge=0)
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


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody
