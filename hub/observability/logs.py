"""Logging: plain text or JSON lines (`LOG_FORMAT=json`), with the request id on every line.

The request id comes from an incoming `X-Request-ID` header or is generated; it is kept in a context
variable (`hub/domain/correlation.py`), so log lines and the events a request writes (their `request_id`
column) carry it. Tokens never reach a log line: `token=` query parameters are redacted.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from hub.domain.correlation import request_id

_TOKEN = re.compile(r"((?:^|[?&])(?:token|access_token|refresh_token)=)[^&\s]*", re.IGNORECASE)
_BEARER = re.compile(r"(bearer[ .])[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Remove tokens from a URL, query string or header value."""
    return _BEARER.sub(r"\1[redacted]", _TOKEN.sub(r"\1[redacted]", text))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.msg = redact(str(record.msg)) if isinstance(record.msg, str) else record.msg
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if rid := getattr(record, "request_id", None):  # set by _RequestIdFilter
            entry["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms", "event_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        rid = getattr(record, "request_id", None)
        return f"{line} [{rid}]" if rid else line


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_switchboard", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._switchboard = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("hypercorn.access").disabled = True
    # Hypercorn's "Running on …" is INFO; `switchboard serve` prints one "running at" line itself.
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    logging.getLogger("hypercorn.error").setLevel(quiet)
    # Alembic lists its autogenerate plugins at INFO when it is imported: chatter in every start-up.
    logging.getLogger("alembic.runtime.plugins").setLevel(quiet)
