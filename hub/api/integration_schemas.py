"""Request and response models of the integrations API (they feed /openapi.json too)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.api.schemas import BigRowId, StorableText, Strict

Kind = Literal["github", "alertmanager", "generic"]
Verdict = Literal[
    "processing", "processed", "ignored", "invalid", "failed", "duplicate", "rejected", "disabled"
]
OPTIONS = (
    "github: close_status; alertmanager: severity_map, labels, resolved_status, reopen_status; "
    "generic: none (docs/integrations.md)"
)


class IntegrationIn(Strict):
    kind: Kind
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="default: GitHub or Alertmanager"
    )
    options: dict[str, Any] = Field(default_factory=dict, description=OPTIONS)


class IntegrationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    options: dict[str, Any] | None = Field(default=None, description=OPTIONS + "; replaced whole")
    enabled: bool | None = None


class IntegrationOut(BaseModel):
    id: int
    project_id: int
    kind: Kind
    name: str
    options: dict[str, Any]
    enabled: bool
    url: str = Field(description="where the sender posts: PUBLIC_URL/hooks/{id}")
    user_id: int = Field(description="the hub user the integration acts as")
    previous_secret_expires_at: datetime | None = Field(
        description="until when the secret replaced by the last rotation still verifies"
    )
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class IntegrationWithSecretOut(IntegrationOut):
    secret: str = Field(description="whsec_… secret; shown only now")


class IntegrationList(BaseModel):
    items: list[IntegrationOut]


class IntegrationDeliveryQuery(StorableText):
    verdict: Verdict | None = None
    limit: int = Field(default=20, ge=1, le=100)
    before: BigRowId | None = Field(default=None, description="a delivery id: list older ones")


class IntegrationDeliveryOut(BaseModel):
    id: int
    integration_id: int
    delivery_key: str | None = Field(description="the sender's delivery id, while it is claimed")
    event: str
    verdict: Verdict
    status_code: int = Field(description="what the sender was answered")
    summary: str = Field(description="what the delivery did, or why it did nothing")
    body: str = Field(description="the first 2 KiB of the request body")
    received_at: datetime
    finished_at: datetime | None


class IntegrationDeliveryList(BaseModel):
    items: list[IntegrationDeliveryOut]
    next_before: int | None


class HookReply(BaseModel):
    delivery_id: int
    verdict: Verdict
    summary: str
