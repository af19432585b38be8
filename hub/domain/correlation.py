"""The id of the request a piece of work belongs to, carried to everything the request causes.

A transport sets it when a request arrives (`hub/api/observe.py`, from `X-Request-ID` or generated);
log lines read it (`hub/observability/logs.py`) and so do the events the request writes (their
`request_id` column, `hub/adapters/db/uow.py`), so one id links a request's log lines to its events.
It lives in the domain because both the adapters and observability need it and the adapters may not
import observability; it is a plain context variable, so it imports nothing.
"""

from __future__ import annotations

import contextvars

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
