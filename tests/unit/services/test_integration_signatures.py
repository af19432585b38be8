"""Inbound signatures against the senders' own signing, and the ticket keys a text mentions."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from hub.adapters.webhooks.signing import generate_secret
from hub.domain.identity import Actor
from hub.services.integrations import signatures
from hub.services.integrations.acting import Acting

BODY = b'{"action":"create","title":"x"}'


def test_github_signature_is_the_hex_hmac_of_the_exact_body() -> None:
    secret = "It's a Secret to Everybody"
    given = "sha256=" + hmac.new(secret.encode(), b"Hello, World!", hashlib.sha256).hexdigest()
    # The example of GitHub's "Validating webhook deliveries" page.
    assert given == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signatures.github([secret], {"x-hub-signature-256": given}, b"Hello, World!") is None
    assert signatures.github([secret], {"x-hub-signature-256": given}, b"Hello, World?") is not None
    assert signatures.github(["other", secret], {"x-hub-signature-256": given}, b"Hello, World!") is None
    assert signatures.github([secret], {}, b"Hello, World!") == "missing X-Hub-Signature-256"


def test_bearer_credentials() -> None:
    assert signatures.bearer(["s3cret"], {"authorization": "Bearer s3cret"}) is None
    assert signatures.bearer(["s3cret"], {"authorization": "bearer  s3cret "}) is None
    assert signatures.bearer(["s3cret"], {"authorization": "Basic s3cret"}) is not None
    assert signatures.bearer(["s3cret"], {"authorization": "Bearer nope"}) is not None


def test_standard_webhooks_as_the_reference_library_signs() -> None:
    secret, now = generate_secret(), time.time()
    signed = Webhook(secret).sign("msg_1", datetime.fromtimestamp(int(now), UTC), BODY.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now)), "webhook-signature": signed}
    assert signatures.standard_webhooks([secret], headers, BODY, now=now, tolerance=300) is None
    several = {**headers, "webhook-signature": f"v1,bm9wZQ== {signed}"}
    assert signatures.standard_webhooks([secret], several, BODY, now=now, tolerance=300) is None
    assert signatures.standard_webhooks([secret], headers, BODY + b" ", now=now, tolerance=300)
    assert signatures.standard_webhooks([generate_secret()], headers, BODY, now=now, tolerance=300)
    late = signatures.standard_webhooks([secret], headers, BODY, now=now + 301, tolerance=300)
    assert late == "webhook-timestamp is more than 300 s away from now"
    odd = {**headers, "webhook-timestamp": "\uff11\uff12\uff13"}
    assert signatures.standard_webhooks([secret], odd, BODY, now=now, tolerance=300)


def _acting() -> Acting:
    return Acting(1, 1, "OPS", Actor(1, "GitHub", "x@integrations.invalid"), "github", {}, lambda: None)  # type: ignore[arg-type, return-value]


def test_keys_and_closing_keywords() -> None:
    acting = _acting()
    assert acting.keys_in("ops-12-fix", "see OPS-3, OPS-12; XOPS-4 OPS-5x OPS-007") == [
        "OPS-12",
        "OPS-3",
        "OPS-7",
    ]
    text = "Fixes: OPS-1, OPS-2 and OPS-3. closes ops-4; resolved OPS-5; refs OPS-6; prefixes OPS-8"
    assert acting.closed_keys_in(text) == ["OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5"]
    assert acting.closed_keys_in("fix OPS-9", "Close OPS-10") == ["OPS-9", "OPS-10"]
