"""Standard Webhooks signing: endpoint secrets and the ``webhook-*`` request headers.

Each delivery is signed with HMAC-SHA256 over ``"{msg_id}.{timestamp}.{body}"`` using the endpoint secret,
as the Standard Webhooks spec requires, so receivers can use any spec-compliant library to verify us.

Secrets look like ``whsec_<base64>``; the HMAC key is the base64-decoded part. During secret rotation the
old and the new secret are both passed to :func:`sign`, which emits one ``v1,<sig>`` entry per secret in the
space-separated ``webhook-signature`` header, so receivers holding either secret keep verifying.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Sequence
from functools import lru_cache

SECRET_PREFIX = "whsec_"
"""Prefix of every endpoint secret, as in the spec's reference libraries."""

SECRET_BYTES = 24
"""Random bytes per generated secret (192 bits; the spec asks for 24 to 64)."""

SIGNATURE_VERSION = "v1"
"""Signature scheme identifier for HMAC-SHA256 in the ``webhook-signature`` header."""

USER_AGENT = "Switchboard-Webhooks/1"
"""``user-agent`` sent with every delivery so receivers can recognise and allow-list us."""


def generate_secret() -> str:
    """Return a fresh endpoint secret ``whsec_<base64 of 24 random bytes>`` from a CSPRNG."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode("ascii")


@lru_cache(maxsize=4096)
def decode_secret(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret; raise ``ValueError`` if it is malformed.

    Malformed secrets are rejected rather than used as-is so that a misconfigured endpoint fails loudly
    instead of sending signatures no receiver can verify. Keys are cached: every delivery to an
    endpoint is signed with the same one or two secrets.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"webhook secret must start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64 after the whsec_ prefix") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return one ``v1,<base64 HMAC-SHA256>`` entry for ``key``."""
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.digest(key, signed_content, hashlib.sha256)  # one-shot, in C
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` header value: one space-separated ``v1,<sig>`` per secret.

    ``secrets`` is a sequence (not a single string) so that rotation, where the old and new secret both
    sign for a grace period, is the normal case rather than a special one. ``timestamp`` is Unix seconds.
    """
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    if not secrets:
        raise ValueError("at least one webhook secret is required to sign")
    return " ".join(_signature(decode_secret(secret), msg_id, timestamp, body) for secret in secrets)


def build_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return every header of a signed delivery: the three ``webhook-*`` ones, content type and user agent."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
