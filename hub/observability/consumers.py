"""Metrics of the outbox's other consumers: webhook deliveries and the chat relays.

Each class implements the small observer protocol its consumer declares, so the webhook worker and
the relays never import a metrics library (or Quart); `create_app` hands them these objects.

* `WebhookMetrics` is a `hub.webhooks.observe.DeliveryObserver`: attempts by outcome, and their lag
  from the event's commit to the attempt's end.
* `ChatMetrics` is a `bots.relay.RelayObserver`: how long after an event (or notification) the chat
  relay (or DM sender) of each platform had it out.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from hub.webhooks.observe import OUTCOMES

#: Webhook lag runs from milliseconds (the first attempt) to hours (retries after an outage).
WEBHOOK_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)
#: The relay coalesces changes (1 s pacing) and polls every 2 s without a bus.
CHAT_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900)
CHAT_LABELS = ("platform", "kind")


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "switchboard_webhook_attempts",
            "Webhook delivery attempts by outcome: succeeded, retrying, failed (given up), dead (410).",
            ["outcome"],
            registry=registry,
        )
        self.lag = Histogram(
            "switchboard_webhook_delivery_lag_seconds",
            "Time from an event's commit to the end of a delivery attempt for it, by outcome.",
            ["outcome"],
            registry=registry,
            buckets=WEBHOOK_LAG_BUCKETS,
        )
        for outcome in OUTCOMES:  # every series exists from the start, at zero
            self.attempts.labels(outcome)
            self.lag.labels(outcome)

    def attempted(self, outcome: str, lag_seconds: float | None) -> None:
        self.attempts.labels(outcome).inc()
        if lag_seconds is not None:
            self.lag.labels(outcome).observe(max(0.0, lag_seconds))


class ChatMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Histogram(
            "switchboard_chat_relay_lag_seconds",
            "Time from an event (kind=relay) or notification (kind=dm) to the chat platform having it.",
            CHAT_LABELS,
            registry=registry,
            buckets=CHAT_LAG_BUCKETS,
        )

    def relayed(self, platform: str, kind: str, lag_seconds: float) -> None:
        self.lag.labels(platform, kind).observe(max(0.0, lag_seconds))
