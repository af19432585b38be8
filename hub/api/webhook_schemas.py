"""Request and response models of the webhook API (they feed /openapi.json too)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from hub.api.schemas import BigRowId, StorableText, Strict
from hub.services.webhooks.messages import WEBHOOK_EVENT_TYPES

DeliveryStatus = Literal["pending", "succeeded", "failed", "dead"]

#: The URL rules the service enforces (`hub.services.webhooks.endpoints.check_url`), as far as a
#: pattern can say them: http or https, a host, no `user:password@`. Beyond the pattern, the host
#: must resolve to a public address (unless WEBHOOK_ALLOW_PRIVATE) and an explicit port must be 1-65535.
URL_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+([/?#]\S*)?\s*$"
URL_RULES = (
    "http(s) URL receiving the POSTs: a host name or address, no credentials; the host must resolve "
    "to public addresses unless the hub sets WEBHOOK_ALLOW_PRIVATE"
)
#: One event type a webhook can subscribe to.
EventType = Annotated[str, Field(json_schema_extra={"enum": list(WEBHOOK_EVENT_TYPES)})]


class WebhookIn(Strict):
    url: str = Field(
        min_length=1, max_length=2048, description=URL_RULES, json_schema_extra={"pattern": URL_PATTERN}
    )
    description: str = Field(default="", max_length=500)
    event_types: list[EventType] | None = Field(
        default=None,
        description="event types to receive (at least one); null (the default) for all of them",
        json_schema_extra={"minItems": 1},
    )
    enabled: bool = True


class WebhookPatch(Strict):
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description=URL_RULES,
        json_schema_extra={"pattern": URL_PATTERN},
    )
    description: str | None = Field(default=None, max_length=500)
    event_types: list[EventType] | None = Field(
        default=None, description="null for all event types", json_schema_extra={"minItems": 1}
    )
    enabled: bool | None = None


class WebhookOut(BaseModel):
    id: int
    project_id: int
    url: str
    description: str
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="until when the secret replaced by the last rotation still signs"
    )
    created_by: int | None = Field(
        description="who made it (kept after they leave the project: webhooks belong to the project)"
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="whsec_… signing secret; shown only now")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class TestOut(BaseModel):
    delivery_id: int
    msg_id: str
    success: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str = Field(description="the first 2 KiB of the receiver's answer")


class DeliveryQuery(StorableText):
    status: DeliveryStatus | None = None
    limit: int = Field(default=20, ge=1, le=100)
    before: BigRowId | None = Field(default=None, description="a delivery id: list older ones")


class AttemptOut(BaseModel):
    id: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_id: int | None
    event_type: str
    msg_id: str = Field(description="the webhook-id header; the same on every attempt")
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    payload: dict[str, object]
    attempts: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None


class ReplayIn(Strict):
    since: datetime = Field(
        description="queue again what failed among deliveries created since then (UTC when no offset)"
    )

    @field_validator("since")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        """In UTC; a moment that is no date in UTC (year 1 at +01:00) is a 422, not an overflow."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("must fall between the years 1 and 9999 in UTC") from None


class ReplayOut(BaseModel):
    requeued: int
