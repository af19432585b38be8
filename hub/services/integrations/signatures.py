"""How each kind of sender proves a request is its own; every comparison is constant-time.

* GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the secret text.
* Alertmanager: `Authorization: Bearer <secret>` (its `http_config.authorization.credentials`).
* Generic: Standard Webhooks, the scheme the hub signs its own webhooks with: `webhook-signature` holds
  space-separated `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` entries,
  keyed by the base64 part of the `whsec_` secret; the timestamp must be within the tolerance.

Each check takes every secret that verifies now (the current one, and the previous one during its
rotation grace) and returns a reason when none matches, or None.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from hub.adapters.webhooks.signing import sign


def github(secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> str | None:
    given = headers.get("x-hub-signature-256", "")
    if not given.startswith("sha256="):
        return "missing X-Hub-Signature-256"
    for secret in secrets:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), given.strip().encode()):
            return None
    return "X-Hub-Signature-256 does not match"


def bearer(secrets: Sequence[str], headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "missing Authorization: Bearer"
    for secret in secrets:
        if hmac.compare_digest(secret.encode(), token.strip().encode()):
            return None
    return "the bearer credentials do not match"


def standard_webhooks(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes, *, now: float, tolerance: int
) -> str | None:
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "").split()
    if not msg_id or not stamp or not given:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return "webhook-timestamp is not Unix seconds"
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return f"webhook-timestamp is more than {tolerance} s away from now"
    for secret in secrets:
        expected = sign([secret], msg_id, timestamp, body).encode()
        if any(hmac.compare_digest(expected, entry.encode()) for entry in given):
            return None
    return "webhook-signature does not match"
