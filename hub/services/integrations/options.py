"""The options each kind of integration takes, their defaults and their checks.

github:       close_status (default `done`): where "fixes KEY-N" moves a ticket.
alertmanager: severity_map (severity label → priority; default critical→urgent, warning→high,
              info→low; other severities get `medium`), labels (alert label names whose values become
              ticket labels, default none), resolved_status (default `done`), reopen_status (where a
              re-fired group's ticket goes back to, default `todo`).
generic:      none.

Stored options are complete: defaults are filled in when saved, so the view shows what applies.
"""

from __future__ import annotations

from typing import Any

from hub.domain.enums import Priority, Status

KINDS = ("github", "alertmanager", "generic")
DEFAULT_SEVERITY_MAP = {"critical": "urgent", "warning": "high", "info": "low"}
MAX_LABEL_NAMES = 10
MAX_SEVERITIES = 20
_STATUSES = tuple(s.value for s in Status)
_PRIORITIES = tuple(p.value for p in Priority)


def _status(options: dict[str, Any], name: str, default: str, errors: dict[str, str]) -> str:
    value = options.get(name, default)
    if value not in _STATUSES:
        errors[f"options.{name}"] = "must be one of " + ", ".join(_STATUSES)
    return str(value)


def _severity_map(value: object, errors: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_SEVERITIES:
        errors["options.severity_map"] = f"must map at most {MAX_SEVERITIES} severities to priorities"
        return {}
    for key, priority in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= 50 or priority not in _PRIORITIES:
            errors["options.severity_map"] = "each severity (1-50 characters) maps to one of " + ", ".join(
                _PRIORITIES
            )
            return {}
    return {str(k): str(v) for k, v in value.items()}


def _label_names(value: object, errors: dict[str, str]) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_LABEL_NAMES:
        errors["options.labels"] = f"must list at most {MAX_LABEL_NAMES} alert label names"
        return []
    if not all(isinstance(item, str) and 0 < len(item) <= 100 for item in value):
        errors["options.labels"] = "each alert label name is 1 to 100 characters"
        return []
    return list(dict.fromkeys(value))


def check_options(kind: str, options: object, errors: dict[str, str]) -> dict[str, Any]:
    """The options of `kind`, complete with defaults; problems go into `errors` by field."""
    if not isinstance(options, dict):
        errors["options"] = "must be an object"
        return {}
    known = {
        "github": ("close_status",),
        "alertmanager": ("severity_map", "labels", "resolved_status", "reopen_status"),
        "generic": (),
    }[kind]
    for name in set(options) - set(known):
        errors[f"options.{name}"] = "unknown option for " + kind
    if kind == "github":
        return {"close_status": _status(options, "close_status", Status.DONE, errors)}
    if kind == "alertmanager":
        return {
            "severity_map": _severity_map(options.get("severity_map", DEFAULT_SEVERITY_MAP), errors),
            "labels": _label_names(options.get("labels", []), errors),
            "resolved_status": _status(options, "resolved_status", Status.DONE, errors),
            "reopen_status": _status(options, "reopen_status", Status.TODO, errors),
        }
    return {}
