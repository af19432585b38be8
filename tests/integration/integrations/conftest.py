"""Fixtures for inbound integrations: the hub with their API and receiver, senders that sign exactly as
GitHub, Alertmanager and Standard Webhooks do, and the payloads of their documented formats."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from hub.adapters.db.integration_models import IntegrationDelivery
from hub.config import Settings
from hub.context import HubContext
from tests.conftest import make_settings
from tests.support.api import Api, Reply, User

_ids = itertools.count(1)
#: INTEGRATION_MAX_BODY and INTEGRATION_RATE_LIMIT of these tests.
MAX_BODY = 65_536
RATE = 30


@pytest.fixture
def settings(database: tuple[str, str | None]) -> Settings:
    return make_settings(
        database[0],
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_SCHEDULE="0.05,0.1",
        INTEGRATION_MAX_BODY=str(MAX_BODY),
        INTEGRATION_RATE_LIMIT=f"{RATE}/60",
    )


# --- senders ----------------------------------------------------------------------------------------


def github_request(
    secret: str, event: str, payload: dict[str, Any], delivery: str | None = None
) -> dict[str, Any]:
    """Headers and body as GitHub sends them: the HMAC-SHA256 hex digest of the exact body bytes."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc1234",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "123456",
        "X-Hub-Signature-256": signature,
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
    }
    return {"data": body, "headers": headers}


def alertmanager_request(secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    """As Alertmanager posts with `http_config.authorization.credentials`."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Alertmanager/0.27.0",
        "Authorization": f"Bearer {secret}",
    }
    return {"data": json.dumps(payload).encode(), "headers": headers}


def generic_request(
    secret: str, payload: dict[str, Any], *, msg_id: str | None = None, at: float | None = None
) -> dict[str, Any]:
    """Signed by the Standard Webhooks reference library."""
    body = json.dumps(payload)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    moment = datetime_of(at if at is not None else time.time())
    signature = Webhook(secret).sign(msg_id, moment, body)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
    return {"data": body.encode(), "headers": headers}


def datetime_of(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(seconds), UTC)


# --- payloads (the senders' documented shapes) -------------------------------------------------------


def repository(default_branch: str = "main") -> dict[str, Any]:
    return {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "pager",
        "full_name": "octo/pager",
        "private": False,
        "owner": {"login": "octo", "id": 1, "type": "Organization"},
        "html_url": "https://github.com/octo/pager",
        "default_branch": default_branch,
        "master_branch": default_branch,
    }


def commit(message: str, sha: str | None = None) -> dict[str, Any]:
    sha = sha or hashlib.sha1(f"{message}{next(_ids)}".encode()).hexdigest()
    return {
        "id": sha,
        "tree_id": hashlib.sha1(sha.encode()).hexdigest(),
        "distinct": True,
        "message": message,
        "timestamp": "2026-12-03T14:00:00+01:00",
        "url": f"https://github.com/octo/pager/commit/{sha}",
        "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
        "committer": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
        "added": [],
        "removed": [],
        "modified": ["pager.py"],
    }


def push(branch: str, *commits: dict[str, Any], default_branch: str = "main") -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "before": "0" * 40,
        "after": commits[-1]["id"] if commits else "0" * 40,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": "https://github.com/octo/pager/compare/000000...abcdef",
        "commits": list(commits),
        "head_commit": commits[-1] if commits else None,
        "repository": repository(default_branch),
        "pusher": {"name": "mona", "email": "mona@example.com"},
        "sender": {"login": "mona", "id": 2, "type": "User"},
    }


def pull_request(
    action: str, *, title: str, body: str = "", branch: str = "feature", merged: bool = False
) -> dict[str, Any]:
    return {
        "action": action,
        "number": 42,
        "pull_request": {
            "url": "https://api.github.com/repos/octo/pager/pulls/42",
            "html_url": "https://github.com/octo/pager/pull/42",
            "number": 42,
            "state": "closed" if action == "closed" else "open",
            "title": title,
            "body": body,
            "user": {"login": "mona", "id": 2},
            "merged": merged,
            "merged_by": {"login": "hubot", "id": 3} if merged else None,
            "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6" if merged else None,
            "head": {"ref": branch, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "base": {"ref": "main", "sha": "b0a7e1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"},
        },
        "repository": repository(),
        "sender": {"login": "mona", "id": 2, "type": "User"},
    }


def ping() -> dict[str, Any]:
    return {
        "zen": "Keep it logically awesome.",
        "hook_id": 123456,
        "hook": {"type": "Repository", "id": 123456, "events": ["push", "pull_request"], "active": True},
        "repository": repository(),
        "sender": {"login": "mona", "id": 2},
    }


def alert(
    name: str,
    *,
    status: str = "firing",
    severity: str = "critical",
    instance: str = "db1:9100",
    starts: str = "2026-12-03T14:00:00Z",
    ends: str = "0001-01-01T00:00:00Z",
    fingerprint: str | None = None,
) -> dict[str, Any]:
    labels = {"alertname": name, "severity": severity, "instance": instance, "service": "billing"}
    return {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": f"{name} on {instance}",
            "description": f"{instance} has been down for 5m",
        },
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=up%7Binstance%3D%22{instance}%22%7D",
        "fingerprint": fingerprint or hashlib.sha256(f"{name}{instance}".encode()).hexdigest()[:16],
    }


def notification(
    status: str, *alerts: dict[str, Any], group: str = "InstanceDown", summary: str | None = None
) -> dict[str, Any]:
    """A notification as Alertmanager builds it: common labels and annotations are those every alert
    of the group shares."""
    common_annotations = _common([a["annotations"] for a in alerts])
    if summary:
        common_annotations["summary"] = summary
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity="critical"}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "switchboard",
        "groupLabels": {"alertname": group},
        "commonLabels": _common([a["labels"] for a in alerts]),
        "commonAnnotations": common_annotations,
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


# --- helpers ----------------------------------------------------------------------------------------


async def owner_project(api: Api, key: str = "OPS") -> tuple[User, int]:
    owner = await api.user("Olive Owner")
    project = await api.project(owner, key)
    return owner, int(project["id"])


async def create_integration(
    api: Api, user: User, project_id: int, kind: str, **fields: Any
) -> dict[str, Any]:
    reply = await api.post(
        f"/api/projects/{project_id}/integrations", json={"kind": kind, **fields}, token=user.token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def send(api: Api, integration: dict[str, Any], request: dict[str, Any]) -> Reply:
    return await api.post(f"/hooks/{integration['id']}", data=request["data"], headers=request["headers"])


async def log_of(api: Api, user: User, integration: dict[str, Any]) -> list[dict[str, Any]]:
    reply = await api.get(
        f"/api/integrations/{integration['id']}/deliveries", token=user.token, query={"limit": 100}
    )
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


async def stored_deliveries(context: HubContext) -> list[IntegrationDelivery]:
    async with context.uow() as uow:
        return list(await uow.session.scalars(select(IntegrationDelivery).order_by(IntegrationDelivery.id)))


async def comments_of(api: Api, user: User, key: str) -> list[dict[str, Any]]:
    reply = await api.get(f"/api/tickets/{key}/comments", token=user.token)
    assert reply.status == 200, reply.body
    return list(reply.body if isinstance(reply.body, list) else reply.body["items"])
