"""The hub's own view of a benchmark window: fan-out counters read from each hub's `/metrics`.

Read before and after the window (`hub_counters`, then `counter_deltas`): gaps the fan-out filled from
the outbox (a publish that did not arrive within its grace time), events its poll recovered, and the
commit → hand-off latency (`switchboard_fanout_latency_seconds`), which tells the server's share of
the latency the subscribers measured from the rest (socket writes, the load generator).
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from benchlib.targets import Target

HUB_COUNTERS = (
    "switchboard_gap_fetches_total",
    "switchboard_events_recovered_total",
    "switchboard_fanout_latency_seconds_sum",
    "switchboard_fanout_latency_seconds_count",
)


async def hub_counters(hubs: list[Target]) -> list[dict[str, float]]:
    """Per hub, the current values of `HUB_COUNTERS` (summed over labels)."""
    result = []
    async with httpx.AsyncClient(timeout=10) as client:
        for hub in hubs:
            text = (await client.get(f"{hub.server.url}/metrics")).text
            values = dict.fromkeys(HUB_COUNTERS, 0.0)
            for family in text_string_to_metric_families(text):
                for found in family.samples:
                    if found.name in values:
                        values[found.name] += found.value
            result.append(values)
    return result


def counter_deltas(before: list[dict[str, float]], after: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: a[k] - b[k] for k in HUB_COUNTERS} for b, a in zip(before, after, strict=True)]


def fanout_mean_ms(counters: dict[str, float]) -> float:
    """Mean commit → hand-off latency over the window, in ms (NaN without events)."""
    count = counters["switchboard_fanout_latency_seconds_count"]
    return counters["switchboard_fanout_latency_seconds_sum"] / count * 1000 if count else float("nan")
