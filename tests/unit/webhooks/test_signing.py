"""Signatures must verify with the Standard Webhooks reference library, including during rotation."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hub.adapters.webhooks.signing import (
    USER_AGENT,
    build_headers,
    decode_secret,
    generate_secret,
    sign,
)

BODY = json.dumps({"type": "ticket.created", "data": {"id": "tkt_1", "title": "Printer on fire"}}).encode()
MSG_ID = "msg_2b4f0c9e"


def test_generate_secret_is_whsec_prefixed_base64_of_24_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert generate_secret() != secret


def test_signature_matches_reference_implementation() -> None:
    secret = generate_secret()
    timestamp = 1_614_265_330
    expected = Webhook(secret).sign(MSG_ID, datetime.fromtimestamp(timestamp, UTC), BODY.decode())
    assert sign([secret], MSG_ID, timestamp, BODY) == expected


def test_single_secret_verifies_with_standardwebhooks() -> None:
    secret = generate_secret()
    headers = build_headers([secret], MSG_ID, int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_rotation_signs_with_both_secrets_and_each_verifies_alone() -> None:
    old, new = generate_secret(), generate_secret()
    headers = build_headers([old, new], MSG_ID, int(time.time()), BODY)

    entries = headers["webhook-signature"].split(" ")
    assert len(entries) == 2
    assert all(entry.startswith("v1,") for entry in entries)
    assert Webhook(old).verify(BODY, headers) == json.loads(BODY)
    assert Webhook(new).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_tampered_body_or_id_does_not_verify() -> None:
    secret = generate_secret()
    headers = build_headers([secret], MSG_ID, int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"fire", b"ice!"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_other"})


def test_build_headers_values() -> None:
    secret = generate_secret()
    headers = build_headers([secret], MSG_ID, 1_700_000_000, BODY)
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign([secret], MSG_ID, 1_700_000_000, BODY),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    assert USER_AGENT == "Switchboard-Webhooks/1"


def test_sign_requires_a_sequence_of_secrets() -> None:
    with pytest.raises(ValueError, match="at least one"):
        sign([], MSG_ID, 1, BODY)
    with pytest.raises(TypeError, match="sequence"):
        sign(generate_secret(), MSG_ID, 1, BODY)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("c2VjcmV0", "must start with"),
        ("whsec_not base64!", "not valid base64"),
        ("whsec_", "empty"),
    ],
)
def test_malformed_secrets_are_rejected(secret: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_secret(secret)
    with pytest.raises(ValueError, match=reason):
        sign([secret], MSG_ID, 1, BODY)
