"""Prometheus metrics at `/metrics`.

The hot paths (fan-out, socket queues) only bump plain integers in a stats dict; a collector turns
them into metrics when Prometheus scrapes, so observing costs nothing per delivered message. HTTP
requests and fan-out latency use real histograms, observed once per request and once per event;
webhook attempts and chat relay lag (`consumers`) once per attempt and once per relayed event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.observability.consumers import ChatMetrics, WebhookMetrics

#: stats key → (metric name, help)
COUNTERS = {
    "events_published": ("switchboard_events_published_total", "Events put on the bus after commit."),
    "events_delivered": ("switchboard_events_delivered_total", "Events handed to this process's sockets."),
    "events_recovered": ("switchboard_events_recovered_total", "Events read from the outbox, not the bus."),
    "events_replayed": ("switchboard_events_replayed_total", "Events replayed to resuming sockets."),
    "messages_sent": ("switchboard_socket_messages_total", "Messages queued to sockets."),
    "publish_failures": ("switchboard_publish_failures_total", "Publishes that failed (bus down)."),
    "slow_consumer_closes": ("switchboard_slow_consumer_closes_total", "Sockets closed for falling behind."),
    "ping_timeouts": ("switchboard_ping_timeouts_total", "Sockets closed for not answering pings."),
    "gap_fetches": ("switchboard_gap_fetches_total", "Gaps in the event stream filled from the outbox."),
}


class StatsCollector(Collector):
    """Exposes counters kept as plain ints, plus gauges computed at scrape time."""

    def __init__(self, stats: dict[str, int], gauges: Callable[[], dict[str, dict[str, float]]]) -> None:
        self.stats = stats
        self.gauges = gauges

    def collect(self) -> Iterable[Any]:
        for key, (name, doc) in COUNTERS.items():
            family = CounterMetricFamily(name.removesuffix("_total"), doc)
            family.add_metric([], float(self.stats.get(key, 0)))
            yield family
        for name, series in self.gauges().items():
            label = "endpoint" if name == "switchboard_open_sockets" else "source"
            gauge = GaugeMetricFamily(name, name.replace("_", " "), labels=[label])
            for value_label, value in series.items():
                gauge.add_metric([value_label], value)
            yield gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "switchboard_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "switchboard_http_request_seconds",
            "HTTP request duration by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.fanout_latency = Histogram(
            "switchboard_fanout_latency_seconds",
            "Time from an event's commit to its hand-off to this process's sockets.",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        #: Observers for the webhook worker and the chat relays (`hub.observability.consumers`).
        self.webhooks = WebhookMetrics(self.registry)
        self.chat = ChatMetrics(self.registry)

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)
