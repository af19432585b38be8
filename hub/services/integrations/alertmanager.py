"""Alertmanager's webhook (payload version 4): one ticket per alert group.

* A `firing` group with no ticket opens one: the title is `commonAnnotations.summary` (else the
  alertname and the group labels), the priority comes from the `severity` label through
  `options.severity_map`, the labels from the alert labels named in `options.labels`, the description
  lists the alerts with their links. The group key is the ticket's external id, so Alertmanager's
  re-sends (every `repeat_interval`, or after a failed attempt) update the same ticket.
* Later `firing` notifications of the group comment on alerts not seen before (by fingerprint); alerts
  already seen change nothing.
* `resolved` comments and moves the ticket to `options.resolved_status`.
* A group firing again after it was resolved moves its ticket back to `options.reopen_status` with a
  comment.
"""

from __future__ import annotations

from typing import Any

from hub.domain.errors import ValidationFailed
from hub.services.integrations import links
from hub.services.integrations.acting import Acting, Outcome, clip

MAX_DESCRIPTION = 10_000
MAX_ALERTS_LISTED = 20


def _labels(alert: dict[str, Any], name: str) -> dict[str, str]:
    value = alert.get(name)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def check(payload: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """(groupKey, status, alerts) of a version 4 payload; ValidationFailed naming what is wrong."""
    errors: dict[str, str] = {}
    if str(payload.get("version", "4")) != "4":
        errors["version"] = "only Alertmanager webhook payload version 4 is understood"
    group_key = payload.get("groupKey")
    if not isinstance(group_key, str) or not group_key:
        errors["groupKey"] = "required"
    status = payload.get("status")
    if status not in ("firing", "resolved"):
        errors["status"] = "must be firing or resolved"
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        errors["alerts"] = "must be a list of alerts"
    if errors:
        raise ValidationFailed("not an Alertmanager notification", fields=errors)
    return str(group_key), str(status), list(alerts or [])


def delivery_key(payload: dict[str, Any]) -> str:
    """groupKey + status + the latest startsAt/endsAt: a re-send of the same news is the same key."""
    group_key, status, alerts = check(payload)
    stamps = [str(a.get(k) or "") for a in alerts for k in ("startsAt", "endsAt")]
    return links.hashed("am", f"{group_key}\x00{status}\x00{max(stamps, default='')}")


def _title(payload: dict[str, Any]) -> str:
    annotations = _labels(payload, "commonAnnotations")
    if summary := annotations.get("summary") or annotations.get("title"):
        return clip(summary, 200)
    group = _labels(payload, "groupLabels")
    common = _labels(payload, "commonLabels")
    name = group.pop("alertname", None) or common.get("alertname") or "Alert"
    extra = ", ".join(f"{k}={v}" for k, v in sorted(group.items()))
    return clip(f"{name} ({extra})" if extra else name, 200)


def _alert_line(alert: dict[str, Any]) -> str:
    labels = _labels(alert, "labels")
    annotations = _labels(alert, "annotations")
    name = labels.pop("alertname", "alert")
    where = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "severity")
    text = annotations.get("description") or annotations.get("summary") or ""
    line = f"- {name}" + (f" {{{clip(where, 300)}}}" if where else "")
    line += f": {clip(text, 300)}" if text else ""
    line += f" (since {alert.get('startsAt')})" if alert.get("startsAt") else ""
    if url := alert.get("generatorURL"):
        line += f" {url}"
    return line


def _alert_list(alerts: list[dict[str, Any]]) -> str:
    lines = [_alert_line(a) for a in alerts[:MAX_ALERTS_LISTED]]
    if len(alerts) > MAX_ALERTS_LISTED:
        lines.append(f"… and {len(alerts) - MAX_ALERTS_LISTED} more")
    return "\n".join(lines)


def _fingerprint(alert: dict[str, Any]) -> str:
    given = alert.get("fingerprint")
    if isinstance(given, str) and given:
        return given
    return links.hashed("labels", repr(sorted(_labels(alert, "labels").items())))


