"""Request and response models of the webhook API (they feed /openapi.json too)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from hub.api.schemas import Strict

DeliveryStatus = Literal["pending", "succeeded", "failed", "dead"]


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL receiving the POSTs")
    description: str = Field(default="", max_length=500)
    event_types: list[str] | None = Field(
        default=None, description="event types to receive; null (the default) for all of them"
    )
    enabled: bool = True


class WebhookPatch(Strict):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, description="null for all event types")
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


class DeliveryQuery(BaseModel):
    status: DeliveryStatus | None = None
    limit: int = Field(default=20, ge=1, le=100)
    before: int | None = Field(default=None, description="a delivery id: list older ones")


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
    since: datetime = Field(description="queue again what failed among deliveries created since then")


class ReplayOut(BaseModel):
    requeued: int