def _new_ticket(acting: Acting, payload: dict[str, Any], firing: list[dict[str, Any]]) -> dict[str, Any]:
    common = _labels(payload, "commonLabels")
    first = _labels(firing[0], "labels") if firing else {}
    severity = common.get("severity") or first.get("severity") or ""
    priority = dict(acting.options.get("severity_map") or {}).get(severity, "medium")
    labels = []
    for name in acting.options.get("labels") or []:
        value = common.get(name) or first.get(name)
        if value and value.strip():
            labels.append(clip(value, 50))
    description = f"Alertmanager: {len(firing)} firing alert{'s' if len(firing) != 1 else ''}\n"
    description += _alert_list(firing)
    if url := payload.get("externalURL"):
        description += f"\n{url}"
    return {
        "title": _title(payload),
        "description": description[:MAX_DESCRIPTION],
        "priority": priority,
        "labels": labels,
    }


async def handle(acting: Acting, payload: dict[str, Any]) -> Outcome:
    group_key, status, alerts = check(payload)
    external = links.hashed("alertmanager", group_key)
    outcome = Outcome()
    if status == "firing":
        await _firing(acting, payload, external, alerts, outcome)
    else:
        await _resolved(acting, external, alerts, outcome)
    return outcome


async def _firing(
    acting: Acting, payload: dict[str, Any], external: str, alerts: list[dict[str, Any]], outcome: Outcome
) -> None:
    firing = [a for a in alerts if a.get("status", "firing") == "firing"]
    prints = [_fingerprint(a) for a in firing]
    link = await links.claim(acting.uow(), acting.integration_id, external)
    if link is None:
        outcome.note("another delivery is opening this group's ticket")
        return
    if link.new:
        try:
            ticket = await acting.create(**_new_ticket(acting, payload, firing))
        except BaseException:
            await links.release(acting.uow(), link.id)
            raise
        state = {"status": "firing", "fingerprints": prints}
        await links.save(acting.uow(), link.id, ticket_id=ticket["id"], state=state)
        outcome.note(f"opened {ticket['key']}", changed=True)
        return
    assert link.ticket_id is not None
    seen = [str(p) for p in link.state.get("fingerprints") or []]
    if link.state.get("status") == "resolved":
        await acting.move(link.ticket_id, str(acting.options.get("reopen_status", "todo")), outcome)
        await acting.comment(link.ticket_id, "Firing again:\n" + _alert_list(firing))
        outcome.note("commented: firing again", changed=True)
        await links.save(
            acting.uow(),
            link.id,
            ticket_id=link.ticket_id,
            state={"status": "firing", "fingerprints": prints},
        )
        return
    new = [a for a, p in zip(firing, prints, strict=True) if p not in seen]
    if not new:
        outcome.note("no new alerts in the group")
        return
    count = f"{len(new)} new alert{'s' if len(new) != 1 else ''}"
    await acting.comment(link.ticket_id, f"{count} firing:\n" + _alert_list(new))
    outcome.note(f"commented: {count}", changed=True)
    state = {"status": "firing", "fingerprints": list(dict.fromkeys([*seen, *prints]))}
    await links.save(acting.uow(), link.id, ticket_id=link.ticket_id, state=state)


async def _resolved(acting: Acting, external: str, alerts: list[dict[str, Any]], outcome: Outcome) -> None:
    link = await links.find(acting.uow(), acting.integration_id, external)
    if link is None or link.ticket_id is None:
        outcome.note("no ticket for this group")
        return
    if link.state.get("status") == "resolved":
        outcome.note("already resolved")
        return
    await acting.comment(link.ticket_id, "Resolved:\n" + _alert_list(alerts))
    outcome.note("commented: resolved", changed=True)
    await acting.move(link.ticket_id, str(acting.options.get("resolved_status", "done")), outcome)
    state = {**link.state, "status": "resolved"}
    await links.save(acting.uow(), link.id, ticket_id=link.ticket_id, state=state)
